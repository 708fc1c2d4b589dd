"""zerograd.tune and `zerograd tune`: the book's search space, workers sharing SQLite and PostgreSQL studies, a
killed worker's trial retried, a continued study, one-line errors that leave the study as it was.

Every run is the book preset scaled down by flags (the bundled MNIST sample, a few hundred images, tiny nets,
few epochs), so the whole module takes well under a minute or two on 2 busy cores.
"""

import math
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="optuna is not installed (pip install '.[test]')")

from zerograd.cli import main  # noqa: E402
from zerograd.tune import FloatRange, SearchError, TuneConfig, TuneError, book_preset, run, train_command  # noqa: E402
from zerograd.tune.config import BOOK_TRIALS  # noqa: E402
from zerograd.tune.sampler import TrialSeededRandomSampler  # noqa: E402
from zerograd.tune.space import Choice, IntRange, parse_hidden, parse_param  # noqa: E402

# The book preset, scaled down: 300 images (240 train / 60 validation), 2 hidden layers of 20, 3 epochs.
SMALL = [
    "--preset",
    "book",
    "--dataset",
    "mnist-sample",
    "--train-samples",
    "300",
    "--hidden",
    "20,20",
    "--epochs",
    "3",
]


def small_config(**changes):
    small = {"dataset": "mnist-sample", "train_samples": 300, "hidden": (20, 20), "epochs": 3}
    return book_preset().replace(**{**small, **changes})


def zerograd(*args, timeout=300, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "zerograd", *map(str, args)], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def cli(argv):
    return main([str(a) for a in argv])


def load(storage, name="zerograd"):
    return optuna.load_study(study_name=name, storage=storage)


def finished(study):
    return [t for t in study.get_trials() if t.state.name in ("COMPLETE", "PRUNED")]


# -- the search space ------------------------------------------------------------------------------------------


def test_book_preset_is_the_books_search():
    c = book_preset()
    # ch06/hyperparameter_optimization.py: x_train[:500], validation_rate 0.20, epochs 50, [100]*6, batch 100,
    # SGD, lr = 10 ** uniform(-6, -2), weight_decay = 10 ** uniform(-8, -4), 100 trials, random search
    assert (c.train_samples, c.val_fraction, c.epochs, c.hidden) == (500, 0.2, 50, (100,) * 6)
    assert (c.batch_size, c.optimizer, c.init, c.activation, c.sampling) == (100, "sgd", "he", "relu", "book")
    assert c.lr == FloatRange(1e-6, 1e-2, log=True) and c.weight_decay == FloatRange(1e-8, 1e-4, log=True)
    assert (c.sampler, c.prune, BOOK_TRIALS) == ("random", "none", 100)
    assert set(c.searched()) == {"lr", "weight_decay"}


def test_parse_param_forms():
    assert parse_param("lr", "1e-6..1e-2", float, log=True) == FloatRange(1e-6, 1e-2, True)
    assert parse_param("dropout", "0..0.5", float) == FloatRange(0.0, 0.5, False)
    assert parse_param("lr", "0.001..0.1:linear", float, log=True) == FloatRange(0.001, 0.1, False)
    assert parse_param("batch_size", "32..256", int, log=True) == IntRange(32, 256, True)
    assert parse_param("batch_size", "32/64", int) == Choice((32, 64))
    assert parse_param("optimizer", "sgd/Adam", str) == Choice(("sgd", "adam"))
    assert parse_param("lr", "0.01", float) == 0.01
    assert parse_hidden("100x6") == (100,) * 6
    assert parse_hidden("50/100,100/20x3") == Choice(("50", "100,100", "20,20,20"))
    for text in ("1e-2..1e-6", "0.1..0.1", "0..1e-2", "1e-2..x", "nan..1"):
        with pytest.raises(SearchError):
            parse_param("lr", text, float, log=True)


def _fake_trial(number):
    return type("T", (), {"number": number})()


