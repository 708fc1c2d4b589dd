"""Hyperparameter search on Optuna: the book's chapter-6 random search, on many cores and machines.

    from zerograd.tune import book_preset, run
    result = run(book_preset(), trials=100, storage="sqlite:///tune.db", workers=2)
    print(result.best.values, result.test_acc)

A study lives in a storage (``zerograd.tune.study``): a SQLite file by default, or a PostgreSQL/MySQL server that
workers on several machines share. ``run`` continues the study if it exists, until it holds ``trials`` finished
trials (complete or pruned); a killed run loses only its running trials, which the next run retries. Each trial
trains on the training part of a seeded split and reports its validation accuracy every epoch (the pruner may
stop it there); the test set is used once, at the end, for the best trial: its configuration is trained again
(the same seeds give the same net) and evaluated.

Modules: ``space`` (ranges and choices), ``config`` (``TuneConfig``, the book's preset), ``objective`` (split,
net, one trial's training), ``sampler`` (the trial-seeded random search), ``study`` (storage, study, dead
workers), ``workers`` (the trial loop and worker processes), ``report`` (table, command, CSV, figures).
Needs the ``tune`` extra: ``pip install 'zerograd[tune]'``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import BOOK_TRIALS, HYPERPARAMETERS, PRESETS, PRUNERS, SAMPLERS, TuneConfig, book_preset
from .objective import Split, load_split, train_trial
from .report import TrialRecord, best_table, ranked, records_of, train_command
from .space import Choice, FloatRange, IntRange, SearchError
from .study import TuneError, count_states, open_storage, open_study, redact, require_optuna

__all__ = [
    "BOOK_TRIALS",
    "HYPERPARAMETERS",
    "PRESETS",
    "PRUNERS",
    "SAMPLERS",
    "Choice",
    "FloatRange",
    "IntRange",
    "SearchError",
    "TrialRecord",
    "TuneConfig",
    "TuneError",
    "TuneResult",
    "best_table",
    "book_preset",
    "evaluate_best",
    "redact",
    "run",
    "summarize",
    "train_command",
]


@dataclass
class TuneResult:
    """A study after a run: every trial, the best, and the best's test accuracy (None when not evaluated)."""

    config: TuneConfig
    study_name: str
    storage: str  # the URL, password hidden
    target: int
    records: list[TrialRecord]
    counts: dict[str, int]
    best: TrialRecord | None
    test_acc: float | None = None
    reproduced_val_acc: float | None = None  # the best trial's validation accuracy when trained again
    dataset: str = ""
    sizes: dict[str, int] = field(default_factory=dict)  # train / val / test samples
    seconds: float = 0.0  # of this run
    worker_exits: list[int | None] = field(default_factory=list)
    requeued: dict[int, list[int]] = field(default_factory=dict)  # worker (from 1) → its lost trials, queued again

    @property
    def finished(self) -> int:
        return self.counts.get("COMPLETE", 0) + self.counts.get("PRUNED", 0)

    @property
    def epochs_spent(self) -> int:
        """Epochs trained by the finished trials (a pruned trial counts the epochs it ran)."""
        return sum(r.epochs for r in self.records if r.state in ("COMPLETE", "PRUNED"))


