"""Is this storage an intact study? Checked before a study is continued, so damage is one line, not a traceback.

Optuna trusts its database: it recreates a dropped table empty (old trials then read as COMPLETE with no value),
asserts on a NULL value, and raises ``JSONDecodeError`` from deep inside on a damaged attribute. Here, before
anything is written:

- ``check_database``: SQLite's own ``quick_check`` (a flipped byte), then the tables: none of Optuna's (a new
  database, which Optuna sets up), or all of them with their columns (``SCHEMA``); a ``studies`` table of another
  application, or a missing table, is refused.
- ``check_study``: every trial of the study reads back, a complete trial has a finite value, every parameter is a
  value of its distribution.
- ``check_study_name``: a name the database can store (UTF-8 text, at most Optuna's 512 characters).

``storage_errors()`` are what a storage raises when it fails while a study runs (a full disk, a lost server): the
command reports them in one line (``storage_error_line``), with exit status 1.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "SCHEMA",
    "DamagedStorageError",
    "check_database",
    "check_study",
    "check_study_name",
    "one_line_for_storage_errors_in_threads",
    "storage_error_line",
    "storage_errors",
]

MAX_STUDY_NAME = 512  # Optuna's studies.study_name column

# Optuna's RDB tables and the columns zerograd's studies use (Optuna 3 to 5; tests compare it with Optuna's own)
SCHEMA = {
    "studies": ("study_id", "study_name"),
    "study_directions": ("study_direction_id", "direction", "study_id", "objective"),
    "study_user_attributes": ("study_user_attribute_id", "study_id", "key", "value_json"),
    "study_system_attributes": ("study_system_attribute_id", "study_id", "key", "value_json"),
    "trials": ("trial_id", "number", "study_id", "state", "datetime_start", "datetime_complete"),
    "trial_user_attributes": ("trial_user_attribute_id", "trial_id", "key", "value_json"),
    "trial_system_attributes": ("trial_system_attribute_id", "trial_id", "key", "value_json"),
    "trial_params": ("param_id", "trial_id", "param_name", "param_value", "distribution_json"),
    "trial_values": ("trial_value_id", "trial_id", "objective", "value", "value_type"),
    "trial_intermediate_values": (
        "trial_intermediate_value_id",
        "trial_id",
        "step",
        "intermediate_value",
        "intermediate_value_type",
    ),
    "trial_heartbeats": ("trial_heartbeat_id", "trial_id", "heartbeat"),
    "version_info": ("version_info_id", "schema_version", "library_version"),
}


class DamagedStorageError(ValueError):
    """Raised by the checks below; ``study.TuneError`` wraps it with the storage's name."""


def check_study_name(name: Any) -> None:
    """A study name the database can store (else ``ValueError``): text that is UTF-8 (a command-line byte that is
    not is kept by Python as a lone surrogate, which no database takes), not empty, at most ``MAX_STUDY_NAME``
    characters."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"--study must be a name, got {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"--study {name!r} is not UTF-8 text; give a name in plain text") from None
    if len(name) > MAX_STUDY_NAME:
        raise ValueError(f"--study is {len(name)} characters long; at most {MAX_STUDY_NAME}")


def check_database(engine: Any) -> None:
    """Refuse a database that is damaged or not Optuna's: SQLite's ``quick_check``, then ``SCHEMA``."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = [str(r[0]) for r in conn.execute(text("PRAGMA quick_check(5)"))]
            if rows != ["ok"]:
                found = " ".join(rows[:2]).replace("*** in database main *** ", "")
                raise DamagedStorageError(f"the database file is damaged (SQLite's quick_check: {found[:120]})")
        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        present = [name for name in SCHEMA if name in tables]
        if not present:
            return  # a new database: Optuna creates its tables
        for name in present:
            columns = {c["name"] for c in inspector.get_columns(name)}
            missing = [c for c in SCHEMA[name] if c not in columns]
            if missing:
                if len(present) < len(SCHEMA):  # a lone table of that name, without Optuna's others
                    raise DamagedStorageError(
                        f"it holds another application's tables ({name} has no "
                        f"{', '.join(missing[:3])}); give another --storage"
                    )
                raise DamagedStorageError(f"the study database is damaged: table {name} lacks {', '.join(missing[:3])}")
        absent = [name for name in SCHEMA if name not in tables]
        # NOTE: Optuna creates its tables one by one and records its version last: tables missing before that are
        # another worker's set-up under way (started together on a new database), after it they are damage
        if absent and "version_info" in tables and conn.execute(text("SELECT COUNT(*) FROM version_info")).scalar():
            raise DamagedStorageError(f"the study database is damaged: table {', '.join(absent[:3])} is missing")


def check_study(study: Any) -> None:
    """Refuse a study whose trials do not read back as Optuna wrote them (see the module's docstring)."""
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState

    try:
        study.user_attrs  # noqa: B018 - reading them is the check (their JSON)
        trials = study.get_trials(deepcopy=False)
    except Exception as err:  # noqa: BLE001 - JSONDecodeError, AssertionError, ValueError: Optuna's reading failed
        raise DamagedStorageError(f"the study does not read back ({_first_line(err)})") from None
    for trial in trials:
        if trial.state == TrialState.COMPLETE and not _finite(trial.value):
            raise DamagedStorageError(
                f"trial {trial.number} is complete but has no value ({trial.value!r}): its values are lost"
            )
        for name, value in trial.params.items():
            dist = trial.distributions.get(name)
            if isinstance(dist, CategoricalDistribution):
                bad = value not in dist.choices
            else:
                bad = not _finite(value) or not (getattr(dist, "low", value) <= value <= getattr(dist, "high", value))
            if bad:
                raise DamagedStorageError(
                    f"trial {trial.number}'s {name} is {value!r}, not a value of its range {dist!r}"[:300]
                )


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a storage raises when it fails while the study runs (Optuna's and SQLAlchemy's)."""
    import sqlite3

    from optuna.exceptions import StorageInternalError
    from sqlalchemy.exc import SQLAlchemyError

    return (StorageInternalError, SQLAlchemyError, sqlite3.Error, DamagedStorageError)


def one_line_for_storage_errors_in_threads() -> None:
    """Make a storage failure in a background thread (Optuna's heartbeat, writing every few seconds) one warning
    line instead of a thread traceback; the trial loop meets the same failure and reports it. Other exceptions go
    to the previous hook."""
    import sys
    import threading

    previous = threading.excepthook
    if getattr(previous, "zerograd", False):
        return

    def hook(args: Any) -> None:
        if args.exc_value is not None and isinstance(args.exc_value, storage_errors()):
            print(
                f"zerograd tune: warning: {args.thread.name if args.thread else 'a thread'} could not write to the "
                f"study's storage: {storage_error_line(args.exc_value)}",
                file=sys.stderr,
            )
            return
        previous(args)

    hook.zerograd = True  # type: ignore[attr-defined]
    threading.excepthook = hook


def storage_error_line(err: BaseException) -> str:
    """One line for a storage failure: the database's own reason when there is one (a full disk, a lost server),
    not Optuna's generic "An exception is raised during the commit"."""
    cause: BaseException | None = err
    while cause is not None and cause.__cause__ is not None and "during the commit" in str(cause):
        cause = cause.__cause__
    return _first_line(cause or err)


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:200]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
