"""``zerograd train``: the chapter's training run — TwoLayerNet(784, 50, 10), SGD lr 0.1, batches of 100, MNIST.

Prints a line per epoch; writes ``checkpoint.npz`` (after every epoch), ``metrics.csv`` and ``curves.png`` to
``--out``. Ctrl-C keeps the last finished epoch's checkpoint and prints the command that resumes it. A folder
holding another run is not overwritten without ``--overwrite``, and two runs never write to one folder at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from .. import runs
from ..datasets.sample import SAMPLE_TRAIN_COUNTS
from ..engine.thread_choice import THREAD_CHOICES
from ..nets import ACTIVATIONS
from ..optim import DEFAULT_LR, OPTIMIZERS
from ..run import CHECKPOINT, CONVNETS, METRICS, Checkpointing, RunSpec, number_of_classes, write_metrics  # noqa: F401 - write_metrics re-exported
from ..train import SAMPLINGS, TrainConfig
from . import common
from .common import CommandError
from .outputs import Outputs, dataset_file
from .run_args import LATEST, checkpoint_path

OUTPUTS = (CHECKPOINT, METRICS, "curves.png")
# the loss of an epoch this many times the first iteration's means training is running away (Adam at lr 1e6
# ends near 6e5 with no NaN ever appearing); the chapter's runs never exceed 1x
RISE_FACTOR = 3.0


def add_parser(subparsers: Any) -> None:
    defaults = TrainConfig()
    lrs = ", ".join(f"{lr:g} for {name}" for name, lr in DEFAULT_LR.items())
    p = subparsers.add_parser(
        "train",
        help="train a net (the chapter's TwoLayerNet on MNIST by default)",
        description="Train a net with mini-batch gradient descent, as chapter 5 does; prints loss and accuracy "
        "each epoch and writes a checkpoint, metrics.csv and curves.png to --out.",
    )
    p.add_argument(
        "--dataset",
        default=None,
        help="mnist, fashion-mnist, mnist-sample (bundled, offline) or a PATH.npz (default: mnist, or "
        "the checkpoint's with --resume)",
    )
    p.add_argument("--root", default=None, help="directory of the dataset files (default: the datasets' own)")
    p.add_argument(
        "--net",
        default=None,
        choices=["mlp", "convnet", "deepconvnet"],
        help="mlp: Affine layers (--hidden); convnet: chapter 7's SimpleConvNet; deepconvnet: chapter 8's "
        "(default: mlp)",
    )
    p.add_argument(
        "--hidden",
        default=None,
        help="hidden layer widths: 50 for the chapter's TwoLayerNet, 100,100 for a MultiLayerNet "
        "(default: 50; the Affine width, 100 for convnet and 50 for deepconvnet)",
    )
    p.add_argument("--activation", default=None, choices=tuple(ACTIVATIONS), help="hidden activation (default: relu)")
    p.add_argument(
        "--init",
        default=None,
        help="initial weight scale: a number (standard deviation) or he/xavier (default: 0.01 for one "
        "hidden layer as in the book; he for more, and for convnet and deepconvnet)",
    )
    p.add_argument(
        "--batchnorm",
        action="store_true",
        default=None,
        help="batch normalization after each hidden Affine (chapter 6's MultiLayerNetExtend)",
    )
    p.add_argument(
        "--dropout",
        type=float,
        default=None,
        metavar="RATIO",
        help="dropout ratio after each hidden activation, in [0, 1) (default: 0, none)",
    )
    p.add_argument(
        "--optimizer",
        default=None,
        choices=tuple(OPTIMIZERS),
        help=f"update rule (default: {defaults.optimizer}; adam for convnet and deepconvnet, as the book)",
    )
    p.add_argument("--lr", type=float, default=None, help=f"learning rate (default: {lrs})")
    full, sample = (defaults.epochs * math.ceil(n / defaults.batch_size) for n in (60_000, sum(SAMPLE_TRAIN_COUNTS)))
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"total epochs (default: {defaults.epochs}: {full:,} iterations on full MNIST, near the "
        f"book's 10,000; {sample:,} on the bundled sample used offline; with --resume: the saved "
        "run's)",
    )
    p.add_argument(
        "--batch-size", type=int, default=None, help=f"samples per mini-batch (default: {defaults.batch_size})"
    )
    p.add_argument(
        "--sampling",
        default=None,
        choices=SAMPLINGS,
        help="epoch: a shuffled pass over every sample; book: np.random.choice batches as in the book "
        f"(default: {defaults.sampling})",
    )
    p.add_argument(
        "--weight-decay", type=float, default=None, help="L2 penalty λ (λ/2·Σ‖W‖² added to the loss) (default: 0)"
    )
    p.add_argument(
        "--dtype",
        default=None,
        choices=["float32", "float64"],
        help="float32 is twice as fast; float64 is the book's (default: float32)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of the initial weights and the batch order, 0..2**32-1 (default: {defaults.seed})",
    )
    p.add_argument(
        "--max-classes",
        type=int,
        default=None,
        help="refuse a PATH.npz whose labels imply more classes than this (default: 1000)",
    )
    p.add_argument(
        "--eval-samples",
        default=None,
        metavar="N|all",
        help="train accuracy from a pass over the first N training samples (all: every one) after each "
        "epoch (default: the running accuracy of the epoch's own batches, which costs nothing)",
    )
    p.add_argument(
        "--eval-every",
        type=int,
        default=None,
        metavar="N",
        help="evaluate after every N-th epoch and the last; the others show no accuracy (default: 1)",
    )
    p.add_argument(
        "--thread-choice",
        default=None,
        choices=THREAD_CHOICES,
        help="auto: time a few steps under each thread setting and keep the fastest that gives the size "
        "rule's results, unless the machine is busy and another is 1.5x faster (then said, and kept by --resume); "
        "identical: only settings that give the rule's results; fastest: any setting, decided before the "
        "first step and kept by --resume (the last bits may then depend on the machine's load); off: the "
        "size rule alone (default: auto)",
    )
    p.add_argument(
        "--out",
        default=None,
        help=f"directory for checkpoint.npz, metrics.csv, curves.png (default: a new numbered run folder "
        f"{runs.RUNS_DIR}/{runs.PREFIX}, {runs.RUNS_DIR}/{runs.PREFIX}2, ...; with --resume: the "
        "checkpoint's own folder)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.add_argument(
        "--resume",
        metavar="RUN",
        nargs="?",
        const=LATEST,
        default=None,
        help="continue the run saved in this run folder or checkpoint, bit for bit what the "
        "uninterrupted run gives (default: none, a new run; --resume alone: the latest run)",
    )
    p.add_argument("--no-plot", action="store_true", help="skip curves.png")
    p.set_defaults(command="train")


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()  # the wall time the user waits: data loading and evaluation included
    if args.resume is not None:
        args.resume = str(checkpoint_path(args.resume, "train"))
    common.check_root(args.root)
    # every option checked here, before a run folder is made and before the (maybe slow) data load
    spec = RunSpec.from_args(args, out=args.out or (Path(args.resume).parent if args.resume else None))
    out, created = _out_folder(args)
    spec = dataclasses.replace(spec, out=str(out))
    try:
        common.check_out_dir(out, OUTPUTS)
        Outputs(inputs=[dataset_file(args.dataset)]).folder(out, OUTPUTS)
        _refuse_to_replace(out, args)
        lock = common.RunLock(out)
        lock.acquire()
        try:
            # --overwrite --no-plot: the replaced run's curves.png would outlive it, describing the wrong run
            stale = [out / "curves.png"] if args.overwrite and args.no_plot and not args.resume else []
            return _train(spec, out, plot=not args.no_plot, started=started, stale=stale)
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
    raise CommandError(
        f"{out} already holds another run ({what}); pass {hint}--overwrite to replace it, or choose another --out"
    )


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


def _train(spec: RunSpec, out: Path, plot: bool, started: float, stale: list[Path]) -> int:
    from ..train import DivergedError

    ds = common.load_data(spec.dataset, spec.root, spec.dtype, max_classes=spec.max_classes)
    if spec.resume is None and spec.net not in CONVNETS:  # the weights must fit before they are drawn
        sizes = dict(
            input_size=math.prod(ds.x_train.shape[1:]),
            hidden=list(spec.hidden or (50,)),
            classes=number_of_classes(ds),
            batch_size=min(spec.batch_size, len(ds.x_train)),
        )
        common.check_net_fits(sizes, dict(hidden="--hidden", batch_size="--batch-size"), spec.dtype)
    end = _EpochEnd(out, spec.metadata(ds), started, stale)
    built = spec.build(ds, callbacks=[end])
    trainer = built.trainer
    epochs_done = trainer.epoch
    if spec.resume:
        print(f"resuming {spec.resume} at epoch {epochs_done} (the saved run's net, optimizer, batch size and seed)")
    if epochs_done >= trainer.config.epochs:
        print(
            f"the checkpoint has already trained {_epochs(epochs_done)}; pass --epochs N (N > {epochs_done}) "
            "to train further"
        )
        return 0
    print(
        f"net: {trainer.net!r}; optimizer: {trainer.optimizer!r}; batch {trainer.config.batch_size}, "
        f"{trainer.config.sampling} sampling, seed {trainer.config.seed}"
    )
    print(f"training epochs {epochs_done + 1}..{trainer.config.epochs}; writing to {out}/")
    print(f"train acc: {_train_acc_meaning(trainer.train_acc_on)}")

    from tqdm import tqdm

    total = trainer.history.iterations_per_epoch * (trainer.config.epochs - epochs_done)
    end.bar = tqdm(total=total, unit="batch", leave=False, disable=None, dynamic_ncols=True)
    try:
        built.fit()
    except KeyboardInterrupt:
        end.bar.close()
        return _interrupted(spec, trainer, end, epochs_done, plot)
    except DivergedError as err:
        raise CommandError(f"{err}{end.kept()}", exit_code=1) from None
    finally:
        end.bar.close()
    with common.interrupts_as(
        f"interrupted while drawing curves.png; the checkpoint of epoch {trainer.epoch} is {out / CHECKPOINT}"
    ):
        end.finish(trainer, plot=plot)
    h = trainer.history
    if h.test_acc:
        print(
            f"final test accuracy {h.test_acc[-1]:.4f} after {_epochs(trainer.epoch)} "
            f"({sum(h.seconds[epochs_done:]):.1f} s of training, {time.perf_counter() - started:.1f} s in all)"
        )
    print(f"wrote {out / CHECKPOINT}, {out / 'metrics.csv'}" + (f", {out / 'curves.png'}" if plot else ""))
    return 0


def _interrupted(spec: RunSpec, trainer: Any, end: _EpochEnd, epochs_done: int, plot: bool) -> int:
    out = end.out
    if end.saved_epoch is not None:  # curves only of what was saved: nothing saved, nothing drawn
        try:
            end.finish(trainer, plot=plot)
        except KeyboardInterrupt:  # a second Ctrl-C: skip the picture, still say how to resume
            print("\ninterrupted again: curves.png not drawn", file=sys.stderr)
    # NOTE: trainer.epoch counts an epoch as done before its accuracies and checkpoint are: the saved epoch is
    # the one that finished
    saved = out / CHECKPOINT if end.saved_epoch is not None else (Path(spec.resume) if spec.resume else None)
    epoch = end.saved_epoch if end.saved_epoch is not None else epochs_done
    if saved is None:
        print(f"\ninterrupted in epoch {epoch + 1}, before its checkpoint was written: nothing saved", file=sys.stderr)
    else:
        # --out is always spelled out: the resumed run must write where this one did, whatever the defaults
        print(
            f"\ninterrupted in epoch {epoch + 1}; the checkpoint of epoch {epoch} is {saved}\n"
            f"resume with: zerograd train --resume {shlex.quote(str(saved))} --out {shlex.quote(str(out))}",
            file=sys.stderr,
        )
    return 130


def _train_acc_meaning(source: str) -> str:
    if source == "running":
        return "running accuracy of each epoch's batches as they were trained (--eval-samples N|all for a pass)"
    return f"evaluated after each epoch on {'every training sample' if source.startswith('all') else source}"


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


class _EpochEnd(Checkpointing):
    """After each epoch: save the checkpoint and metrics.csv (``Checkpointing``), print the epoch's line (and a
    warning when the loss is running away); the progress bar follows the batches."""

    def __init__(
        self, out: Path, metadata: dict[str, Any], started: float | None = None, stale: list[Path] | None = None
    ) -> None:
        super().__init__(out, metadata)
        self.started = time.perf_counter() if started is None else started
        self.stale = stale or []  # a replaced run's files this run does not write: removed at its first save
        self.bar: Any = None
        self.warned = False
        self.noted = False  # the thread choice's note (a busy machine's setting), printed once

    def on_batches(self, trainer: Any, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def on_epoch(self, trainer: Any) -> None:
        h, e = trainer.history, trainer.epoch
        test = f"  test acc {h.test_acc[-1]:.4f}" if h.test_acc else ""
        line = (
            f"epoch {e:>3}/{trainer.config.epochs}  loss {h.epoch_loss[-1]:.4f}  "
            f"train acc {h.train_acc[-1]:.4f}{test}  {h.seconds[-1]:.2f} s training, "
            f"{time.perf_counter() - self.started:.1f} s since start"
        )
        try:
            super().on_epoch(trainer)
        except OSError as err:
            raise common.write_error(err, self.writing, self.kept()) from None
        for path in self.stale:
            path.unlink(missing_ok=True)
        self.stale = []
        # printed after the save: once a reader sees the line, that epoch's checkpoint is on disk
        self._print(line)
        note = getattr(trainer.thread_choice, "note", None)
        if note and not self.noted:
            self.noted = True
            self._print(note)
        if not self.warned and h.loss and h.epoch_loss[-1] > RISE_FACTOR * h.loss[0]:
            self.warned = True
            lr = getattr(trainer.optimizer, "lr", None)
            self._print(
                f"warning: the loss ({h.epoch_loss[-1]:.4g}) has risen far above where it started "
                f"({h.loss[0]:.4g}): training is diverging" + (f"; try a lower --lr than {lr:g}" if lr else ""),
                sys.stderr,
            )

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

            title = f"{trainer.net!r} on {(self.metadata or {}).get('dataset')}"
            path = self.out / "curves.png"
            history = trainer.history.to_dict()
            if self.saved_epoch is not None:  # an interrupted epoch may have its numbers but no checkpoint
                for key in ("epoch_loss", "train_acc", "test_acc", "seconds"):
                    history[key] = history[key][: self.saved_epoch]
            try:
                save_figure(plot_curves(history, title=title), path)
            except OSError as err:
                raise common.write_error(err, path, self.kept()) from None
