"""zerograd tune on damaged studies and storages (issue 22 items 4, 13, 18) and without repeated search points (item
17): each damage is one named line with exit status 2 (1 for a storage that fails while working), never a study
continued as if whole; TPE draws each trial from the trial's own seed, so a continued study and two processes on
one study never try the same configuration twice."""

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import uuid

import pytest

optuna = pytest.importorskip("optuna", reason="optuna is not installed (pip install '.[test]')")

SMALL = ["--dataset", "mnist-sample", "--train-samples", "300", "--hidden", "10", "--epochs", "1", "--no-plot"]


def tune(*args, cwd, preexec_fn=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "zerograd", "tune", *args],
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        preexec_fn=preexec_fn,
    )


def one_error_line(result, code):
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == code, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("zerograd tune: error: "), err[-3000:]
    return lines[-1]


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory):
    """A finished 3-trial study (random sampler), to be copied and damaged."""
    folder = tmp_path_factory.mktemp("study")
    result = tune(*SMALL, "--sampler", "random", "--trials", "3", "--out", "run", cwd=folder)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return folder / "run"


def sql(db, script):
    conn = sqlite3.connect(db)
    conn.executescript(script)
    conn.commit()
    conn.close()


def flip_page_bytes(db):
    data = bytearray(db.read_bytes())
    page = 4096
    for offset in range(page + 8, min(len(data), 3 * page), 97):  # inside the pages after the header page
        data[offset] ^= 0xFF
    db.write_bytes(bytes(data))


def other_application(db):
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE studies (id INTEGER PRIMARY KEY, title TEXT)")
    conn.execute("INSERT INTO studies VALUES (1, 'my thesis')")
    conn.commit()
    conn.close()


DAMAGES = {
    "dropped trial_values": (lambda db: sql(db, "DROP TABLE trial_values;"), "table trial_values is missing"),
    "a flipped byte": (flip_page_bytes, "damaged"),
    "another app's studies table": (other_application, "another application's tables"),
    "a NaN parameter": (
        lambda db: sql(db, "UPDATE trial_params SET param_value = 'nan' WHERE param_id = 1;"),
        "not a value of its range",
    ),
    "a NULL parameter": (
        lambda db: sql(db, "UPDATE trial_params SET param_value = NULL WHERE param_id = 1;"),
        "not a value of its range",
    ),
    "a parameter out of range": (
        lambda db: sql(db, "UPDATE trial_params SET param_value = 1e9 WHERE param_id = 1;"),
        "not a value of its range",
    ),
    "bad JSON in study attributes": (
        lambda db: sql(db, "UPDATE study_user_attributes SET value_json = '{bad';"),
        "does not read back",
    ),
    "bad JSON in trial attributes": (
        lambda db: sql(db, "UPDATE trial_user_attributes SET value_json = '{bad';"),
        "does not read back",
    ),
    "bad JSON in a distribution": (
        lambda db: sql(db, "UPDATE trial_params SET distribution_json = '[';"),
        "does not read back",
    ),
    "a complete trial without its value": (
        lambda db: sql(db, "DELETE FROM trial_values WHERE trial_id = 1;"),
        "complete but has no value",
    ),
    "a NULL value": (lambda db: sql(db, "UPDATE trial_values SET value = NULL;"), "does not read back"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_study_is_one_line_and_left_as_it_was(study_folder, tmp_path, damage):
    folder = tmp_path / "run"
    shutil.copytree(study_folder, folder)
    db = folder / "tune.db"
    harm, message = DAMAGES[damage]
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file, so the damage reaches it
    conn.close()
    harm(db)
    line = one_error_line(tune(*SMALL, "--sampler", "random", "--trials", "5", "--out", "run", cwd=tmp_path), 2)
    assert message in line, line
    if damage == "dropped trial_values":
        tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "trial_values" not in tables  # not recreated empty (which made the old trials COMPLETE, no value)


def test_a_study_name_that_is_not_utf8_is_one_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"zerograd",
            b"tune",
            *[a.encode() for a in SMALL],
            b"--trials",
            b"1",
            b"--study",
            b"\xff\xfe",
            b"--out",
            b"run",
        ],
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert "--study" in one_error_line(result, 2)


def test_a_disk_that_fills_during_a_study_is_one_line_with_exit_1(study_folder, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(study_folder, folder)
    room = sum(p.stat().st_size for p in folder.iterdir()) + 3 * 4096

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))  # a write past it fails as on a full disk

    line = one_error_line(
        tune(*SMALL, "--sampler", "random", "--trials", "40", "--out", "run", cwd=tmp_path, preexec_fn=small_disk), 1
    )
    assert "failed while working" in line, line


