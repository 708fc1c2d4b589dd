"""Threads chosen by timing (zerograd.engine.thread_choice): the run is the rule's run, bit for bit, whatever was
chosen; candidates that change the bits are left out (or, under "fastest", decided once and recorded)."""

import time

import numpy as np
import pytest
from test_evaluation import small_convnet

from zerograd.engine import parallel, thread_choice
from zerograd.engine.thread_choice import COLLAPSE, DRIFT, Setting, ThreadChoice
from zerograd.nets import MultiLayerNetExtend, TwoLayerNet
from zerograd.train import TrainConfig, Trainer


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.delenv("ZEROGRAD_THREADS", raising=False)
    before = parallel._threads
    parallel.set_threads(2)
    yield
    parallel.set_threads(before)


def data(n=130, shape=(12,), classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)).astype(np.float32), rng.integers(0, classes, n)


@pytest.mark.parametrize(
    "make,shape",
    [
        (
            lambda: MultiLayerNetExtend(
                12, [16, 8], 4, use_batchnorm=True, use_dropout=True, dropout_ration=0.3, dtype=np.float32, rng=0
            ),
            (12,),
        ),
        (
            lambda: small_convnet(classes=4),
            (1, 10, 10),
        ),
    ],
    ids=["batchnorm+dropout", "convnet"],
)
def test_the_timed_run_is_the_rules_run_bit_for_bit(make, shape, two_threads):
    x, t = data(shape=shape)
    runs = {}
    for mode in ("off", "identical"):
        net = make()
        trainer = Trainer(
            net, TrainConfig(epochs=2, batch_size=32, optimizer="adam", lr=0.01, thread_choice=mode), x, t
        )
        trainer.fit()
        runs[mode] = {**net.params, **net.buffers}, trainer.history.loss
        if mode == "identical":
            assert trainer.thread_choice is not None and trainer.thread_choice.log  # it did time the candidates
    for key, value in runs["off"][0].items():
        np.testing.assert_array_equal(runs["identical"][0][key], value, err_msg=key)
    assert runs["identical"][1] == runs["off"][1]


class ThreadCountNet:
    """A net whose gradient's bits depend on zerograd's thread count, as a convolution's summed dW can."""

    def __init__(self):
        self.params, self.buffers = {"w": np.zeros(3)}, {}
        self.last_layer = None

    def random_states(self):
        return {}

    def set_random_states(self, states):
        pass

    def gradient(self, x, t):
        return {"w": np.full(3, 1.0 + parallel.threads() * 1e-16 * (parallel._blas_one_thread > 0))}


def test_candidates_that_change_the_bits_are_left_out(two_threads):
    x, t = data()
    config = TrainConfig(thread_choice="identical")
    choice = ThreadChoice.for_trainer(ThreadCountNet(), x, t, 32, config, cores=2)
    assert choice.reference == Setting(1, 2)  # the rule: small products on one BLAS thread, zerograd on 2
    assert choice.candidates == [Setting(1, 2), Setting(1, 1), Setting(None, 1)]
    assert choice.choose(0) in choice.candidates
    assert Setting(1, 1) in choice.excluded and Setting(1, 1) not in choice.candidates
    assert choice.setting not in choice.excluded


def fake_timing(monkeypatch, rounds_by_setting, other_bits, busy=True):
    """ThreadChoice._time replaced: each setting's rounds (seconds per step) as given, gradients whose bits differ
    from the reference's for the settings in ``other_bits``, and whether the machine was seen busy."""

    def timed(self, candidates):
        rounds = {s: rounds_by_setting[s] for s in candidates}
        self.busy = busy
        grads = {s: [np.full(3, 2.0 if s in other_bits else 1.0)] for s in candidates}
        return {s: float(np.mean(r)) for s, r in rounds.items()}, rounds, grads

    monkeypatch.setattr(ThreadChoice, "_time", timed)


