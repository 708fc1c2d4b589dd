"""Optimizers: hand-worked first steps, in-place float32 updates, loss decrease on real digits, state round trip."""

import math

import numpy as np
import pytest

from zerograd.engine.threads import blas_threads
from zerograd.nets import TwoLayerNet
from zerograd.optim import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    RMSprop,
    make_optimizer,
    optimizer_from_state,
)


def real_subset(n_train=1000):
    """The first samples of the bundled MNIST sample (skip without it)."""
    from zerograd.datasets import DatasetError, load_dataset

    try:
        ds = load_dataset("mnist-sample", download=False)
    except DatasetError as err:
        pytest.skip(f"the bundled MNIST sample is missing: {err}")
    return ds.x_train[:n_train], ds.t_train[:n_train]


def step(opt, p, g, times=1):
    params = {"w": np.array([p], dtype=np.float64)}
    for _ in range(times):
        opt.update(params, {"w": np.array([g])})
    return params["w"][0]


# Worked by hand with p = 1, g = 0.5, lr = 0.1, momentum = 0.9:
def test_sgd_step():
    assert step(SGD(lr=0.1), 1.0, 0.5) == pytest.approx(1 - 0.1 * 0.5)  # 0.95


def test_momentum_two_steps():
    # v1 = -0.05 -> p = 0.95;  v2 = 0.9 * -0.05 - 0.05 = -0.095 -> p = 0.855
    assert step(Momentum(lr=0.1, momentum=0.9), 1.0, 0.5, times=2) == pytest.approx(0.855)


def test_nesterov_two_steps():
    # p moves with the velocity before the step's update (the book's repository, commit 89eadd0, 2021-01-18):
    # step 1: v0 = 0  -> p = 1 + 0.81 * 0 - 1.9 * 0.1 * 0.5 = 0.905;  v1 = -0.05
    # step 2: p = 0.905 + 0.81 * -0.05 - 0.095 = 0.7695;  v2 = 0.9 * -0.05 - 0.05 = -0.095
    assert step(Nesterov(lr=0.1, momentum=0.9), 1.0, 0.5) == pytest.approx(0.905)
    assert step(Nesterov(lr=0.1, momentum=0.9), 1.0, 0.5, times=2) == pytest.approx(0.7695)


def test_adagrad_two_steps():
    # h1 = 0.25 -> p = 1 - 0.1 * 0.5 / 0.5 = 0.9;  h2 = 0.5 -> p = 0.9 - 0.1 * 0.5 / sqrt(0.5) = 0.829289...
    assert step(AdaGrad(lr=0.1), 1.0, 0.5, times=2) == pytest.approx(0.9 - 0.05 / np.sqrt(0.5), rel=1e-6)


def test_rmsprop_first_step():
    # h1 = 0.01 * 0.25 = 0.0025 -> p = 1 - 0.1 * 0.5 / 0.05 = 0.0
    assert step(RMSprop(lr=0.1, decay_rate=0.99), 1.0, 0.5) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("g", [0.5, -3.0, 1e-3])
def test_adam_first_step_is_lr_times_sign(g):
    # m1 = 0.1 g, v1 = 0.001 g^2, lr_t = lr sqrt(0.001) / 0.1: the step is lr * sign(g), whatever |g|
    assert step(Adam(lr=0.01), 1.0, g) == pytest.approx(1 - 0.01 * np.sign(g), rel=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(30, 4), (4320, 100)])  # a small parameter, and one updated in row blocks
def test_adam_is_its_three_formulas_bit_for_bit(dtype, shape):
    # the in-place, scratch-array step must give exactly what the textbook expressions give
    rng = np.random.default_rng(7)
    params = {"W": rng.standard_normal(shape).astype(dtype)}
    expected = params["W"].copy()
    m, v = np.zeros_like(expected), np.zeros_like(expected)
    optimizer = Adam(lr=0.01)
    with blas_threads(1):  # the net's training step holds BLAS to one thread: large updates run in blocks
        for t in range(1, 5):
            grad = rng.standard_normal(shape).astype(dtype)
            optimizer.update(params, {"W": grad})
            lr_t = 0.01 * math.sqrt(1.0 - 0.999**t) / (1.0 - 0.9**t)
            m += (1 - 0.9) * (grad - m)
            v += (1 - 0.999) * (grad * grad - v)
            expected -= lr_t * m / (np.sqrt(v) + 1e-7)
    assert params["W"].dtype == dtype
    np.testing.assert_array_equal(params["W"], expected)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_update_is_in_place_and_keeps_float32(name):
    net = TwoLayerNet(6, 4, 3, dtype=np.float32, rng=0)
    x = np.random.default_rng(1).random((5, 6), dtype=np.float32)
    t = np.array([0, 1, 2, 0, 1])
    before = {k: v.copy() for k, v in net.params.items()}
    ids = {k: id(v) for k, v in net.params.items()}
    make_optimizer(name, lr=0.01).update(net.params, net.gradient(x, t))
    for key, value in net.params.items():
        assert id(value) == ids[key] and value.dtype == np.float32
        assert not np.array_equal(value, before[key]), key
    assert net.layers["Affine1"].W is net.params["W1"]  # the layer sees the update