def test_the_schema_is_optunas():
    from zerograd.tune.health import SCHEMA

    models = pytest.importorskip("optuna.storages._rdb.models")
    theirs = {name: {c.name for c in table.columns} for name, table in models.BaseModel.metadata.tables.items()}
    assert set(SCHEMA) == set(theirs)
    for name, columns in SCHEMA.items():
        assert set(columns) <= theirs[name], name


# -- item 17: no repeated search points --------------------------------------------------------------------------


def configurations(db, name="zerograd"):
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    return [
        json.dumps(t.params, sort_keys=True)
        for t in sorted(study.trials, key=lambda t: t.number)
        if not t.user_attrs.get("surplus") and t.params
    ]


SEARCH = ["--sampler", "tpe", "--prune", "none", "--lr", "1e-3..1e-1", "--weight-decay", "1e-8..1e-4"]


def test_continuing_a_tpe_study_does_not_repeat_its_first_points(tmp_path):
    first = tune(*SMALL, *SEARCH, "--trials", "4", "--out", "run", cwd=tmp_path)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    again = tune(*SMALL, *SEARCH, "--trials", "8", "--out", "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    seen = configurations(tmp_path / "run" / "tune.db")
    assert len(seen) == 8 and len(set(seen)) == 8, seen


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_on_one_study_never_try_the_same_configuration(tmp_path, backend):
    if backend == "sqlite":
        storage, name = f"sqlite:///{tmp_path / 'shared.db'}", "zerograd"
    else:
        storage = os.environ.get("ZEROGRAD_TEST_POSTGRES_URL")
        if not storage:
            pytest.skip("no PostgreSQL server: set ZEROGRAD_TEST_POSTGRES_URL (.ci/postgres-cluster starts one)")
        name = f"tpe-{uuid.uuid4().hex[:8]}"
    # trials long enough that the two processes overlap
    args = [*SMALL, *SEARCH, "--trials", "10", "--epochs", "300", "--storage", storage, "--study", name]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "zerograd", "tune", *args, "--out", f"m{i}"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    study = optuna.load_study(study_name=name, storage=storage)
    done = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == 10
    assert len({json.dumps(t.params, sort_keys=True) for t in done}) == 10
    assert len({t.user_attrs["worker"] for t in done}) == 2  # both processes took trials


def test_the_trial_seeded_sampler_depends_on_the_trial_not_the_process():
    from zerograd.tune.sampler import TrialSeededSampler, trial_seed

    assert trial_seed(0, 4) != trial_seed(0, 0) and trial_seed(0, 4) == trial_seed(0, 4)
    made = []

    def make(seed):
        made.append(seed)
        return optuna.samplers.RandomSampler(seed=seed)

    def values(sampler):
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4)
        return [t.params["x"] for t in study.trials]

    a, b = values(TrialSeededSampler(make, 7)), values(TrialSeededSampler(make, 7))
    assert a == b and len(set(a)) == 4  # the same in two "processes", different across trials
    assert made[:4] == [trial_seed(7, k) for k in range(4)]


# -- item 18: a worker's exit names only what really happened -----------------------------------------------------


def test_a_worker_exit_says_a_trial_was_queued_again_only_when_one_was(tmp_path, capsys):
    import argparse

    from zerograd.commands.tune import report
    from zerograd.tune import TuneResult, book_preset

    result = TuneResult(
        config=book_preset(),
        study_name="s",
        storage="sqlite:///x.db",
        target=0,
        records=[],
        counts={"COMPLETE": 0, "PRUNED": 0, "RUNNING": 0, "WAITING": 0, "FAIL": 1},
        best=None,
        worker_exits=[1, -9, 0],
        requeued={2: [5]},
    )
    args = argparse.Namespace(top=3, no_plot=True)
    report(result, args, tmp_path)
    err = capsys.readouterr().err
    assert "worker 1 stopped with exit status 1\n" in err  # an error before any trial: nothing failed
    assert "worker 2 was killed by signal 9; its trial 5 failed with it and was queued again" in err
    assert "worker 3" not in err and err.count("queued again") == 1


def test_a_storage_failure_in_a_background_thread_is_one_warning_line(capfd):
    import threading

    from zerograd.tune.health import one_line_for_storage_errors_in_threads

    saved = threading.excepthook
    try:
        one_line_for_storage_errors_in_threads()

        def heartbeat():
            raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.")

        t = threading.Thread(target=heartbeat, name="heartbeat")
        t.start()
        t.join()
    finally:
        threading.excepthook = saved
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("zerograd tune: warning: heartbeat could not write to the study's storage")
