"""``zerograd train``: the chapter's training run — TwoLayerNet(784, 50, 10), SGD lr 0.1, batches of 100, MNIST.

Prints a line per epoch; writes ``checkpoint.npz`` (after every epoch), ``metrics.csv`` and ``curves.png`` to
``--out``. Ctrl-C keeps the last finished epoch's checkpoint and prints the command that resumes it. A folder
holding another run is not overwritten without ``--overwrite``, and two runs never write to one folder at once.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from .. import runs
from ..datasets.sample import SAMPLE_TRAIN_COUNTS
from ..nets import ACTIVATIONS
from ..optim import DEFAULT_LR, OPTIMIZERS
from ..train import SAMPLINGS, TrainConfig
from . import common
from .common import CommandError
from .outputs import Outputs, dataset_file
from .run_args import LATEST, checkpoint_path

CHECKPOINT = "checkpoint.npz"
OUTPUTS = (CHECKPOINT, "metrics.csv", "curves.png")
# a resumed run is the saved run continued bit for bit: these flags would change it, so --resume refuses them
RUN_FLAGS = {"net": "--net", "hidden": "--hidden", "activation": "--activation", "init": "--init",
             "batchnorm": "--batchnorm", "dropout": "--dropout", "optimizer": "--optimizer",
             "lr": "--lr", "batch_size": "--batch-size", "sampling": "--sampling", "weight_decay": "--weight-decay",
             "dtype": "--dtype", "seed": "--seed", "max_classes": "--max-classes"}
# the loss of an epoch this many times the first iteration's means training is running away (Adam at lr 1e6
# ends near 6e5 with no NaN ever appearing); the chapter's runs never exceed 1x
RISE_FACTOR = 3.0


def add_parser(subparsers: Any) -> None:
    defaults = TrainConfig()
    lrs = ", ".join(f"{lr:g} for {name}" for name, lr in DEFAULT_LR.items())
    p = subparsers.add_parser(
        "train", help="train a net (the chapter's TwoLayerNet on MNIST by default)",
        description="Train a net with mini-batch gradient descent, as chapter 5 does; prints loss and accuracy "
                    "each epoch and writes a checkpoint, metrics.csv and curves.png to --out.",
    )
    p.add_argument("--dataset", default=None,
                   help="mnist, fashion-mnist, mnist-sample (bundled, offline) or a PATH.npz (default: mnist, or "
                        "the checkpoint's with --resume)")
    p.add_argument("--root", default=None, help="directory of the dataset files (default: the datasets' own)")
    p.add_argument("--net", default=None, choices=["mlp", "convnet", "deepconvnet"],
                   help="mlp: Affine layers (--hidden); convnet: chapter 7's SimpleConvNet; deepconvnet: chapter 8's "
                        "(default: mlp)")
    p.add_argument("--hidden", default=None,
                   help="hidden layer widths: 50 for the chapter's TwoLayerNet, 100,100 for a MultiLayerNet "
                        "(default: 50; the Affine width, 100 for convnet and 50 for deepconvnet)")
    p.add_argument("--activation", default=None, choices=tuple(ACTIVATIONS), help="hidden activation (default: relu)")
    p.add_argument("--init", default=None,
                   help="initial weight scale: a number (standard deviation) or he/xavier (default: 0.01 for one "
                        "hidden layer as in the book; he for more, and for convnet and deepconvnet)")
    p.add_argument("--batchnorm", action="store_true", default=None,
                   help="batch normalization after each hidden Affine (chapter 6's MultiLayerNetExtend)")
    p.add_argument("--dropout", type=float, default=None, metavar="RATIO",
                   help="dropout ratio after each hidden activation, in [0, 1) (default: 0, none)")
    p.add_argument("--optimizer", default=None, choices=tuple(OPTIMIZERS),
                   help=f"update rule (default: {defaults.optimizer}; adam for convnet and deepconvnet, as the book)")
    p.add_argument("--lr", type=float, default=None, help=f"learning rate (default: {lrs})")
    full, sample = (defaults.epochs * math.ceil(n / defaults.batch_size) for n in (60_000, sum(SAMPLE_TRAIN_COUNTS)))
    p.add_argument("--epochs", type=int, default=None,
                   help=f"total epochs (default: {defaults.epochs}: {full:,} iterations on full MNIST, near the "
                        f"book's 10,000; {sample:,} on the bundled sample used offline; with --resume: the saved "
                        "run's)")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"samples per mini-batch (default: {defaults.batch_size})")
    p.add_argument("--sampling", default=None, choices=SAMPLINGS,
                   help="epoch: a shuffled pass over every sample; book: np.random.choice batches as in the book "
                        f"(default: {defaults.sampling})")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="L2 penalty λ (λ/2·Σ‖W‖² added to the loss) (default: 0)")
    p.add_argument("--dtype", default=None, choices=["float32", "float64"],
                   help="float32 is twice as fast; float64 is the book's (default: float32)")
    p.add_argument("--seed", type=int, default=None,
                   help=f"seed of the initial weights and the batch order, 0..2**32-1 (default: {defaults.seed})")
    p.add_argument("--max-classes", type=int, default=None,
                   help="refuse a PATH.npz whose labels imply more classes than this (default: 1000)")
    p.add_argument("--out", default=None,
                   help=f"directory for checkpoint.npz, metrics.csv, curves.png (default: a new numbered run folder "
                        f"{runs.RUNS_DIR}/{runs.PREFIX}, {runs.RUNS_DIR}/{runs.PREFIX}2, ...; with --resume: the "
                        "checkpoint's own folder)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.add_argument("--resume", metavar="RUN", nargs="?", const=LATEST, default=None,
                   help="continue the run saved in this run folder or checkpoint, bit for bit what the "
                        "uninterrupted run gives (default: none, a new run; --resume alone: the latest run)")
    p.add_argument("--no-plot", action="store_true", help="skip curves.png")
    p.set_defaults(command="train")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()  # the wall time the user waits: data loading and evaluation included
    _validate(args)
    if args.resume is not None:
        args.resume = str(checkpoint_path(args.resume, "train"))
    out, created = _out_folder(args)
    try:
        Outputs(inputs=[dataset_file(args.dataset)]).folder(out, OUTPUTS)
        _refuse_to_replace(out, args)
        lock = common.RunLock(out)
        lock.acquire()
        try:
            return _train(args, out, started)
        finally:
            lock.release()
    finally:
        if created:
            try:
                out.rmdir()  # only when empty: a run that failed before writing anything leaves no folder
            except OSError:
                pass


def _out_folder(args: argparse.Namespace) -> tuple[Path, bool]:
    """``--out``; else the resumed checkpoint's folder; else a new numbered run folder, created now (so two
    trains started together never share one) and named at once. Returns the folder and whether it is new."""
    if args.out:
        return Path(args.out), not Path(args.out).exists()
    if args.resume:
        return Path(args.resume).parent, False
    try:
        out = runs.new_run_folder()
    except (runs.RunFolderError, OSError) as err:
        reason = getattr(err, "strerror", None) or err
        raise CommandError(f"cannot create a run folder in {runs.RUNS_DIR}/: {reason}") from None
    print(f"run folder: {out}")
    return out, True


def _validate(args: argparse.Namespace) -> None:
    """Every argument, before the (maybe slow) data load."""
    if args.resume is not None:
        given = [flag for attr, flag in RUN_FLAGS.items() if getattr(args, attr) is not None]
        if given:
            raise CommandError(f"--resume continues the saved run with its own settings; {', '.join(given)} cannot "
                               "change it (with --resume give only --epochs, --dataset, --root, --out, --no-plot)")
    if args.epochs is not None:
        common.positive_int(args.epochs, "--epochs")
    if args.batch_size is not None:
        common.positive_int(args.batch_size, "--batch-size")
    if args.lr is not None:
        common.positive_float(args.lr, "--lr")
    if args.weight_decay is not None:
        common.non_negative_float(args.weight_decay, "--weight-decay")
    if args.seed is not None:
        common.seed(args.seed)
    if args.dropout is not None:
        common.fraction(args.dropout, "--dropout")
    if args.max_classes is not None:
        common.positive_int(args.max_classes, "--max-classes")
    common.init_scale(args.init)
    if args.hidden is not None:
        common.parse_hidden(args.hidden)
    common.check_root(args.root)


def _refuse_to_replace(out: Path, args: argparse.Namespace) -> None:
    """A new run must not silently replace another run's files; resuming a run into its own folder is fine."""
    if args.overwrite:
        return
    ckpt = out / CHECKPOINT
    if args.resume and ckpt.exists() and _same_file(ckpt, Path(args.resume)):
        return
    found = [name for name in OUTPUTS if (out / name).exists()]
    if not found:
        return
    what = _describe_run(ckpt) if ckpt.exists() else ", ".join(found)
    hint = f"--resume {ckpt} to continue it, " if ckpt.exists() and not args.resume else ""
    raise CommandError(f"{out} already holds another run ({what}); pass {hint}--overwrite to replace it, or "
                       "choose another --out")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _describe_run(ckpt: Path) -> str:
    from ..checkpoint import CheckpointError, load

    try:
        saved = load(ckpt)
    except CheckpointError:
        return f"{ckpt.name}, not a readable checkpoint"
    dataset = saved.metadata.get("dataset", "?")
    return f"{ckpt.name}: {saved.net!r}, epoch {saved.epoch}, trained on {dataset}"