@pytest.mark.parametrize(
    "other_rounds,same_rounds,busy,rescued",
    [
        ([1.0, 1.0, 1.0], [0.95, 1.0, 1.05], True, False),  # the same speed: the rule's bits
        ([0.8, 0.8, 0.8], [0.95, 1.0, 1.05], True, False),  # 1.25x faster: not worth other bits
        ([0.3, 0.3, 0.3], [0.95, 1.0, 1.05], True, True),  # 3.3x faster on a busy machine: BLAS's threads stalling
        ([0.3, 0.3, 0.3], [0.95, 1.0, 1.05], False, False),  # 3.3x, but the machine was quiet: the rule's bits
        ([1.0, 1.0, 1.0], [1.0, 1.0, 5.0], True, True),  # stalls come and go: the mean (2.3x) decides, not the median
    ],
)
def test_auto_leaves_the_rules_bits_only_on_a_busy_machine(
    monkeypatch, two_threads, other_rounds, same_rounds, busy, rescued
):
    x, t = data()
    net = TwoLayerNet(12, 10, 4, dtype=np.float32, rng=0)
    choice = ThreadChoice.for_trainer(net, x, t, 32, TrainConfig(blas_threads=None), cores=2)
    assert choice.mode == "auto" and choice.reference == Setting(1, 2)  # the default mode, the rule's setting
    rounds = {s: same_rounds for s in choice.candidates}
    rounds[Setting(2, 1)] = other_rounds  # BLAS's two threads: other bits
    fake_timing(monkeypatch, rounds, other_bits={Setting(2, 1)}, busy=busy)
    chosen = choice.choose(0)
    assert choice.excluded == [Setting(2, 1)]
    if rescued:
        assert chosen == Setting(2, 1) and choice.left_the_rules_bits
        assert choice.note.startswith("threads: BLAS 2, zerograd 1, ")
        assert "x faster than BLAS 1, zerograd " in choice.note
        assert choice.candidates == [Setting(2, 1)]  # from here on, only its own bits
    else:
        assert chosen != Setting(2, 1) and not choice.left_the_rules_bits and choice.note is None
        assert Setting(2, 1) not in choice.candidates
    assert COLLAPSE == 1.5


def test_a_rescue_by_auto_is_recorded_and_resume_keeps_it(monkeypatch, tmp_path, two_threads):
    x, t = data()
    net = TwoLayerNet(12, 10, 4, dtype=np.float32, rng=0)
    fast = Setting(2, 1)
    settings = [Setting(1, 2), Setting(1, 1), fast]
    fake_timing(monkeypatch, {s: [0.2] * 3 if s == fast else [1.0] * 3 for s in settings}, other_bits={fast})
    trainer = Trainer(net, TrainConfig(epochs=1, batch_size=32), x, t)
    trainer.fit()
    assert trainer.thread_choice.note and trainer.thread_choice.setting == fast
    assert (trainer.config.blas_threads, trainer.config.zerograd_threads) == (2, 1)
    trainer.save_checkpoint(tmp_path / "run.npz")
    resumed = Trainer.from_checkpoint(tmp_path / "run.npz", x, t, epochs=2)
    resumed.fit()
    assert resumed.thread_choice.reference == fast and resumed.thread_choice.mode == "identical"


