"""Where a study lives: Optuna's RDB storage (SQLite file, PostgreSQL or MySQL server), shared by every worker.

``open_storage`` turns a URL into a storage with heartbeats: each running trial's worker writes a heartbeat every
``HEARTBEAT_S`` seconds, and a trial whose heartbeat is older than ``GRACE_S`` belongs to a dead worker; it is
marked failed and queued again with the same values (``RetryHeartbeatStaleTrialCallback``). Workers on this
machine also record ``host:pid:start`` in each trial, so a trial of a killed local process is failed and retried
at once, without waiting for the grace period.

``open_study`` creates the study or continues it, checking that the search space stored with it is the one asked
for *before* anything is written.
"""

from __future__ import annotations

import datetime
import os
import socket
import time
import warnings
from typing import Any

from .config import TuneConfig

__all__ = [
    "GRACE_S",
    "HEARTBEAT_S",
    "SPEC_ATTR",
    "TuneError",
    "count_states",
    "fail_dead_local_trials",
    "make_pruner",
    "make_sampler",
    "open_storage",
    "open_study",
    "redact",
    "require_optuna",
    "worker_id",
]

SPEC_ATTR = "zerograd_spec"  # study user attribute: TuneConfig.spec() of the run that created the study
HEARTBEAT_S = 5
GRACE_S = 20  # four missed heartbeats: a worker busy in one long epoch still beats from its own thread
ORPHAN_S = 30  # a trial that has named no worker after this long lost its worker at its very start
MAX_RETRY = 2  # a trial whose worker died is run again at most twice
INSTALL_HINT = "pip install 'zerograd[tune]'"


class TuneError(ValueError):
    """A study that cannot be run as asked: bad storage URL, another search space, missing optuna."""


def require_optuna() -> Any:
    """Import optuna quietly (its logging and experimental-API warnings off), or say which extra installs it."""
    try:
        import optuna
    except ImportError:
        raise TuneError(f"optuna is not installed: {INSTALL_HINT}") from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
    return optuna


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1] if "@" in url else url


