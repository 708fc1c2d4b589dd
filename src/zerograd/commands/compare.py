"""``zerograd compare optimizers|init|batchnorm|overfit``: chapter 6's comparisons on real data, as PNGs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..experiments import EXPERIMENTS
from . import common
from .outputs import Outputs, dataset_file

HELP = {
    "optimizers": "SGD, Momentum, AdaGrad, Adam on one [100]*4 net: training loss (book figure 6-9)",
    "init": "initial weights std 0.01, Xavier, He: training loss (figure 6-15)",
    "batchnorm": "batch norm against none at 16 initial scales: training accuracy (figures 6-18, 6-19)",
    "overfit": "300 samples: no remedy, weight decay, dropout: train and test accuracy (figures 6-20 to 6-23)",
}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="chapter 6's comparisons (optimizers, init, batch norm, overfitting) as figures",
        description="Reproduce a chapter-6 comparison of the book on real data and save it as a PNG. "
        + " ".join(f"{name}: {text}." for name, text in HELP.items()),
    )
    p.add_argument("experiment", choices=EXPERIMENTS, help="which comparison")
    p.add_argument(
        "--dataset",
        default=None,
        help="mnist, fashion-mnist, mnist-sample or a PATH.npz (default: MNIST when it is on this "
        "machine, else Fashion-MNIST when it is, else the bundled MNIST sample)",
    )
    p.add_argument("--root", default=None, help="directory of the dataset files (default: the datasets' own)")
    p.add_argument(
        "--iterations", type=int, default=None, help="optimizers/init: mini-batches per run (default: 2000, the book's)"
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="batchnorm/overfit: epochs per run (default: 20 / 201, the book's)"
    )
    p.add_argument(
        "--scales",
        type=int,
        default=16,
        help="batchnorm: weight scales from 1 to 1e-4 (default: %(default)s, the book's)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and batches (default: %(default)s)")
    p.add_argument("--out", default=None, help="the PNG to write (default: EXPERIMENT.png)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(command="compare")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import experiments
    from ..plot import save_figure

    for flag in ("iterations", "epochs", "scales"):
        value = getattr(args, flag)
        if value is not None:
            common.positive_int(value, f"--{flag}")
    common.seed(args.seed)
    out = Outputs(inputs=[dataset_file(args.dataset)], overwrite=args.overwrite).file(
        Path(args.out or f"{args.experiment}.png")
    )
    ds = _dataset(args)
    x, t = ds.x_train.reshape(len(ds.x_train), -1), ds.t_train
    started = time.perf_counter()
    if args.experiment == "optimizers":
        result = experiments.compare_optimizers(x, t, iterations=args.iterations or 2000, seed=args.seed)
    elif args.experiment == "init":
        result = experiments.compare_init(x, t, iterations=args.iterations or 2000, seed=args.seed)
    elif args.experiment == "batchnorm":
        result = experiments.compare_batchnorm(
            x, t, scales=tuple(np.logspace(0, -4, num=args.scales)), epochs=args.epochs or 20, seed=args.seed
        )
    else:
        result = experiments.compare_overfit(
            x, t, ds.x_test.reshape(len(ds.x_test), -1), ds.t_test, epochs=args.epochs or 201, seed=args.seed
        )
    seconds = time.perf_counter() - started
    for panel, curves in result.panels.items():
        finals = ", ".join(f"{label} {values[-1]:.4f}" for label, values in curves.items())
        print(f"{panel}: {finals}" if len(result.panels) > 1 else f"final {result.y_label}: {finals}")
    try:
        save_figure(experiments.figure(result, getattr(ds, "name", "")), out)
    except OSError as err:
        raise common.write_error(err, out) from None
    print(f"wrote {out} ({seconds:.1f} s of training)")
    return 0


def _dataset(args: argparse.Namespace) -> Any:
    import numpy as np

    from ..datasets import DatasetError, load_dataset

    if args.dataset is not None:
        return common.load_data(args.dataset, args.root, "float32")
    for name in ("mnist", "fashion-mnist"):  # real data already on this machine, no download, no sample
        try:
            ds = (
                load_dataset(name, root=args.root, dtype=np.float32, download=False, allow_sample_fallback=False)
                if name == "mnist"
                else load_dataset(name, root=args.root, dtype=np.float32, download=False)
            )
        except DatasetError:
            continue
        print(f"dataset: {ds.name}, {len(ds.x_train)} training and {len(ds.x_test)} test samples")
        return ds
    print(
        "zerograd compare: neither MNIST nor Fashion-MNIST is on this machine; using the bundled MNIST sample "
        "(pass --dataset to choose)",
        file=sys.stderr,
    )
    return common.load_data("mnist-sample", None, "float32")
