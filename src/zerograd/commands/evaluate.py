"""``zerograd evaluate [RUN]``: test accuracy of a saved net, per class, and its confusion matrix as a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..train import TrainConfig
from . import common
from .common import CommandError
from .outputs import Outputs, dataset_file
from .run_args import checkpoint_path


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="accuracy, per-class accuracy and confusion.png of a checkpoint",
        description="Evaluate a checkpoint on a test set: overall and per-class accuracy, and confusion.png.",
    )
    p.add_argument(
        "checkpoint",
        metavar="RUN",
        nargs="?",
        default=None,
        help="a run folder or a checkpoint written by zerograd train (default: the latest run)",
    )
    p.add_argument(
        "--dataset",
        default=None,
        help="mnist, fashion-mnist, mnist-sample or a PATH.npz (default: the one it was trained on)",
    )
    p.add_argument(
        "--root",
        default=None,
        help="directory of the dataset files (default: the one it was trained with, else the datasets' own)",
    )
    p.add_argument(
        "--split", default="test", choices=["test", "train"], help="which part of the dataset (default: %(default)s)"
    )
    p.add_argument("--out", default=None, help="directory for confusion.png (default: the run's folder)")
    p.add_argument("--overwrite", action="store_true", help="replace a confusion.png already there")
    p.add_argument("--no-plot", action="store_true", help="skip confusion.png")
    p.add_argument(
        "--batch-size",
        type=int,
        default=TrainConfig.eval_batch_size,
        help="samples per forward pass (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from tqdm import tqdm

    common.positive_int(args.batch_size, "--batch-size")
    ckpt_path = checkpoint_path(args.checkpoint, "evaluate")
    out = Path(args.out) if args.out else ckpt_path.parent
    if not args.no_plot:
        Outputs(inputs=[ckpt_path, dataset_file(args.dataset)], overwrite=args.overwrite).folder(
            out, ["confusion.png"], replaces=False
        )
    ckpt = common.load_checkpoint(ckpt_path)
    net = ckpt.net
    spec = args.dataset or ckpt.metadata.get("dataset_spec") or "mnist"
    ds = common.load_data(
        spec, args.root or ckpt.metadata.get("root"), net.dtype.name, max_classes=max(common.net_sizes(net)[1], 1)
    )
    x, t = (ds.x_test, ds.t_test) if args.split == "test" else (ds.x_train, ds.t_train)
    t = np.asarray(t)
    if t.ndim == 2:
        t = np.argmax(t, axis=1)
    features = int(np.prod(x.shape[1:]))
    input_size, n_classes = common.net_sizes(net)
    if features != input_size:
        raise CommandError(f"the net takes {input_size} features per sample but {spec} has {features}")
    if t.size and int(t.max()) >= n_classes:
        raise CommandError(f"{spec} has label {int(t.max())} but the net predicts {n_classes} classes")

    predicted = np.empty(len(x), dtype=np.int64)
    for start in tqdm(range(0, len(x), args.batch_size), unit="batch", leave=False, disable=None):
        predicted[start : start + args.batch_size] = np.argmax(net.predict(x[start : start + args.batch_size]), 1)
    confusion = confusion_matrix(t, predicted, n_classes)

    classes = common.class_names(ckpt.metadata, n_classes, getattr(ds, "classes", ()))
    correct = np.diag(confusion)
    per_class = correct / np.maximum(confusion.sum(axis=1), 1)
    print(f"{ckpt_path}: {net!r}, epoch {ckpt.epoch}, on {getattr(ds, 'name', spec)} ({args.split}, {len(x)} samples)")
    print(f"accuracy {correct.sum() / max(len(x), 1):.4f}")
    width = max(len(c) for c in classes)
    for i, name in enumerate(classes):
        print(f"  {name:<{width}}  {per_class[i]:.4f}  ({correct[i]}/{confusion[i].sum()})")

    if args.no_plot:
        return 0
    from ..plot import plot_confusion, save_figure

    path = out / "confusion.png"
    try:
        save_figure(plot_confusion(confusion, classes, title=f"{getattr(ds, 'name', spec)} {args.split}"), path)
    except OSError as err:
        raise common.write_error(err, path) from None
    print(f"wrote {path}")
    return 0


def confusion_matrix(t: Any, predicted: Any, n_classes: int) -> Any:
    """``(C, C)`` counts: row = true class, column = predicted class."""
    import numpy as np

    return np.bincount(
        np.asarray(t, dtype=np.int64) * n_classes + np.asarray(predicted, dtype=np.int64),
        minlength=n_classes * n_classes,
    ).reshape(n_classes, n_classes)
