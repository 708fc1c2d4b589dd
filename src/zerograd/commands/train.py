"""``zerograd train``: the chapter's training run — TwoLayerNet(784, 50, 10), SGD lr 0.1, batches of 100, MNIST.

Prints a line per epoch; writes ``checkpoint.npz`` (after every epoch), ``metrics.csv`` and ``curves.png`` to
``--out``. Ctrl-C keeps the last finished epoch's checkpoint and says how to resume.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..cli import CommandError

# Learning rates when --lr is not given: chapter 5's 0.1 for SGD, the book's chapter-6 defaults for the others.
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.01, "adam": 0.001}
DEFAULT_OUT = "zerograd-run"
CHECKPOINT = "checkpoint.npz"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train", help="train a net (the chapter's TwoLayerNet on MNIST by default)",
        description="Train a net with mini-batch gradient descent, as chapter 5 does; prints loss and accuracy "
                    "each epoch and writes a checkpoint, metrics.csv and curves.png to --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--dataset", default=None,
                   help="mnist, fashion-mnist, mnist-sample (bundled, offline) or a PATH.npz [default: mnist, or "
                        "the checkpoint's with --resume]")
    p.add_argument("--root", default=None, help="directory of the dataset files [default: the datasets' own]")
    p.add_argument("--net", default="mlp", choices=["mlp", "convnet", "deepconvnet"],
                   help="mlp: Affine layers (--hidden); convnet: chapter 7's SimpleConvNet; deepconvnet: chapter 8's")
    p.add_argument("--hidden", default=None,
                   help="hidden layer widths: 50 for the chapter's TwoLayerNet, 100,100 for a MultiLayerNet "
                        "[default: 50; the Affine width 100 for convnet, 50 for deepconvnet]")
    p.add_argument("--activation", default="relu", choices=["relu", "sigmoid"], help="hidden activation")
    p.add_argument("--init", default=None,
                   help="initial weight scale: a number (standard deviation) or he/xavier [default: 0.01 for one "
                        "hidden layer as in the book, he for more]")
    p.add_argument("--batchnorm", action="store_true",
                   help="batch normalization after each hidden Affine (chapter 6's MultiLayerNetExtend)")
    p.add_argument("--dropout", type=float, default=0.0, metavar="RATIO",
                   help="dropout ratio after each hidden activation, in [0, 1) (0: none)")
    p.add_argument("--optimizer", default=None,
                   choices=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
                   help="update rule [default: sgd; adam for the convolutional nets, as the book]")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate [default: 0.1 for sgd, 0.001 for adam, 0.01 for the others]")
    p.add_argument("--epochs", type=int, default=None,
                   help="total epochs [default: 17, the book's 10,000 iterations; with --resume: the saved run's]")
    p.add_argument("--batch-size", type=int, default=100, help="samples per mini-batch")
    p.add_argument("--sampling", default="epoch", choices=["epoch", "book"],
                   help="epoch: a shuffled pass over every sample; book: np.random.choice batches as in the book")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty λ (λ/2·Σ‖W‖² added to the loss)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="float32 is twice as fast; float64 is the book's")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the batch order")
    p.add_argument("--out", default=DEFAULT_OUT, help="directory for checkpoint.npz, metrics.csv, curves.png")
    p.add_argument("--resume", metavar="CKPT", default=None,
                   help="continue the run saved in this checkpoint (bit for bit what the uninterrupted run gives)")
    p.add_argument("--no-plot", action="store_true", help="skip curves.png")
    p.set_defaults(command="train")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..train import DivergedError, Trainer

    out = Path(args.out)
    _check_positive(args, "batch_size", "--batch-size")
    if args.epochs is not None:
        _check_positive(args, "epochs", "--epochs")
    if args.lr is not None and not (np.isfinite(args.lr) and args.lr > 0):
        raise CommandError(f"--lr must be a positive number, got {args.lr}")
    if not args.weight_decay >= 0:
        raise CommandError(f"--weight-decay must be >= 0, got {args.weight_decay}")
    if not 0 <= args.dropout < 1:
        raise CommandError(f"--dropout must be in [0, 1), got {args.dropout}")

    if args.resume:
        trainer_args, metadata = _resume_setup(args)
    else:
        trainer_args, metadata = _fresh_setup(args)
    ds, net, config, resume_path = trainer_args
    callbacks = [_EpochEnd(out, metadata)]
    try:
        if resume_path is not None:
            trainer = Trainer.from_checkpoint(resume_path, ds.x_train, ds.t_train, ds.x_test, ds.t_test,
                                              callbacks=callbacks, epochs=config.epochs)
        else:
            trainer = Trainer(net, config, ds.x_train, ds.t_train, ds.x_test, ds.t_test, callbacks=callbacks)
    except ValueError as err:
        raise CommandError(str(err)) from None
    epochs_done = trainer.epoch
    if epochs_done >= trainer.config.epochs:
        print(f"the checkpoint has already trained {epochs_done} epochs; pass --epochs N (N > {epochs_done}) "
              "to train further")
        return 0
    print(f"net: {trainer.net!r}; optimizer: {trainer.optimizer!r}; batch {trainer.config.batch_size}, "
          f"{trainer.config.sampling} sampling, seed {trainer.config.seed}")
    print(f"training epochs {epochs_done + 1}..{trainer.config.epochs}; writing to {out}/")

    from tqdm import tqdm

    total = trainer.history.iterations_per_epoch * (trainer.config.epochs - epochs_done)
    bar = tqdm(total=total, unit="batch", leave=False, disable=None, dynamic_ncols=True)
    callbacks[0].bar = bar
    try:
        trainer.fit(progress=bar)
    except KeyboardInterrupt:
        bar.close()
        callbacks[0].finish(trainer, plot=not args.no_plot)
        end = callbacks[0]
        saved = out / CHECKPOINT if end.saved_epoch is not None else resume_path
        epoch = end.saved_epoch if end.saved_epoch is not None else epochs_done
        if saved is None:
            print(f"\ninterrupted in epoch {trainer.epoch + 1}, before any epoch finished: nothing saved",
                  file=sys.stderr)
        else:
            print(f"\ninterrupted in epoch {epoch + 1}; the checkpoint of epoch {epoch} is {saved}\n"
                  f"resume with: zerograd train --resume {saved}", file=sys.stderr)
        return 130
    except DivergedError as err:
        bar.close()
        saved_epoch = callbacks[0].saved_epoch
        kept = f"; the checkpoint of epoch {saved_epoch} in {out / CHECKPOINT} is kept" if saved_epoch else ""
        raise CommandError(f"{err}{kept}") from None
    bar.close()
    callbacks[0].finish(trainer, plot=not args.no_plot)
    h = trainer.history
    if h.test_acc:
        print(f"final test accuracy {h.test_acc[-1]:.4f} after {trainer.epoch} epochs "
              f"({sum(h.seconds[epochs_done:]):.1f} s of training)")
    print(f"wrote {out / CHECKPOINT}, {out / 'metrics.csv'}" + ("" if args.no_plot else f", {out / 'curves.png'}"))
    return 0


def _fresh_setup(args: argparse.Namespace) -> tuple[tuple[Any, Any, Any, None], dict[str, Any]]:
    import numpy as np

    from ..train import TrainConfig

    dataset = args.dataset or "mnist"
    convnet = getattr(args, "net", "mlp") != "mlp"
    sizes = [] if convnet else parse_hidden(args.hidden or "50")  # every argument is checked before the data load
    if convnet and (args.batchnorm or args.dropout):
        raise CommandError(f"--batchnorm and --dropout build an mlp; --net {args.net} has its own layers")
    optimizer = args.optimizer or ("adam" if convnet else "sgd")
    lr = args.lr if args.lr is not None else DEFAULT_LR[optimizer]
    try:
        config = TrainConfig(epochs=args.epochs or 17, batch_size=args.batch_size, optimizer=optimizer, lr=lr,
                             seed=args.seed, sampling=args.sampling)
    except ValueError as err:
        raise CommandError(str(err)) from None
    ds = load_data(dataset, args.root, args.dtype)
    n_classes = len(ds.classes) if getattr(ds, "classes", None) else int(np.max(ds.t_train)) + 1
    if convnet:
        from .convnet_setup import build_convnet

        net = build_convnet(args.net, args.hidden, args.init, args.weight_decay, args.dtype, ds.x_train.shape,
                            n_classes, args.seed)
        return (ds, net, config, None), _metadata(ds, dataset, args.root)
    net = build_net(sizes, args.activation, args.init, args.weight_decay, args.dtype,
                    input_size=int(np.prod(ds.x_train.shape[1:])), output_size=n_classes, seed=args.seed,
                    batchnorm=args.batchnorm, dropout=args.dropout)
    return (ds, net, config, None), _metadata(ds, dataset, args.root)


def _resume_setup(args: argparse.Namespace) -> tuple[tuple[Any, None, Any, str], dict[str, Any]]:
    from ..train import TrainConfig

    ckpt = load_checkpoint(args.resume)
    if ckpt.train_config is None:
        raise CommandError(f"{args.resume}: this checkpoint holds a net only, not a training run to resume")
    saved = TrainConfig.from_dict(ckpt.train_config)
    config = TrainConfig.from_dict({**ckpt.train_config, "epochs": args.epochs or saved.epochs})
    dataset = args.dataset or ckpt.metadata.get("dataset_spec") or "mnist"
    root = args.root or ckpt.metadata.get("root")
    ds = load_data(dataset, root, ckpt.net.dtype.name)
    print(f"resuming {args.resume} at epoch {ckpt.epoch} (the saved run's net, optimizer, batch size and seed)")
    return (ds, None, config, args.resume), _metadata(ds, dataset, root)


def _metadata(ds: Any, spec: str, root: str | None) -> dict[str, Any]:
    return {"dataset": getattr(ds, "name", spec), "dataset_spec": spec, "root": root,
            "classes": [str(c) for c in getattr(ds, "classes", ()) or ()]}


class _EpochEnd:
    """After each epoch: print the epoch's line, save the checkpoint, rewrite metrics.csv."""

    def __init__(self, out: Path, metadata: dict[str, Any]) -> None:
        self.out, self.metadata, self.bar = out, metadata, None
        self.saved_epoch: int | None = None  # the epoch of the checkpoint in `out`, once one is written

    def __call__(self, trainer: Any) -> None:
        h, e = trainer.history, trainer.epoch
        test = f"  test acc {h.test_acc[-1]:.4f}" if h.test_acc else ""
        line = (f"epoch {e:>3}/{trainer.config.epochs}  loss {h.epoch_loss[-1]:.4f}  "
                f"train acc {h.train_acc[-1]:.4f}{test}  {h.seconds[-1]:.2f} s")
        trainer.save_checkpoint(self.out / CHECKPOINT, metadata=self.metadata)
        self.saved_epoch = e
        write_metrics(self.out / "metrics.csv", h)
        # printed after the save: once a reader sees the line, that epoch's checkpoint is on disk
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line)

    def finish(self, trainer: Any, plot: bool) -> None:
        if trainer.history.epoch_loss and plot:
            from ..plot import plot_curves, save_figure

            title = f"{trainer.net!r} on {self.metadata['dataset']}"
            save_figure(plot_curves(trainer.history, title=title), self.out / "curves.png")