@pytest.mark.parametrize(
    "name,lr",
    [("sgd", 0.1), ("momentum", 0.05), ("nesterov", 0.05), ("adagrad", 0.05), ("rmsprop", 0.002), ("adam", 0.002)],
)
def test_every_optimizer_decreases_the_loss_on_real_digits(name, lr):
    x, t = real_subset()
    net = TwoLayerNet(784, 50, 10, weight_init_std="he", dtype=np.float32, rng=0)
    opt = make_optimizer(name, lr=lr)
    start = net.loss(x, t)
    rng = np.random.default_rng(0)
    for _ in range(3):
        for idx in np.array_split(rng.permutation(len(x)), 10):
            opt.update(net.params, net.gradient(x[idx], t[idx]))
    assert net.loss(x, t) < 0.5 * start


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_round_trip_continues_identically(name):
    rng = np.random.default_rng(0)
    grads = [{"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)} for _ in range(6)]
    a_params = {"W": np.ones((3, 2)), "b": np.zeros(2)}
    a = make_optimizer(name, lr=0.01)
    for g in grads[:3]:
        a.update(a_params, g)
    b = optimizer_from_state(a.state_dict())
    b_params = {k: v.copy() for k, v in a_params.items()}
    for g in grads[3:]:
        a.update(a_params, g)
        b.update(b_params, g)
    for key in a_params:
        np.testing.assert_array_equal(a_params[key], b_params[key])
    assert b.steps == a.steps == 6


def test_state_dict_is_a_copy():
    opt = Momentum(lr=0.1)
    params = {"w": np.ones(2)}
    opt.update(params, {"w": np.ones(2)})
    state = opt.state_dict()
    opt.update(params, {"w": np.ones(2)})
    np.testing.assert_allclose(state["state"]["v"]["w"], [-0.1, -0.1])


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="lr must be a positive"):
        SGD(lr=-0.1)
    with pytest.raises(ValueError, match="momentum must be in"):
        Momentum(momentum=1.5)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        make_optimizer("adamw")
    with pytest.raises(ValueError, match="no hyperparameter momentum"):
        make_optimizer("adam", momentum=0.9)
    with pytest.raises(KeyError, match="grads have keys"):
        SGD().update({"W": np.ones(2)}, {"V": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(3,\)"):
        SGD().update({"W": np.ones(2)}, {"W": np.ones(3)})
    with pytest.raises(TypeError, match="floating NumPy array"):
        SGD().update({"W": [1.0, 2.0]}, {"W": np.ones(2)})
    with pytest.raises(ValueError, match="state is of a 'SGD' optimizer"):
        Adam().load_state_dict(SGD().state_dict())


def test_book_optimizers_have_the_books_names_and_defaults():
    from zerograd.book import optimizer as book

    assert book.SGD().lr == 0.01
    assert (book.Momentum().lr, book.Momentum().momentum) == (0.01, 0.9)
    assert book.RMSprop().decay_rate == 0.99
    adam = book.Adam()
    assert (adam.lr, adam.beta1, adam.beta2) == (0.001, 0.9, 0.999)
    assert adam.m is None and adam.v is None and adam.iter == 0  # as the book's, before the first update
    params = {"W": np.ones(3)}
    adam.update(params, {"W": np.full(3, 2.0)})
    assert adam.iter == 1 and set(adam.m) == {"W"}
    np.testing.assert_allclose(params["W"], 1 - 0.001, rtol=1e-6)
    assert book.AdaGrad().h is None and book.Nesterov().v is None


def subnormals(a):
    return int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))


@pytest.mark.parametrize("name", ["adam", "momentum"])
def test_subnormal_state_is_flushed_and_no_weight_changes(name, monkeypatch):
    """A state that decays where the gradient is 0 sinks into float32's subnormals (100x slower arithmetic on x86)
    and sticks there; every FLUSH_EVERY steps they are set to 0, which changes no weight, bit for bit."""
    from zerograd import optim

    def train(flush_every):
        monkeypatch.setattr(optim, "FLUSH_EVERY", flush_every)
        rng = np.random.default_rng(0)
        params = {"W": (0.1 * rng.standard_normal((40, 30))).astype(np.float32)}
        optimizer = make_optimizer(name, lr=0.01)
        for i in range(900):
            grad = rng.standard_normal((40, 30)).astype(np.float32)
            if i >= 50:
                grad[:20] = 0  # half the rows get no gradient after step 50, as pixels that stay 0 in a dataset
            optimizer.update(params, {"W": grad})
        return params["W"], optimizer

    every = optim.FLUSH_EVERY
    unflushed, kept = train(10**9)
    flushed, optimizer = train(every)
    slot = "m" if name == "adam" else "v"
    assert subnormals(kept.state[slot]["W"]) > 50  # without the flush they pile up (this is what the test guards)
    assert optimizer.steps % every != 0  # the last flush was a few steps ago...
    assert subnormals(optimizer.state[slot]["W"]) < subnormals(kept.state[slot]["W"]) / 4  # ...and they are few
    np.testing.assert_array_equal(flushed, unflushed)  # and not one weight moved by a bit