def _train(args: argparse.Namespace, out: Path, started: float) -> int:
    from ..train import DivergedError, Trainer

    if args.resume:
        ds, net, config, metadata = _resume_setup(args)
    else:
        ds, net, config, metadata = _fresh_setup(args)
    # --overwrite --no-plot: the replaced run's curves.png would outlive it, describing the wrong run
    stale = [out / "curves.png"] if args.overwrite and args.no_plot and not args.resume else []
    callbacks = [_EpochEnd(out, metadata, started, stale)]
    try:
        if args.resume:
            trainer = Trainer.from_checkpoint(args.resume, ds.x_train, ds.t_train, ds.x_test, ds.t_test,
                                              callbacks=callbacks, epochs=config.epochs)
        else:
            trainer = Trainer(net, config, ds.x_train, ds.t_train, ds.x_test, ds.t_test, callbacks=callbacks)
    except ValueError as err:
        raise CommandError(str(err)) from None
    epochs_done = trainer.epoch
    if epochs_done >= trainer.config.epochs:
        print(f"the checkpoint has already trained {_epochs(epochs_done)}; pass --epochs N (N > {epochs_done}) "
              "to train further")
        return 0
    print(f"net: {trainer.net!r}; optimizer: {trainer.optimizer!r}; batch {trainer.config.batch_size}, "
          f"{trainer.config.sampling} sampling, seed {trainer.config.seed}")
    print(f"training epochs {epochs_done + 1}..{trainer.config.epochs}; writing to {out}/")

    from tqdm import tqdm

    end = callbacks[0]
    total = trainer.history.iterations_per_epoch * (trainer.config.epochs - epochs_done)
    end.bar = tqdm(total=total, unit="batch", leave=False, disable=None, dynamic_ncols=True)
    try:
        trainer.fit(progress=end.bar)
    except KeyboardInterrupt:
        end.bar.close()
        return _interrupted(args, trainer, end, epochs_done)
    except DivergedError as err:
        raise CommandError(f"{err}{end.kept()}", exit_code=1) from None
    finally:
        end.bar.close()
    with common.interrupts_as(f"interrupted while drawing curves.png; the checkpoint of epoch {trainer.epoch} is "
                              f"{out / CHECKPOINT}"):
        end.finish(trainer, plot=not args.no_plot)
    h = trainer.history
    if h.test_acc:
        print(f"final test accuracy {h.test_acc[-1]:.4f} after {_epochs(trainer.epoch)} "
              f"({sum(h.seconds[epochs_done:]):.1f} s of training, {time.perf_counter() - started:.1f} s in all)")
    print(f"wrote {out / CHECKPOINT}, {out / 'metrics.csv'}" + ("" if args.no_plot else f", {out / 'curves.png'}"))
    return 0