def write_metrics(path: Path, history: Any) -> None:
    """``epoch,loss,train_acc,test_acc,seconds`` per epoch, written through a temporary file."""
    rows = ["epoch,loss,train_acc,test_acc,seconds"]
    for i, loss in enumerate(history.epoch_loss):
        test = f"{history.test_acc[i]:.6f}" if i < len(history.test_acc) else ""
        rows.append(f"{i + 1},{loss:.6f},{history.train_acc[i]:.6f},{test},{history.seconds[i]:.4f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(rows) + "\n")
    os.replace(tmp, path)


# -- helpers shared with the other commands ------------------------------------------------------------------


def load_checkpoint(path: Any) -> Any:
    """``zerograd.checkpoint.load`` with a bad or missing file turned into a one-line ``CommandError``."""
    from ..checkpoint import CheckpointError, load

    try:
        return load(path)
    except CheckpointError as err:
        raise CommandError(str(err)) from None


def load_data(spec: str, root: str | None, dtype: str) -> Any:
    """``zerograd.datasets.load_dataset`` with data problems turned into one-line ``CommandError``s."""
    import numpy as np

    from ..datasets import DatasetError, load_dataset

    started = time.perf_counter()
    try:
        ds = load_dataset(spec, root=root, dtype=np.dtype(dtype))
    except DatasetError as err:
        raise CommandError("; ".join(line.strip() for line in str(err).splitlines() if line.strip())) from None
    print(f"dataset: {getattr(ds, 'name', spec)}, {len(ds.x_train)} training and {len(ds.x_test)} test samples, "
          f"from {getattr(ds, 'source', '?')} [{time.perf_counter() - started:.1f} s]")
    return ds


def parse_hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in str(text).replace(" ", "").split(",") if s]
    except ValueError:
        raise CommandError(f"--hidden must be comma-separated positive integers such as 50 or 100,100; "
                           f"got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise CommandError(f"--hidden must be comma-separated positive integers such as 50 or 100,100; got {text!r}")
    return sizes


def build_net(sizes: list[int], activation: str, init: str | None, weight_decay: float, dtype: str,
              input_size: int, output_size: int, seed: int, batchnorm: bool = False, dropout: float = 0.0) -> Any:
    """The chapter's TwoLayerNet for one ReLU hidden layer without weight decay, a MultiLayerNetExtend with batch
    normalization or dropout, else a MultiLayerNet."""
    import numpy as np

    from ..nets import MultiLayerNet, MultiLayerNetExtend, TwoLayerNet

    scale: float | str | None = None
    if init is not None:
        try:
            scale = float(init)
        except ValueError:
            scale = init.lower()
    rng = np.random.default_rng([seed, 1])  # its own stream: the trainer's batch order uses the seed itself
    try:
        if batchnorm or dropout:
            return MultiLayerNetExtend(input_size, sizes, output_size, activation=activation,
                                       weight_init_std="he" if scale is None else scale,
                                       weight_decay_lambda=weight_decay, use_dropout=dropout > 0,
                                       dropout_ration=dropout, use_batchnorm=batchnorm, dtype=dtype, rng=rng)
        if len(sizes) == 1 and activation == "relu" and weight_decay == 0:
            return TwoLayerNet(input_size, sizes[0], output_size, weight_init_std=0.01 if scale is None else scale,
                               dtype=dtype, rng=rng)
        return MultiLayerNet(input_size, sizes, output_size, activation=activation,
                             weight_init_std="he" if scale is None else scale, weight_decay_lambda=weight_decay,
                             dtype=dtype, rng=rng)
    except (ValueError, TypeError) as err:
        raise CommandError(str(err).replace("weight_init_std", "--init")) from None


def _check_positive(args: argparse.Namespace, attr: str, flag: str) -> None:
    value = getattr(args, attr)
    if value < 1:
        raise CommandError(f"{flag} must be a positive integer, got {value}")