def test_trial_seeded_sampler_is_log_uniform_and_reproducible():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    sampler = TrialSeededRandomSampler(seed=3)
    n = 3000
    log_dist, lin_dist = FloatDistribution(1e-6, 1e-2, log=True), FloatDistribution(0.0, 0.5)
    lr = np.array([sampler.sample_independent(None, _fake_trial(k), "lr", log_dist) for k in range(n)])
    drop = np.array([sampler.sample_independent(None, _fake_trial(k), "dropout", lin_dist) for k in range(n)])
    assert lr.min() >= 1e-6 and lr.max() <= 1e-2 and drop.min() >= 0 and drop.max() <= 0.5

    def ks(u):  # Kolmogorov-Smirnov distance of u (in [0, 1]) from the uniform distribution
        u = np.sort(u)
        return max(np.max(np.arange(1, len(u) + 1) / len(u) - u), np.max(u - np.arange(len(u)) / len(u)))

    # 1.95 / sqrt(n) is the 0.1 % critical value; a linear draw over 1e-6..1e-2 would be ~0.75 away
    assert ks((np.log10(lr) + 6) / 4) < 1.95 / math.sqrt(n)
    assert ks(drop / 0.5) < 1.95 / math.sqrt(n)
    assert ks((lr - 1e-6) / (1e-2 - 1e-6)) > 0.5  # and the test can tell: these are far from linear-uniform
    sizes = [
        sampler.sample_independent(None, _fake_trial(k), "b", IntDistribution(16, 256, log=True)) for k in range(n)
    ]
    assert 16 <= min(sizes) and max(sizes) <= 256 and abs(np.mean(np.array(sizes) < 64) - 0.5) < 0.05
    choice = CategoricalDistribution(["sgd", "adam"])
    picks = [sampler.sample_independent(None, _fake_trial(k), "optimizer", choice) for k in range(n)]
    assert abs(picks.count("adam") / n - 0.5) < 0.05
    again = TrialSeededRandomSampler(seed=3).sample_independent(None, _fake_trial(7), "lr", log_dist)
    assert again == lr[7]  # trial 7 draws the same value in every run