def _interrupted(args: argparse.Namespace, trainer: Any, end: _EpochEnd, epochs_done: int) -> int:
    out = end.out
    if end.saved_epoch is not None:  # curves only of what was saved: nothing saved, nothing drawn
        try:
            end.finish(trainer, plot=not args.no_plot)
        except KeyboardInterrupt:  # a second Ctrl-C: skip the picture, still say how to resume
            print("\ninterrupted again: curves.png not drawn", file=sys.stderr)
    saved = out / CHECKPOINT if end.saved_epoch is not None else (Path(args.resume) if args.resume else None)
    # NOTE: trainer.epoch counts an epoch as done before its accuracies and checkpoint are: the saved epoch is
    # the one that finished
    epoch = end.saved_epoch if end.saved_epoch is not None else epochs_done
    if saved is None:
        print(f"\ninterrupted in epoch {epoch + 1}, before its checkpoint was written: nothing saved",
              file=sys.stderr)
    else:
        # --out is always spelled out: the resumed run must write where this one did, whatever the defaults
        print(f"\ninterrupted in epoch {epoch + 1}; the checkpoint of epoch {epoch} is {saved}\n"
              f"resume with: zerograd train --resume {shlex.quote(str(saved))} --out {shlex.quote(str(out))}",
              file=sys.stderr)
    return 130


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _fresh_setup(args: argparse.Namespace) -> tuple[Any, Any, TrainConfig, dict[str, Any]]:
    dataset = args.dataset or "mnist"
    defaults = TrainConfig()
    convnet = args.net not in (None, "mlp")
    if convnet and (args.batchnorm or args.dropout):
        raise CommandError(f"--batchnorm and --dropout build an mlp; --net {args.net} has its own layers")
    optimizer = args.optimizer or ("adam" if convnet else defaults.optimizer)  # the book trains its CNNs with Adam
    try:
        config = TrainConfig(epochs=args.epochs or defaults.epochs, batch_size=args.batch_size or defaults.batch_size,
                             optimizer=optimizer, lr=args.lr if args.lr is not None else DEFAULT_LR[optimizer],
                             seed=args.seed if args.seed is not None else defaults.seed,
                             sampling=args.sampling or defaults.sampling)
    except ValueError as err:
        raise CommandError(str(err)) from None
    dtype = args.dtype or "float32"
    ds = common.load_data(dataset, args.root, dtype, max_classes=args.max_classes)
    if convnet:
        from .convnet_setup import build_convnet

        net = build_convnet(args.net, args.hidden, args.init, args.weight_decay or 0.0, dtype, ds.x_train.shape,
                            common.number_of_classes(ds), config.seed)
        return ds, net, config, _metadata(ds, dataset, args.root)
    hidden = common.parse_hidden(args.hidden or "50")
    sizes = dict(input_size=_features(ds), hidden=hidden, classes=common.number_of_classes(ds),
                 batch_size=min(config.batch_size, len(ds.x_train)))
    common.check_net_fits(sizes, dict(hidden="--hidden", batch_size="--batch-size"), dtype)
    net = common.build_net(hidden, args.activation or "relu", args.init,
                           args.weight_decay or 0.0, dtype, input_size=_features(ds),
                           output_size=common.number_of_classes(ds), seed=config.seed,
                           batchnorm=bool(args.batchnorm), dropout=args.dropout or 0.0)
    return ds, net, config, _metadata(ds, dataset, args.root)


