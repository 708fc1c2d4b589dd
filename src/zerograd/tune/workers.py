"""Workers: processes that take trials from the shared study until it holds the requested number.

A worker loops: fail the trials of dead workers (``study.fail_dead_local_trials`` and Optuna's heartbeat), count
the study's trials, and run one more trial while fewer than ``target`` are finished or under way. Several workers
(here, on other machines, in separately started commands) share one study through its storage; nothing else
coordinates them.

NOTE: two workers may both see 99 of 100 trials and both start one. A trial therefore checks its place when it
starts: if ``target`` live trials (finished, running or queued) precede it, it is surplus and ends at once as
FAIL with the user attribute ``surplus``, so the study never finishes more than ``target`` trials.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from ..train import DivergedError
from .config import HYPERPARAMETERS, TuneConfig
from .health import one_line_for_storage_errors_in_threads
from .objective import Split, load_split, train_trial
from .space import Choice, FloatRange, IntRange
from .study import (
    count_states,
    fail_dead_local_trials,
    make_pruner,
    make_sampler,
    open_storage,
    open_study,
    require_optuna,
    worker_id,
)

__all__ = ["Objective", "SurplusTrialError", "run_workers", "work"]

POLL_S = 0.5  # how often a waiting worker, or the parent's progress bar, looks at the study
# one thread per worker process, for BLAS and for zerograd's own row blocks (zerograd.engine.parallel): the workers
# themselves fill the cores
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "ZEROGRAD_THREADS",
)


class SurplusTrialError(Exception):
    """This trial was started after the study already had its ``target`` live trials."""


class Objective:
    """Optuna's objective: sample the values, train, report validation accuracy per epoch, prune when told."""

    def __init__(self, config: TuneConfig, split: Split, target: int) -> None:
        self.config, self.split, self.target = config, split, target
        self.worker = worker_id()

    def __call__(self, trial: Any) -> float:
        optuna = require_optuna()
        from optuna.trial import TrialState

        trial.set_user_attr("worker", self.worker)  # first: until then only the heartbeat tells it is alive
        ahead = sum(
            1 for t in trial.study.get_trials(deepcopy=False) if t.number < trial.number and t.state != TrialState.FAIL
        )
        if ahead >= self.target:
            trial.set_user_attr("surplus", True)
            raise SurplusTrialError(f"trial {trial.number}: the study already has {self.target} trials")
        values = self.sample(trial)
        # a retried trial (queued with a copy of the dead one's attributes) repeats its weights and batches
        key = int(trial.user_attrs.get("seed_key", trial.number))
        trial.set_user_attr("seed_key", key)

        def on_epoch(epoch: int, train_acc: float, val_acc: float) -> bool:
            train_accs.append(train_acc)
            trial.report(val_acc, step=epoch)
            return trial.should_prune()

        train_accs: list[float] = []
        started = time.perf_counter()
        try:
            history = train_trial(self.config, self.split, values, key, on_epoch=on_epoch)
        except DivergedError as err:
            trial.set_user_attr("diverged", f"epoch {err.epoch}")
            trial.set_user_attr("train_acc", train_accs)
            raise optuna.TrialPruned(str(err)) from None
        trial.set_user_attr("train_acc", train_accs)
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))
        if len(history.test_acc) < self.config.epochs:
            raise optuna.TrialPruned(f"stopped after epoch {len(history.test_acc)}")
        return history.test_acc[-1]  # the book ranks trials by the last epoch's validation accuracy

    def sample(self, trial: Any) -> dict[str, Any]:
        values = {}
        for name in HYPERPARAMETERS:
            value = getattr(self.config, name)
            if isinstance(value, FloatRange):
                value = trial.suggest_float(name, value.low, value.high, log=value.log)
            elif isinstance(value, IntRange):
                value = trial.suggest_int(name, value.low, value.high, log=value.log)
            elif isinstance(value, Choice):
                value = trial.suggest_categorical(name, list(value.options))
            values[name] = value
        return values