def open_storage(url: str, heartbeat: bool = True) -> Any:
    """An ``optuna.storages.RDBStorage`` for ``url`` (``sqlite:///path.db``, ``postgresql://user:pw@host/db``,
    ``mysql+pymysql://...``), connected and checked; every problem is one ``TuneError`` line."""
    optuna = require_optuna()
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise TuneError(
            f"--storage {url!r} is not a database URL; expected sqlite:///tune.db or postgresql://user:password@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "mysql"):
        raise TuneError(f"--storage {redact(url)}: unsupported database {backend!r}; use sqlite, postgresql or mysql")
    engine_kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise TuneError(
                f"--storage {url}: give a file, e.g. sqlite:///tune.db (an in-memory database cannot "
                f"be shared or continued)"
            )
        folder = os.path.dirname(os.path.abspath(parsed.database))
        if not os.path.isdir(folder):
            raise TuneError(f"--storage {url}: the folder {folder} does not exist")
        engine_kwargs = {"creator": lambda: _sqlite_connect(parsed.database)}
    elif backend == "postgresql":
        engine_kwargs = {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
        url = _with_postgres_driver(parsed)
    elif backend == "mysql":
        engine_kwargs = {"pool_pre_ping": True}
    from optuna.storages import RDBStorage

    callback_cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    kwargs: dict[str, Any] = {}
    if heartbeat:
        kwargs = {"heartbeat_interval": HEARTBEAT_S, "grace_period": GRACE_S}
        if callback_cls is not None:  # optuna >= 4.9
            kwargs["heartbeat_stale_trial_callback"] = callback_cls(max_retry=MAX_RETRY)
        else:
            kwargs["failed_trial_callback"] = optuna.storages.RetryFailedTrialCallback(max_retry=MAX_RETRY)
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    try:
        _check_database(url, engine_kwargs)  # before Optuna, which would "repair" a dropped table by an empty one
        for attempt in range(4):
            try:
                return RDBStorage(url, engine_kwargs=engine_kwargs, **kwargs)
            except (IntegrityError, ProgrammingError, OperationalError) as err:
                # NOTE: workers started together on an empty database all create Optuna's tables; PostgreSQL
                # lets one win and the others fail with a duplicate key, SQLite with "table ... already exists":
                # by then the tables exist, so try again
                if attempt == 3 or (isinstance(err, OperationalError) and "already exists" not in str(err)):
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")
    except ImportError:
        raise TuneError(
            f"--storage {redact(url)}: no database driver for {parsed.drivername} is installed: "
            f"{INSTALL_HINT} (PostgreSQL), or the driver the URL names"
        ) from None
    except Exception as err:  # sqlalchemy's OperationalError and friends: one line, no traceback
        first = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
        raise TuneError(f"cannot open the storage {redact(url)}: {first}") from None


def _check_database(url: str, engine_kwargs: dict[str, Any]) -> None:
    from sqlalchemy import create_engine

    from .health import check_database

    engine = create_engine(url, **engine_kwargs)
    try:
        check_database(engine)
    finally:
        engine.dispose()


def _with_postgres_driver(parsed: Any) -> str:
    """``postgresql://`` with the driver that is installed: SQLAlchemy 2.0 assumes psycopg2 there, 2.1 psycopg 3;
    the ``tune`` extra installs psycopg 3. An explicit ``postgresql+driver://`` is kept."""
    import importlib.util

    if "+" not in parsed.drivername:
        for driver in ("psycopg", "psycopg2"):
            if importlib.util.find_spec(driver) is not None:
                return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=False)


def _sqlite_connect(path: str) -> Any:
    import sqlite3

    # NOTE: SQLite lets one writer in at a time; a worker waits up to a minute for its turn instead of failing
    conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
    # Write-ahead logging: readers never wait for the writer, and a commit is one append instead of two fsyncs of
    # the journal (10 ms each here, 4 of every 20 seconds of a small study); a killed process loses nothing
    # committed. NOTE: WAL needs a local disk; SQLite on a network folder should be a server URL instead.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def make_sampler(config: TuneConfig) -> Any:
    """``random``: ``TrialSeededRandomSampler`` (the same values for trial k in every run, any worker count);
    ``tpe``: Optuna's TPE with the constant liar (parallel workers do not all try the same point), seeded per trial
    (``TrialSeededSampler``: a continued study or a second machine never re-draws the first one's points)."""
    optuna = require_optuna()
    from .sampler import TrialSeededRandomSampler, TrialSeededSampler

    if config.sampler == "random":
        return TrialSeededRandomSampler(config.seed)
    return TrialSeededSampler(lambda seed: optuna.samplers.TPESampler(seed=seed, constant_liar=True), config.seed)


def make_pruner(config: TuneConfig) -> Any:
    """halving: successive halving from epoch ``max(1, epochs // 10)`` keeping the best third at each rung
    (rungs at 5, 15, 45 epochs for 50); median: stop a trial below the median of earlier ones at the same epoch."""
    optuna = require_optuna()
    first_rung = max(1, config.epochs // 10)
    if config.prune == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=first_rung, reduction_factor=3)
    if config.prune == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=first_rung)
    return optuna.pruners.NopPruner()