def _resume_setup(args: argparse.Namespace) -> tuple[Any, None, TrainConfig, dict[str, Any]]:
    ckpt = common.load_checkpoint(args.resume)
    if ckpt.train_config is None:
        raise CommandError(f"{args.resume}: this checkpoint holds a net only, not a training run to resume")
    try:
        saved = TrainConfig.from_dict(ckpt.train_config)
        config = TrainConfig.from_dict({**ckpt.train_config, "epochs": args.epochs or saved.epochs})
    except (ValueError, TypeError) as err:
        raise CommandError(f"{args.resume}: its training settings are damaged ({err})") from None
    dataset = args.dataset or ckpt.metadata.get("dataset_spec") or "mnist"
    root = args.root or ckpt.metadata.get("root")
    input_size, n_classes = common.net_sizes(ckpt.net)
    ds = common.load_data(dataset, root, ckpt.net.dtype.name, max_classes=n_classes)
    if _features(ds) != input_size or common.number_of_classes(ds) > n_classes:
        raise CommandError(f"{args.resume}: the saved net takes {input_size} features and predicts {n_classes} "
                           f"classes; {getattr(ds, 'name', dataset)} has {_features(ds)} features and "
                           f"{common.number_of_classes(ds)} classes")
    print(f"resuming {args.resume} at epoch {ckpt.epoch} (the saved run's net, optimizer, batch size and seed)")
    return ds, None, config, _metadata(ds, dataset, root)


def _features(ds: Any) -> int:
    import math

    return math.prod(ds.x_train.shape[1:])