def work(
    config: TuneConfig,
    storage_url: str,
    study_name: str,
    target: int,
    split: Split | None = None,
    on_trial: Callable[[int], None] | None = None,
    orphan_exit: bool = False,
) -> int:
    """Run trials of the study until it has ``target`` finished (complete or pruned) trials. Returns how many
    this worker ran. on_trial: called with the study's number of finished trials after each trial this worker
    finishes (a progress bar). orphan_exit: stop when the parent process is gone (a worker of ``run_workers``)."""
    require_optuna()
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.storages import fail_stale_trials

    one_line_for_storage_errors_in_threads()  # Optuna's heartbeat thread meets a full disk first
    storage = open_storage(storage_url)
    study = open_study(
        storage, study_name, config, sampler=make_sampler(config), pruner=make_pruner(config), create=False
    )
    split = split if split is not None else load_split(config)
    objective = Objective(config, split, target)

    def finished_count(study: Any, trial: Any) -> None:
        if on_trial is not None and trial.state.name in ("COMPLETE", "PRUNED"):
            counts = count_states(study)
            on_trial(counts["COMPLETE"] + counts["PRUNED"])  # all workers' trials, not only this one's

    callbacks = [finished_count]
    done = 0
    parent = os.getppid()
    while True:
        if orphan_exit and os.getppid() != parent:
            return done  # the command that started this worker is gone (killed): stop with it
        fail_dead_local_trials(study)
        fail_stale_trials(study)
        counts = count_states(study)
        finished = counts["COMPLETE"] + counts["PRUNED"]
        if finished >= target:
            return done
        if finished + counts["RUNNING"] + counts["WAITING"] < target or counts["WAITING"]:
            try:
                study.optimize(
                    objective, n_trials=1, catch=(SurplusTrialError,), callbacks=callbacks, gc_after_trial=False
                )
            except UpdateFinishedTrialError:
                continue  # another worker declared this trial's worker dead (a stalled machine): it runs again
            done += 1
        else:
            time.sleep(POLL_S)  # the last trials run elsewhere: wait, in case their worker dies


def _worker_main(config: TuneConfig, storage_url: str, study_name: str, target: int, index: int) -> None:
    """A worker process (started by ``run_workers``): one line on stderr for a user error, exit status 1."""
    from ..datasets import DatasetError
    from .health import storage_error_line, storage_errors
    from .space import SearchError
    from .study import TuneError

    try:
        with contextlib.redirect_stderr(io.StringIO()):  # the parent has already said which data it uses
            split = load_split(config)
        work(config, storage_url, study_name, target, split=split, orphan_exit=True)
    except (TuneError, SearchError, DatasetError) as err:
        print(f"zerograd tune: worker {index}: error: {str(err).splitlines()[0]}", file=sys.stderr)
        raise SystemExit(1) from None
    except storage_errors() as err:
        print(
            f"zerograd tune: worker {index}: error: the study's storage failed while working: "
            f"{storage_error_line(err)}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def run_workers(
    config: TuneConfig,
    storage_url: str,
    study_name: str,
    target: int,
    workers: int,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[list[int | None], dict[int, list[int]]]:
    """Start ``workers`` processes (one BLAS thread each) on the study and wait for them. on_progress: called with
    the number of finished trials whenever it changes. Returns each worker's exit code (negative: killed by that
    signal), and for each worker (numbered from 1) that left a trial unfinished, that trial's number: the trials
    failed because their worker died and queued again."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no BLAS thread pool inherited from a fork
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})  # read by the BLAS of each spawned worker
    try:
        procs = [
            ctx.Process(
                target=_worker_main,
                args=(config, storage_url, study_name, target, i + 1),
                name=f"zerograd-tune-{i + 1}",
            )
            for i in range(workers)
        ]
        for p in procs:
            p.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    storage = open_storage(storage_url, heartbeat=False)
    study = open_study(storage, study_name, config, create=False)
    seen = -1
    try:
        while any(p.is_alive() for p in procs):
            for p in procs:
                p.join(timeout=POLL_S / len(procs))
            if on_progress is not None:
                counts = count_states(study)
                finished = counts["COMPLETE"] + counts["PRUNED"]
                if finished != seen:
                    seen = finished
                    on_progress(finished)
    except BaseException:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=10)
        raise
    fail_dead_local_trials(study)  # a worker killed mid-trial left its trial RUNNING: fail it and queue it again
    if on_progress is not None:
        counts = count_states(study)
        on_progress(counts["COMPLETE"] + counts["PRUNED"])
    return [p.exitcode for p in procs], _requeued(study, procs)


def _requeued(study: Any, procs: list[Any]) -> dict[int, list[int]]:
    """Worker index (from 1) → numbers of its trials that failed with it and were queued again."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    retried = {t.system_attrs.get("failed_trial") for t in trials}
    lost: dict[int, list[int]] = {}
    for index, p in enumerate(procs, start=1):
        if not p.exitcode:
            continue
        mine = [
            t.number
            for t in trials
            if t.state == TrialState.FAIL
            and t.number in retried
            and str(t.user_attrs.get("worker", "")).split(":")[1:2] == [str(p.pid)]
        ]
        if mine:
            lost[index] = mine
    return lost