class SleepyNet(ThreadCountNet):
    """A net whose step takes ``seconds`` (a callable of the step number): the timing's clock, without load."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.calls = seconds, 0

    def gradient(self, x, t):
        time.sleep(self.seconds(self.calls))
        self.calls += 1
        return {"w": np.ones(3)}


@pytest.mark.parametrize("kind", ["tiny", "steady", "stalling"])
def test_the_timing_windows_last_long_enough_and_longer_on_a_busy_machine(two_threads, kind):
    x, t = data()
    step = {"tiny": lambda i: 0.0, "steady": lambda i: 0.004, "stalling": lambda i: 0.012 if i % 3 == 2 else 0.001}
    net = SleepyNet(step[kind])
    short = ThreadChoice.for_trainer(net, x, t, 32, TrainConfig(epochs=10), cores=2)
    assert short.max_steps == thread_choice.MIN_STEPS  # 50 steps in all: the timing stays a small part of it
    choice = ThreadChoice.for_trainer(net, x, t, 32, TrainConfig(epochs=10_000), cores=2)
    assert choice.max_steps == thread_choice.MAX_STEPS  # a long run affords longer windows
    candidates = len(choice.candidates)
    started = time.perf_counter()
    choice.choose(0)
    elapsed = time.perf_counter() - started
    timed_steps = net.calls - candidates * len(choice.probes)  # less the probes' gradients
    if kind == "stalling":
        assert choice.busy  # 12 ms steps among 1 ms ones: stalls
    # (the others are steady, but a machine running other work — the test suite's — may stall them too)
    windows = candidates * (thread_choice.BUSY_ROUNDS if choice.busy else thread_choice.ROUNDS)
    if kind == "tiny":
        assert timed_steps == windows * thread_choice.MAX_STEPS  # a cheap step: many of them, a short window
    else:
        budget = thread_choice.BUSY_STEP_BUDGET if choice.busy else thread_choice.STEP_BUDGET
        assert thread_choice.MIN_STEPS * windows <= timed_steps < thread_choice.MAX_STEPS * windows
        assert elapsed >= 0.8 * windows * budget  # each window lasted about its budget


def test_fastest_decides_once_and_the_checkpoint_keeps_it(tmp_path, two_threads):
    x, t = data()
    net = TwoLayerNet(12, 10, 4, weight_init_std="he", dtype=np.float32, rng=0)
    trainer = Trainer(net, TrainConfig(epochs=1, batch_size=32, thread_choice="fastest"), x, t)
    trainer.fit()
    chosen = trainer.thread_choice.log[0][2]
    assert (trainer.config.blas_threads, trainer.config.zerograd_threads) == (chosen.blas, chosen.zerograd)
    trainer.save_checkpoint(tmp_path / "run.npz")
    resumed = Trainer.from_checkpoint(tmp_path / "run.npz", x, t, epochs=2)
    assert (resumed.config.blas_threads, resumed.config.zerograd_threads) == (chosen.blas, chosen.zerograd)
    resumed.fit()
    assert resumed.thread_choice.reference == chosen  # the recorded decision, not a new one


def test_an_epoch_that_drifted_times_the_candidates_again(two_threads):
    x, t = data()
    net = TwoLayerNet(12, 10, 4, dtype=np.float32, rng=0)
    choice = ThreadChoice.for_trainer(net, x, t, 32, TrainConfig(), cores=2)
    choice.choose(0)
    choice.after_epoch(1, 1.0)  # the first epoch under the setting: the baseline
    choice.after_epoch(2, 1.0 + DRIFT / 2)
    assert len(choice.log) == 1
    choice.after_epoch(3, 1.0 + 2 * DRIFT)
    assert [epoch for epoch, _, _ in choice.log] == [0, 3]


def test_one_core_or_off_means_the_rule_untimed(two_threads):
    x, t = data()
    net = TwoLayerNet(12, 10, 4, dtype=np.float32, rng=0)
    for choice in (
        ThreadChoice.for_trainer(net, x, t, 32, TrainConfig(), cores=1),
        ThreadChoice.for_trainer(net, x, t, 32, TrainConfig(thread_choice="off"), cores=2),
    ):
        assert choice.choose(0) == choice.reference and not choice.log


def test_zerograd_threads_from_the_environment_are_kept(monkeypatch):
    monkeypatch.setenv("ZEROGRAD_THREADS", "1")
    before = parallel._threads
    parallel.set_threads(None)
    try:
        x, t = data()
        net = TwoLayerNet(12, 10, 4, dtype=np.float32, rng=0)
        choice = ThreadChoice.for_trainer(net, x, t, 32, TrainConfig(), cores=2)
        assert {s.zerograd for s in choice.candidates} == {1}
    finally:
        parallel.set_threads(before)


@pytest.mark.parametrize(
    "text,expected",
    [("150000 100000", 2), ("100000 100000", 1), ("max 100000", None), ("", None), ("x y", None), ("0 100000", None)],
)
def test_cgroup_cpu_quota(tmp_path, text, expected):
    path = tmp_path / "cpu.max"
    path.write_text(text + "\n")
    assert parallel.cgroup_cpu_limit(str(path)) == expected
    assert parallel.cgroup_cpu_limit(str(tmp_path / "missing")) is None