def test_scaled_down_book_preset_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["tune", *SMALL, "--epochs", "1", "--trials", "20", "--out", out]) == 0
    text = capsys.readouterr().out
    study = load(f"sqlite:///{out / 'tune.db'}")
    trials = finished(study)
    assert len(trials) == 20 and {t.number for t in trials} == set(range(20))
    for t in trials:
        assert t.distributions["lr"] == optuna.distributions.FloatDistribution(1e-6, 1e-2, log=True)
        assert t.distributions["weight_decay"] == optuna.distributions.FloatDistribution(1e-8, 1e-4, log=True)
        assert 1e-6 <= t.params["lr"] <= 1e-2 and 1e-8 <= t.params["weight_decay"] <= 1e-4
    # log-uniform: about half of the values lie below the range's geometric middle (a uniform draw: ~1 %)
    assert 5 <= sum(t.params["lr"] < 1e-4 for t in trials) <= 15
    assert 5 <= sum(t.params["weight_decay"] < 1e-6 for t in trials) <= 15
    assert "240 training and 60 validation samples" in text and "test accuracy" in text
    assert "zerograd train --dataset mnist-sample --hidden 20,20 " in text and "--sampling book" in text
    rows = (out / "trials.csv").read_text().splitlines()
    assert rows[0].startswith("trial,state,val_acc,epochs,lr,weight_decay") and len(rows) == 21
    for name in ("tune-curves.png", "tune-space.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_run_continues_the_study_and_the_best_is_trained_again(tmp_path):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    config = small_config()
    first = run(config, trials=3, storage=storage)
    assert first.finished == 3 and first.best is not None
    notes = []
    second = run(config, trials=5, storage=storage, log=notes.append)
    assert "3 of 5 trials finished" in notes[0]
    assert second.finished == 5 and [r.number for r in second.records] == list(range(5))
    assert [r.values for r in second.records[:3]] == [r.values for r in first.records]  # kept as they were
    # the best trial's net is trained again from its seeds: the same validation accuracy, then the test set once
    assert second.reproduced_val_acc == pytest.approx(second.best.value, abs=1e-12)
    assert 0 <= second.test_acc <= 1


def test_halving_prunes_weak_trials(tmp_path):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    config = small_config(epochs=9, prune="halving", lr=FloatRange(1e-5, 1.0, log=True))
    result = run(config, trials=12, storage=storage, evaluate=False)
    states = [r.state for r in result.records]
    assert states.count("COMPLETE") + states.count("PRUNED") == 12 and states.count("PRUNED") >= 3
    assert result.epochs_spent < 12 * 9
    for r in result.records:
        assert r.epochs == (9 if r.state == "COMPLETE" else len(r.val_acc)) and len(r.train_acc) == r.epochs


def test_dropout_batchnorm_optimizer_batch_size_and_init_searched(tmp_path):
    from zerograd.nets import MultiLayerNetExtend
    from zerograd.tune.objective import build_net, load_split

    config = small_config(
        dropout=FloatRange(0.05, 0.5),
        batchnorm=True,
        optimizer=Choice(("sgd", "adam")),
        batch_size=IntRange(16, 128, log=True),
        init=Choice(("he", "xavier", 0.01)),
        sampler="tpe",
        prune="median",
    )
    result = run(config, trials=4, storage=f"sqlite:///{tmp_path / 'tune.db'}")
    assert result.finished == 4
    for r in result.records:
        v = r.values
        assert 0.05 <= v["dropout"] <= 0.5 and 16 <= v["batch_size"] <= 128 and v["optimizer"] in ("sgd", "adam")
        assert v["init"] in ("he", "xavier", 0.01)
    split = load_split(config)
    net = build_net(config, result.best.values, split.input_size, split.num_classes, np.random.default_rng(0))
    assert isinstance(net, MultiLayerNetExtend) and net.use_batchnorm and net.use_dropout
    assert net.dropout_ration == pytest.approx(result.best.values["dropout"])
    # dropout masks come from the trial's seeds too: training the best again gives the same validation accuracy
    assert result.reproduced_val_acc == pytest.approx(result.best.value, abs=1e-12)
    # the best configuration as a command that `zerograd train` runs (here for one epoch)
    command = train_command(config, result.best)
    assert "--batchnorm" in command and "--dropout" in command and "--optimizer" in command
    argv = shlex.split(command)
    assert argv[:2] == ["zerograd", "train"]
    assert cli([*argv[1:], "--epochs", "1", "--out", tmp_path / "train", "--no-plot"]) == 0


def test_dropout_needs_choices_or_ranges_that_fit():
    with pytest.raises(SearchError, match="dropout"):
        small_config(dropout=FloatRange(0.0, 1.5)).check()
    with pytest.raises(SearchError, match="optimizer"):
        small_config(optimizer=Choice(("sgd", "lbfgs"))).check()
    with pytest.raises(SearchError, match="epochs"):
        small_config(epochs=0).check()


# -- workers ---------------------------------------------------------------------------------------------------


def test_two_workers_share_one_sqlite_study(tmp_path):
    out = tmp_path / "run"
    proc = zerograd("tune", *SMALL, "--epochs", "8", "--trials", "10", "--workers", "2", "--out", out)
    assert proc.returncode == 0, proc.stderr
    study = load(f"sqlite:///{out / 'tune.db'}")
    trials = finished(study)
    assert len(trials) == 10 and {t.number for t in trials} == set(range(10))  # none lost, none twice
    assert len({t.params["lr"] for t in trials}) == 10
    assert all(t.state.name == "COMPLETE" or t.user_attrs.get("surplus") for t in study.get_trials())
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers took trials
    # trial k has the same values whichever worker ran it: the same as a one-worker run
    solo = run(small_config(epochs=1), trials=10, storage=f"sqlite:///{tmp_path / 'solo.db'}", evaluate=False)
    assert sorted((t.number, t.params["lr"]) for t in trials) == [(r.number, r.values["lr"]) for r in solo.records]


def _kill_when_running(storage, proc, pick_worker, deadline_s=120):
    """SIGKILL (pick_worker: the pid of a worker in a trial's middle, else the whole process group) once a
    trial has run an epoch. Returns the killed trial's number."""
    first = proc.stdout.readline()  # "study ... in ...": from here on the study exists
    assert first.startswith("study "), first + proc.stderr.read()
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        assert proc.poll() is None, "the run ended before a trial could be killed: " + proc.stderr.read()
        try:
            running = load(storage).get_trials(states=(optuna.trial.TrialState.RUNNING,))
        except Exception:  # the study is not created yet, or the database is busy
            running = []
        for t in running:
            if "worker" in t.user_attrs and 1 <= len(t.intermediate_values) <= 150:  # started, far from done
                if pick_worker:
                    os.kill(int(t.user_attrs["worker"].split(":")[1]), signal.SIGKILL)
                else:
                    os.killpg(proc.pid, signal.SIGKILL)
                return t.number
        time.sleep(0.05)
    raise AssertionError("no trial ran long enough to be killed")


def test_killed_worker_and_killed_run_lose_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    storage = f"sqlite:///{out / 'tune.db'}"
    # 200 epochs: long enough trials that a quiet machine cannot finish the run before one is caught mid-trial
    args = ["tune", *SMALL, "--epochs", "200", "--workers", "2", "--out", out]
    # 1. one worker SIGKILLed mid-trial: the other fails its trial at once (dead pid), runs it again, finishes
    proc = subprocess.Popen(
        [sys.executable, "-m", "zerograd", *map(str, args), "--trials", "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    killed = _kill_when_running(storage, proc, pick_worker=True)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "killed by signal 9" in stderr
    study = load(storage)
    assert len(finished(study)) == 6
    dead = study.trials[killed]
    assert dead.state.name == "FAIL"
    retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retry) == 1 and retry[0].state.name == "COMPLETE" and retry[0].params == dead.params
    assert retry[0].user_attrs["seed_key"] == killed  # the same weights and batches as the lost trial
    # 2. the whole run (one worker, in the command's own process) SIGKILLed while continuing the study to 9:
    # its trial is left RUNNING; the rerun fails it (its process is gone), runs it again and finishes exactly 9
    one = [a if a != "2" else "1" for a in args]
    proc = subprocess.Popen(
        [sys.executable, "-m", "zerograd", *map(str, one), "--trials", "9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stranded = _kill_when_running(storage, proc, pick_worker=False)
    proc.communicate(timeout=60)
    assert load(storage).trials[stranded].state.name == "RUNNING"
    assert cli([*one, "--trials", "9", "--no-plot"]) == 0
    study = load(storage)
    assert len(finished(study)) == 9 and not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    assert study.trials[stranded].state.name == "FAIL"
    assert [t.state.name for t in study.trials if t.system_attrs.get("failed_trial") == stranded] == ["COMPLETE"]
    # 3. the same command once more: nothing left to do
    capsys.readouterr()
    assert cli([*one, "--trials", "9", "--no-plot"]) == 0
    assert "9 of 9 trials finished" in capsys.readouterr().out and len(load(storage).trials) == len(study.trials)


def test_two_commands_share_one_postgresql_study(tmp_path):
    url = os.environ.get("ZEROGRAD_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("no PostgreSQL server: set ZEROGRAD_TEST_POSTGRES_URL (.ci/postgres-cluster starts one)")
    name = f"test-{uuid.uuid4().hex[:8]}"
    args = ["tune", *SMALL, "--epochs", "8", "--trials", "12", "--storage", url, "--study", name, "--no-plot"]
    # two separately started commands, one worker each, as on two machines
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "zerograd", *map(str, args), "--out", tmp_path / f"m{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    study = load(url, name)
    trials = finished(study)
    assert len(trials) == 12 and {t.number for t in trials} <= {t.number for t in study.trials}
    assert len({t.number for t in trials}) == 12 and len({t.params["lr"] for t in trials}) == 12
    assert all(t.state.name != "FAIL" or t.user_attrs.get("surplus") for t in study.trials)
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both commands took trials


# -- mistakes: one line, the study untouched -----------------------------------------------------------------


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--storage", "postgresql://nobody:secret@127.0.0.1:1/nothing"], "cannot open the storage"),
        (["--storage", "not a url"], "is not a database URL"),
        (["--storage", "oracle://host/db"], "unsupported database"),
        (["--storage", "sqlite:////no/such/folder/tune.db"], "does not exist"),
        (["--lr", "1e-2..1e-6"], "is empty"),
        (["--weight-decay", "0..1e-4"], "log range needs low > 0"),
        (["--trials", "-1"], "--trials must be an integer >= 0"),
        (["--workers", "0"], "--workers must be an integer >= 1"),
        (["--epochs", "0"], "epochs must be a positive integer"),
        (["--optimizer", "sgd/lbfgs"], "unknown value 'lbfgs'"),
        (["--hidden", "20,x"], "hidden: widths must be positive integers"),
    ],
)
def test_mistakes_give_one_line(extra, message, tmp_path, capsys):
    assert cli(["tune", *SMALL, "--out", tmp_path, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("zerograd tune: error: ") and message in err
    assert "secret" not in err  # a password never reaches the terminal


def test_another_search_space_is_refused_and_the_study_left_as_it_was(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    assert cli(["tune", *SMALL, "--trials", "2", "--out", tmp_path, "--no-plot"]) == 0
    before = [(t.number, t.state, t.params, t.value) for t in load(storage).trials]
    attrs = dict(load(storage).user_attrs)
    capsys.readouterr()
    assert cli(["tune", *SMALL, "--lr", "1e-5..1e-1", "--trials", "4", "--out", tmp_path]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "created with another search space" in err and "lr 1e-06..0.01:log there" in err
    study = load(storage)
    assert [(t.number, t.state, t.params, t.value) for t in study.trials] == before
    assert study.user_attrs == attrs
    with pytest.raises(TuneError, match="another search space"):
        run(small_config(epochs=4), trials=4, storage=storage)


def test_without_optuna_it_says_which_extra(monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "optuna" or m.startswith("optuna.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert cli(["tune", "--preset", "book"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "zerograd tune: error: optuna is not installed: pip install 'zerograd[tune]'"


def test_config_defaults_check():
    TuneConfig().check()
    book_preset().check()
