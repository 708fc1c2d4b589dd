"""TwoLayerNet and MultiLayerNet: backprop equals the numerical gradient, the chapter's update trains them."""

import numpy as np
import pytest

from zerograd.gradcheck import check_net
from zerograd.nets import MultiLayerNet, TwoLayerNet, net_from_config

# float64, h = 1e-5: the loss (~1) has rounding ~1e-16/h = 1e-11 and truncation ~h² = 1e-10 in its differences;
# 1e-6 relative to each gradient's scale is the bar and leaves a wide margin.
RTOL, ATOL = 1e-6, 1e-10


def _batch(n=5, d=12, c=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


@pytest.mark.parametrize("hidden", [[8], [8, 6], [8, 6, 5]])
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_multi_layer_net_backprop_matches_numerical_gradient(hidden, activation, weight_decay):
    net = MultiLayerNet(
        12, hidden, 4, activation=activation, weight_init_std="he", weight_decay_lambda=weight_decay, rng=1
    )
    x, t = _batch()
    report = check_net(net, x, t, rtol=RTOL, atol=ATOL)
    assert report.passed, f"\n{report}"
    assert report.max_rel_error <= 1e-6
    assert [c.name for c in report] == [f"{p}{i}" for i in range(1, len(hidden) + 2) for p in "Wb"]


@pytest.mark.parametrize("one_hot", [False, True])
def test_two_layer_net_backprop_matches_numerical_gradient(one_hot):
    net = TwoLayerNet(12, 10, 4, weight_init_std=0.3, rng=2)
    x, t = _batch(seed=2)
    report = check_net(net, x, np.eye(4)[t] if one_hot else t, rtol=RTOL, atol=ATOL)
    assert report.passed, f"\n{report}"


def test_weight_decay_adds_its_penalty_to_loss_and_gradient():
    x, t = _batch()
    plain = MultiLayerNet(12, [8], 4, rng=3)
    decayed = MultiLayerNet(12, [8], 4, weight_decay_lambda=0.5, rng=3)
    penalty = 0.25 * (np.sum(plain.params["W1"] ** 2) + np.sum(plain.params["W2"] ** 2))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty, rel=1e-12)
    g0, g1 = plain.gradient(x, t), decayed.gradient(x, t)
    np.testing.assert_allclose(g1["W1"], g0["W1"] + 0.5 * plain.params["W1"], rtol=1e-12)
    np.testing.assert_allclose(g1["b1"], g0["b1"], rtol=1e-12)


def test_layers_share_the_params_arrays_so_the_chapters_update_trains():
    net = TwoLayerNet(12, 10, 4, weight_init_std=0.1, rng=4)
    assert net.layers["Affine1"].W is net.params["W1"]
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    x, t = _batch(n=20, seed=4)
    first = net.loss(x, t)
    for _ in range(300):
        grads = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grads[key]
    assert net.loss(x, t) < 0.5 * first
    assert net.accuracy(x, t) > 0.9


def test_one_hot_and_integer_labels_agree():
    net = TwoLayerNet(12, 10, 4, weight_init_std=0.3, rng=5)
    x, t = _batch(seed=5)
    assert net.loss(x, t) == pytest.approx(net.loss(x, np.eye(4)[t]), rel=1e-12)
    assert net.accuracy(x, t) == net.accuracy(x, np.eye(4)[t])
    g_int, g_hot = net.gradient(x, t), {k: v.copy() for k, v in net.gradient(x, np.eye(4)[t]).items()}
    for key in g_int:
        np.testing.assert_allclose(g_int[key], g_hot[key], rtol=1e-12, atol=1e-15)


def test_float32_end_to_end():
    net = MultiLayerNet(12, [8, 6], 4, dtype=np.float32, weight_decay_lambda=0.01, rng=6)
    x, t = _batch(seed=6)
    assert net.predict(x).dtype == np.float32  # float64 input is cast at the boundary
    assert all(g.dtype == np.float32 for g in net.gradient(x, t).values())
    assert all(p.dtype == np.float32 for p in net.params.values())
    # and it agrees with the float64 net of the same weights to float32 precision
    net64 = net.astype(np.float64)
    np.testing.assert_allclose(net.predict(x), net64.predict(x), rtol=1e-4, atol=1e-5)
    # astype made a copy: the float32 net is untouched
    assert net.params["W1"].dtype == np.float32 and net64.layers["Affine1"].W is net64.params["W1"]


def test_accuracy_in_batches_equals_accuracy_at_once():
    net = TwoLayerNet(12, 10, 4, weight_init_std=1.0, rng=7)
    x, t = _batch(n=103, seed=7)
    assert net.accuracy(x, t, batch_size=10) == net.accuracy(x, t)


@pytest.mark.parametrize(
    "init, n_in, expected",
    [
        ("he", 400, np.sqrt(2 / 400)),
        ("relu", 400, np.sqrt(2 / 400)),
        ("xavier", 400, np.sqrt(1 / 400)),
        ("sigmoid", 400, np.sqrt(1 / 400)),
        (0.01, 400, 0.01),
    ],
)
def test_initial_weight_scales(init, n_in, expected):
    net = MultiLayerNet(n_in, [300], 10, weight_init_std=init, rng=8)
    # 120,000 draws: the sample std is within 1 % of the true one with overwhelming probability.
    assert np.std(net.params["W1"]) == pytest.approx(expected, rel=0.01)
    assert np.all(net.params["b1"] == 0)


def test_seeded_nets_are_reproducible_and_rebuild_from_config():
    a, b = MultiLayerNet(12, [8], 4, rng=9), MultiLayerNet(12, [8], 4, rng=9)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    for net in (TwoLayerNet(12, 10, 4, dtype=np.float32), MultiLayerNet(12, [8, 6], 4, activation="sigmoid")):
        rebuilt = net_from_config(net.config())
        assert type(rebuilt) is type(net) and rebuilt.config() == net.config()
    with pytest.raises(ValueError, match="unknown net class"):
        net_from_config({"class": "Nope"})


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="activation must be one of"):
        MultiLayerNet(4, [3], 2, activation="tanh")
    with pytest.raises(ValueError, match="weight_init_std"):
        MultiLayerNet(4, [3], 2, weight_init_std="lecun")
    with pytest.raises(ValueError, match="positive integers"):
        MultiLayerNet(4, [0], 2)
    with pytest.raises(TypeError, match="floating"):
        TwoLayerNet(4, 3, 2, dtype=np.int32)
    net = TwoLayerNet(784, 50, 10)
    with pytest.raises(ValueError, match=r"TwoLayerNet expects x of shape \(N, 784\).*\(32, 785\)"):
        net.predict(np.zeros((32, 785)))
    with pytest.raises(ValueError, match=r"x\[None\]"):
        net.predict(np.zeros(784))
    with pytest.raises(ValueError, match="labels"):
        net.loss(np.zeros((2, 784)), np.array([1, 10]))
    assert net.predict(np.zeros((2, 1, 28, 28))).shape == (2, 10)


def test_repr():
    assert repr(MultiLayerNet(784, [100, 50], 10, dtype=np.float32)) == (
        "MultiLayerNet(784 → 100 → 50 → 10, activation=relu, dtype=float32)"
    )
