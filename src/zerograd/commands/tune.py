"""``zerograd tune``: search hyperparameters with Optuna — the book's chapter-6 random search by ``--preset book``.

A thin layer over ``zerograd.tune.run``: flags → ``TuneConfig``, a progress bar over trials, then the table of
the best trials, the best configuration as a ``zerograd train`` command, ``trials.csv``, ``tune-curves.png`` and
``tune-space.png`` in ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import CommandError
from .outputs import Outputs, dataset_file

DEFAULT_OUT = "zerograd-tune"
DEFAULT_TRIALS = 50  # without a preset; the book's preset runs its 100


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "tune",
        help="search hyperparameters (Optuna; --preset book is chapter 6's random search)",
        description="Search learning rate, weight decay and other hyperparameters with Optuna. Each hyperparameter "
        "flag takes a value (fixed), LOW..HIGH[:log|:linear] (a range) or A/B/C (choices). The study "
        "lives in --storage: run the command again to continue it, or run it on several machines "
        "against one PostgreSQL URL to share it. Needs: pip install 'zerograd[tune]'.",
    )
    p.add_argument(
        "--preset",
        choices=["book"],
        default=None,
        help="book: 100 random trials of lr 1e-6..1e-2 and weight decay 1e-8..1e-4 (log), a [100]*6 "
        "MultiLayerNet, 500 MNIST images (20 %% validation), 50 epochs; other flags override it "
        "(default: none)",
    )
    g = p.add_argument_group("data and training (fixed for the whole study)")
    g.add_argument("--dataset", default=None, help="mnist, fashion-mnist, mnist-sample or a PATH.npz (default: mnist)")
    g.add_argument("--root", default=None, help="directory of the dataset files (default: the datasets' own)")
    g.add_argument(
        "--train-samples", type=int, default=None, help="use the first N training samples (default: all; the book: 500)"
    )
    g.add_argument(
        "--val-fraction",
        type=float,
        default=None,
        help="share of those samples held out (seeded shuffle) for validation (default: 0.2)",
    )
    g.add_argument("--epochs", type=int, default=None, help="epochs per trial (default: 10; the book: 50)")
    g.add_argument("--activation", default=None, choices=["relu", "sigmoid"], help="hidden activation (default: relu)")
    g.add_argument("--batchnorm", action="store_true", default=None, help="batch normalization after each Affine")
    g.add_argument("--dtype", default=None, choices=["float32", "float64"], help="the arrays' type (default: float32)")
    g.add_argument(
        "--sampling",
        default=None,
        choices=["epoch", "book"],
        help="epoch: shuffled passes; book: np.random.choice batches (default: epoch; the book: book)",
    )
    s = p.add_argument_group("hyperparameters: VALUE, LOW..HIGH[:log|:linear] or A/B/C")
    s.add_argument("--lr", default=None, help="learning rate; ranges are log-uniform (default: 1e-4..1)")
    s.add_argument("--weight-decay", default=None, help="L2 λ; ranges are log-uniform (default: 0)")
    s.add_argument(
        "--optimizer", default=None, help="sgd, momentum, nesterov, adagrad, rmsprop, adam or a/b (default: sgd)"
    )
    s.add_argument(
        "--hidden",
        default=None,
        help="hidden widths 100,100 (100x6 repeats), or choices 50/100,100 (default: 50; book: 100x6)",
    )
    s.add_argument("--batch-size", default=None, help="samples per batch; ranges are log-uniform (default: 100)")
    s.add_argument("--dropout", default=None, help="dropout ratio after each hidden layer (default: 0, none)")
    s.add_argument(
        "--init", default=None, help="he, xavier or a standard deviation, or choices he/xavier (default: he)"
    )
    o = p.add_argument_group("search")
    o.add_argument(
        "--sampler",
        default=None,
        choices=["random", "tpe"],
        help="random (the book's) or tpe (Optuna's TPE) (default: tpe; the book: random)",
    )
    o.add_argument(
        "--prune",
        default=None,
        choices=["halving", "median", "none"],
        help="stop weak trials early from their per-epoch validation accuracy: successive halving, "
        "the median rule, or not at all (default: halving; the book: none)",
    )
    o.add_argument(
        "--trials",
        type=int,
        default=None,
        help="the study's total of finished trials; a rerun adds what is missing (default: 50; the book: 100)",
    )
    o.add_argument("--workers", type=int, default=1, help="worker processes on this machine, one BLAS thread each")
    o.add_argument(
        "--storage",
        default=None,
        help="the study's database URL: sqlite:///FILE.db, or postgresql://user:pw@host/db to share it "
        "between machines (default: sqlite:///OUT/tune.db)",
    )
    o.add_argument("--study", default="zerograd", help="the study's name in the storage")
    o.add_argument("--seed", type=int, default=None, help="seed of the split, the trials and the sampler (default: 0)")
    p.add_argument("--out", default=DEFAULT_OUT, help="directory for trials.csv, tune-curves.png, tune-space.png")
    p.add_argument("--top", type=int, default=10, help="rows in the table of the best trials")
    p.add_argument("--no-plot", action="store_true", help="skip the figures")
    p.set_defaults(command="tune")


def run(args: argparse.Namespace) -> int:
    from ..datasets import DatasetError

    try:
        from .. import tune
        from ..tune.health import storage_error_line, storage_errors
        from ..tune.study import require_optuna

        require_optuna()
    except (ImportError, ValueError) as err:
        raise CommandError(str(err).splitlines()[0]) from None
    for flag, value, least in (("--trials", args.trials, 0), ("--workers", args.workers, 1), ("--top", args.top, 0)):
        if value is not None and value < least:
            raise CommandError(f"{flag} must be an integer >= {least}, got {value}")
    try:
        config = build_config(args)
        config.check()
    except tune.SearchError as err:
        raise CommandError(str(err)) from None
    trials = args.trials if args.trials is not None else (tune.BOOK_TRIALS if args.preset else DEFAULT_TRIALS)
    # a study continues in its folder (run the same command again), so its own files are rewritten there; only an
    # input (the dataset's .npz) may not be one of them
    out = Outputs(inputs=[dataset_file(args.dataset)]).folder(
        Path(args.out), ["trials.csv", "tune-curves.png", "tune-space.png"]
    )
    storage = args.storage
    if storage is None:
        out.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{out / 'tune.db'}"

    from tqdm import tqdm

    bar: list[Any] = []

    def progress(finished: int, total: int) -> None:
        if not bar:
            bar.append(
                tqdm(total=total, initial=finished, unit="trial", desc="trials", dynamic_ncols=True, disable=None)
            )
        else:
            bar[0].update(finished - bar[0].n)

    try:
        result = tune.run(
            config,
            trials=trials,
            storage=storage,
            study_name=args.study,
            workers=args.workers,
            progress=progress,
            log=print,
        )
    except (tune.TuneError, tune.SearchError) as err:
        raise CommandError(str(err).splitlines()[0]) from None
    except DatasetError as err:
        raise CommandError("; ".join(line.strip() for line in str(err).splitlines() if line.strip())) from None
    except storage_errors() as err:  # the storage failed while the study ran: a full disk, a lost server
        raise CommandError(
            f"the study's storage {tune.redact(storage)} failed while working: "
            f"{storage_error_line(err)}; finished trials are kept",
            exit_code=1,
        ) from None
    except KeyboardInterrupt:
        if bar:
            bar[0].close()
        print(
            f"\ninterrupted; finished trials are kept in {storage}: run the same command to continue", file=sys.stderr
        )
        return 130
    finally:
        if bar:
            bar[0].close()
    return report(result, args, out)


def report(result: Any, args: argparse.Namespace, out: Path) -> int:
    from ..plot import save_figure
    from ..tune import best_table, train_command
    from ..tune.report import plot_best_curves, plot_space, write_trials_csv

    for i, code in enumerate(result.worker_exits, start=1):
        if code:
            how = f"was killed by signal {-code}" if code < 0 else f"stopped with exit status {code}"
            lost = result.requeued.get(i, [])
            print(
                f"worker {i} {how}"
                + (
                    f"; its trial {', '.join(map(str, lost))} failed with it and "
                    f"{'was' if len(lost) == 1 else 'were'} queued again"
                    if lost
                    else ""
                ),
                file=sys.stderr,
            )
    c = result.counts
    print(
        f"\n{result.finished} of {result.target} trials finished ({c['COMPLETE']} complete, {c['PRUNED']} pruned, "
        f"{c['FAIL']} failed), {result.epochs_spent} epochs trained in all"
    )
    print(best_table(result.records, top=args.top))
    if result.best is not None:
        b = result.best
        print(
            f"\nbest: trial {b.number}, validation accuracy {b.value:.4f}"
            + (f", test accuracy {result.test_acc:.4f} (the test set's one use)" if result.test_acc is not None else "")
        )
        sizes = result.sizes
        command = train_command(result.config, b)
        print(
            f"train it on the whole training set ({sizes.get('train', 0) + sizes.get('val', 0)} samples were "
            f"used here):\n  {command}"
        )
    written = [write_trials_csv(result.records, out / "trials.csv")]
    if not args.no_plot:
        written.append(save_figure(plot_best_curves(result.records), out / "tune-curves.png"))
        written.append(save_figure(plot_space(result.records), out / "tune-space.png"))
    print("wrote " + ", ".join(str(p) for p in written))
    if result.finished < result.target:
        print(
            f"{result.finished} of {result.target} trials finished: run the same command again to finish",
            file=sys.stderr,
        )
        return 1
    return 0


def build_config(args: argparse.Namespace) -> Any:
    """The preset (or the defaults) with every given flag applied."""
    from ..optim import OPTIMIZERS
    from ..tune import PRESETS, TuneConfig
    from ..tune.space import parse_hidden, parse_param

    config = PRESETS[args.preset]() if args.preset else TuneConfig()
    changes: dict[str, Any] = {}
    for name in (
        "dataset",
        "root",
        "train_samples",
        "val_fraction",
        "epochs",
        "activation",
        "batchnorm",
        "dtype",
        "sampling",
        "sampler",
        "prune",
        "seed",
    ):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.lr is not None:
        changes["lr"] = parse_param("lr", args.lr, float, log=True)
    if args.weight_decay is not None:
        changes["weight_decay"] = parse_param("weight_decay", args.weight_decay, float, log=True)
    if args.dropout is not None:
        changes["dropout"] = parse_param("dropout", args.dropout, float)
    if args.batch_size is not None:
        changes["batch_size"] = parse_param("batch_size", args.batch_size, int, log=True)
    if args.optimizer is not None:
        changes["optimizer"] = parse_param("optimizer", args.optimizer, str, choices=tuple(OPTIMIZERS))
    if args.init is not None:
        changes["init"] = _parse_init(args.init)
    if args.hidden is not None:
        changes["hidden"] = parse_hidden(args.hidden)
    return config.replace(**changes)


def _parse_init(text: str) -> Any:
    from ..tune.space import parse_param

    if ".." in text:
        return parse_param("init", text, float, log=True)
    parts = [p.strip().lower() for p in text.split("/")]
    values: list[float | str] = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            values.append(part)
    from ..tune.space import Choice

    return values[0] if len(values) == 1 else Choice(tuple(values))