def open_study(
    storage: Any, name: str, config: TuneConfig, sampler: Any = None, pruner: Any = None, create: bool = True
) -> Any:
    """Continue the study ``name`` in ``storage`` if it exists and was created with ``config``'s spec, else create
    it (when ``create``). A study of another search space raises ``TuneError`` and is left untouched."""
    optuna = require_optuna()
    from .health import DamagedStorageError, check_study, check_study_name

    try:
        check_study_name(name)
    except ValueError as err:
        raise TuneError(str(err)) from None
    spec = config.spec()
    try:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        if not create:
            raise TuneError(f"no study {name!r} in {redact(storage.url)}") from None
        study = None
    if study is not None:
        try:
            check_study(study)
        except DamagedStorageError as err:
            raise TuneError(f"the study {name!r} in {redact(storage.url)}: {err}") from None
        if SPEC_ATTR not in study.user_attrs and not study.get_trials(deepcopy=False):
            # NOTE: another worker created it a moment ago and has not stored its spec yet: store ours; if the two
            # differ, the check below (in both workers) sees the one that was written last and one of them stops
            study.set_user_attr(SPEC_ATTR, spec)
        _check_spec(study, name, storage, spec)
        return study
    try:
        study = optuna.create_study(
            study_name=name, storage=storage, sampler=sampler, pruner=pruner, direction="maximize", load_if_exists=True
        )
    except Exception as err:
        raise TuneError(f"cannot create the study {name!r} in {redact(storage.url)}: {err}") from None
    if SPEC_ATTR not in study.user_attrs:
        study.set_user_attr(SPEC_ATTR, spec)
    _check_spec(study, name, storage, spec)  # a worker elsewhere may have created it a moment before
    return study


def _check_spec(study: Any, name: str, storage: Any, spec: dict[str, Any]) -> None:
    stored = study.user_attrs.get(SPEC_ATTR)
    where = f"the study {name!r} in {redact(storage.url)}"
    if stored is None:
        raise TuneError(f"{where} was not created by zerograd tune; give another --study name")
    if stored != spec:
        diffs = [
            f"{key} {stored.get(key)!s} there, {spec.get(key)!s} here"
            for key in sorted(set(stored) | set(spec))
            if stored.get(key) != spec.get(key)
        ]
        raise TuneError(
            f"{where} was created with another search space ({'; '.join(diffs)}); give another "
            f"--study name, or the same settings to continue it"
        )
    if len(study.directions) != 1 or study.direction.name != "MAXIMIZE":
        raise TuneError(f"{where} does not maximize one value; give another --study name")


def count_states(study: Any) -> dict[str, int]:
    """``{"COMPLETE": n, "PRUNED": n, "RUNNING": n, "WAITING": n, "FAIL": n}`` of the study's trials now."""
    counts = {"COMPLETE": 0, "PRUNED": 0, "RUNNING": 0, "WAITING": 0, "FAIL": 0}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def worker_id() -> str:
    """``host:pid:start``: names this process for the trials it runs; ``start`` tells a reused pid apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            # the command name (field 2) may hold spaces; the fields after its ")" are fixed
            return f.read().rpartition(")")[2].split()[19]  # field 22: start time in clock ticks
    except (OSError, IndexError):
        return "?"


def _alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname():
        return True  # another machine's worker: its heartbeat tells
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    return start in ("?", _start_ticks(pid))


def fail_dead_local_trials(study: Any) -> list[int]:
    """Fail the RUNNING trials whose worker was a process on this machine that no longer exists (or that never
    named a worker and are ``ORPHAN_S`` old), and queue each again (same values) through the storage's retry
    callback. Returns the numbers of the trials failed here."""
    optuna = require_optuna()
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage
    getter = getattr(storage, "get_heartbeat_stale_trial_callback", None) or getattr(
        storage, "get_failed_trial_callback", None
    )  # optuna >= 4.9, and before
    callback = getter() if getter is not None else None
    failed = []
    now = datetime.datetime.now()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get("worker")
        if owner and _alive(owner):
            continue
        # NOTE: a worker killed in the moment between creating a trial and naming itself in it leaves a trial with
        # no owner (and often no heartbeat): failed once it is ORPHAN_S old, which no live trial is without owner
        if not owner and (trial.datetime_start is None or (now - trial.datetime_start).total_seconds() < ORPHAN_S):
            continue
        try:
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except (UpdateFinishedTrialError, optuna.exceptions.StorageInternalError):
            continue  # another process failed it first
        failed.append(trial.number)
        if callback is not None:
            callback(study, storage.get_trial(trial._trial_id))
    return failed