def run(
    config: TuneConfig,
    trials: int = BOOK_TRIALS,
    storage: str = "sqlite:///tune.db",
    study_name: str = "zerograd",
    workers: int = 1,
    evaluate: bool = True,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> TuneResult:
    """Run (or continue) the study until it has ``trials`` finished trials, then evaluate the best on the test set.

    workers: processes on this machine, one BLAS thread each (1: trials run in this process). progress: called
    as ``progress(finished, trials)`` whenever a trial finishes. log: gets one-line notes (the data, the study).
    Raises ``TuneError``/``SearchError`` (one line, nothing written to the study) for bad settings, storage or
    search space, and ``zerograd.datasets.DatasetError`` for data problems.
    """
    from .workers import run_workers, work

    started = time.perf_counter()
    say = log or (lambda line: None)
    require_optuna()
    config.check()
    for name, value, least in (("trials", trials, 0), ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise SearchError(f"{name} must be an integer >= {least}, got {value!r}")
    from .health import check_study_name

    try:
        check_study_name(study_name)
    except ValueError as err:
        raise TuneError(str(err)) from None
    store = open_storage(storage)
    if _study_exists(store, study_name):
        open_study(store, study_name, config)  # checks the search space before the (maybe slow) data load
    split = load_split(config)
    check_memory(config, split, workers)
    study = open_study(store, study_name, config)
    counts = count_states(study)
    finished = counts["COMPLETE"] + counts["PRUNED"]
    say(
        f"study {study_name!r} in {redact(storage)}: {finished} of {trials} trials finished"
        + (f", {counts['RUNNING']} running" if counts["RUNNING"] else "")
    )
    say(f"data: {split.dataset}, {len(split.x_train)} training and {len(split.x_val)} validation samples")
    exits: list[int | None] = []
    requeued: dict[int, list[int]] = {}
    if finished < trials:
        if workers == 1:
            if progress is not None:
                progress(finished, trials)
            work(
                config,
                storage,
                study_name,
                trials,
                split=split,
                on_trial=None if progress is None else lambda n: progress(n, trials),
            )
        else:
            exits, requeued = run_workers(
                config,
                storage,
                study_name,
                trials,
                workers,
                on_progress=None if progress is None else lambda n: progress(n, trials),
            )
    result = summarize(study, config, study_name, storage, trials, split)
    result.worker_exits = exits
    result.requeued = requeued
    if evaluate and result.best is not None:
        result.reproduced_val_acc, result.test_acc = evaluate_best(config, split, result.best)
    result.seconds = time.perf_counter() - started
    return result


def summarize(
    study: Any, config: TuneConfig, study_name: str, storage: str, target: int, split: Split | None = None
) -> TuneResult:
    records = records_of(study, config)
    best = ranked(records)
    sizes = {} if split is None else {"train": len(split.x_train), "val": len(split.x_val), "test": len(split.x_test)}
    return TuneResult(
        config=config,
        study_name=study_name,
        storage=redact(storage),
        target=target,
        records=records,
        counts=count_states(study),
        best=best[0] if best else None,
        dataset="" if split is None else split.dataset,
        sizes=sizes,
    )


def evaluate_best(config: TuneConfig, split: Split, best: TrialRecord) -> tuple[float, float]:
    """Train ``best``'s configuration again with its seeds, then evaluate it on the test set — the only time a
    study touches the test set. Returns (the validation accuracy it reached again, the test accuracy)."""
    nets: list[Any] = []
    history = train_trial(config, split, best.values, best.seed_key, net_out=nets)
    test_acc = float(nets[0].accuracy(split.x_test, split.t_test, batch_size=1000))
    return float(history.test_acc[-1]), test_acc


def check_memory(config: TuneConfig, split: Split, workers: int = 1) -> None:
    """Refuse (``SearchError``, naming the option) a search whose largest net, trained by each of ``workers`` at
    once, would not fit in the memory available (``zerograd.engine.capacity``)."""
    import numpy as np

    from ..engine.capacity import CapacityError, check_mlp
    from .space import hidden_sizes

    hidden = config.hidden
    widest = max(
        ([hidden_sizes(o) for o in hidden.options] if isinstance(hidden, Choice) else [hidden]),
        key=lambda sizes: sum(sizes),
    )
    batch = config.batch_size
    largest_batch = int(
        batch.high if isinstance(batch, IntRange) else max(batch.options) if isinstance(batch, Choice) else batch
    )
    sizes = {
        "input_size": int(np.prod(split.x_train.shape[1:])),
        "hidden": list(widest),
        "classes": split.num_classes,
        "batch_size": min(largest_batch, len(split.x_train)),
    }
    what = "the largest net of this search" + (f", trained by {workers} workers at once," if workers > 1 else "")
    try:
        # NOTE: each worker holds its own net: counted as a net with `workers` times the itemsize
        check_mlp(
            sizes,
            {"hidden": "--hidden", "batch_size": "--batch-size"},
            np.dtype(config.dtype).itemsize * workers,
            what=what,
        )
    except CapacityError as err:
        raise SearchError(str(err)) from None


def _study_exists(storage: Any, name: str) -> bool:
    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    return True