def _metadata(ds: Any, spec: str, root: str | None) -> dict[str, Any]:
    # paths resolved: evaluate and --resume read these from whatever folder they run in
    return {"dataset": getattr(ds, "name", spec), "dataset_spec": common.resolved_spec(spec),
            "root": str(Path(root).expanduser().resolve()) if root else None,
            "classes": [str(c) for c in getattr(ds, "classes", ()) or ()]}


class _EpochEnd:
    """After each epoch: save the checkpoint, rewrite metrics.csv, print the epoch's line (and a warning when the
    loss is running away)."""

    def __init__(self, out: Path, metadata: dict[str, Any], started: float | None = None,
                 stale: list[Path] | None = None) -> None:
        self.out, self.metadata, self.bar = out, metadata, None
        self.started = time.perf_counter() if started is None else started
        self.stale = stale or []  # a replaced run's files this run does not write: removed at its first save
        self.saved_epoch: int | None = None  # the epoch of the checkpoint in `out`, once one is written
        self.warned = False

    def __call__(self, trainer: Any) -> None:
        h, e = trainer.history, trainer.epoch
        test = f"  test acc {h.test_acc[-1]:.4f}" if h.test_acc else ""
        line = (f"epoch {e:>3}/{trainer.config.epochs}  loss {h.epoch_loss[-1]:.4f}  "
                f"train acc {h.train_acc[-1]:.4f}{test}  {h.seconds[-1]:.2f} s training, "
                f"{time.perf_counter() - self.started:.1f} s since start")
        path = self.out / CHECKPOINT
        try:
            trainer.save_checkpoint(path, metadata=self.metadata)
            self.saved_epoch = e
            path = self.out / "metrics.csv"
            write_metrics(path, h)
            for path in self.stale:
                path.unlink(missing_ok=True)
            self.stale = []
        except OSError as err:
            raise common.write_error(err, path, self.kept()) from None
        # printed after the save: once a reader sees the line, that epoch's checkpoint is on disk
        self._print(line)
        if not self.warned and h.loss and h.epoch_loss[-1] > RISE_FACTOR * h.loss[0]:
            self.warned = True
            lr = getattr(trainer.optimizer, "lr", None)
            self._print(f"warning: the loss ({h.epoch_loss[-1]:.4g}) has risen far above where it started "
                        f"({h.loss[0]:.4g}): training is diverging" +
                        (f"; try a lower --lr than {lr:g}" if lr else ""), sys.stderr)

    def _print(self, line: str, file: Any = None) -> None:
        if self.bar is not None:
            self.bar.write(line, file=file)
        else:
            print(line, file=file)

    def kept(self) -> str:
        """What survives a failure: the last checkpoint written, if any."""
        if self.saved_epoch is None:
            return ""
        return f"; the checkpoint of epoch {self.saved_epoch} in {self.out / CHECKPOINT} is kept"

    def finish(self, trainer: Any, plot: bool) -> None:
        if trainer.history.epoch_loss and plot:
            from ..plot import plot_curves, save_figure

            title = f"{trainer.net!r} on {self.metadata['dataset']}"
            path = self.out / "curves.png"
            history = trainer.history.to_dict()
            if self.saved_epoch is not None:  # an interrupted epoch may have its numbers but no checkpoint
                for key in ("epoch_loss", "train_acc", "test_acc", "seconds"):
                    history[key] = history[key][: self.saved_epoch]
            try:
                save_figure(plot_curves(history, title=title), path)
            except OSError as err:
                raise common.write_error(err, path, self.kept()) from None


def write_metrics(path: Path, history: Any) -> None:
    """``epoch,loss,train_acc,test_acc,seconds`` per epoch, written atomically."""
    from ..fileio import write_text

    rows = ["epoch,loss,train_acc,test_acc,seconds"]
    def cell(values: list[float], i: int, digits: int) -> str:
        return f"{values[i]:.{digits}f}" if i < len(values) else ""  # a resumed run of your own may lack some

    for i, loss in enumerate(history.epoch_loss):
        rows.append(f"{i + 1},{loss:.6f},{cell(history.train_acc, i, 6)},{cell(history.test_acc, i, 6)},"
                    f"{cell(history.seconds, i, 4)}")
    write_text(path, "\n".join(rows) + "\n", make_dirs=True)


# re-exported for code that imported them from here before commands.common existed
load_checkpoint, load_data, parse_hidden, build_net = (common.load_checkpoint, common.load_data, common.parse_hidden,
                                                       common.build_net)
