"""The gradient checker itself: it measures right, restores what it perturbs, and catches wrong backwards."""

import numpy as np
import pytest

from zerograd.batched_numgrad import layered_numerical_gradients
from zerograd.gradcheck import check_layer, check_net, compare_gradients, numerical_gradient
from zerograd.layers import Affine, Layer, Relu, Sigmoid
from zerograd.nets import MultiLayerNet, TwoLayerNet


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
def test_numerical_gradient_of_a_known_function(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    x_before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(v**3), x, h=1e-5)
    np.testing.assert_allclose(grad, 3 * x_before**2, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(x, x_before)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f(v):
        if v[0] != 1.0:
            raise ZeroDivisionError
        return 0.0

    with pytest.raises(ZeroDivisionError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_needs_a_float_array():
    with pytest.raises(TypeError, match="floating NumPy array"):
        numerical_gradient(lambda v: 0.0, np.array([1, 2]))


class SigmoidForgetsAFactor(Sigmoid):
    """A planted slip: dout * y, forgetting the (1 - y)."""

    def backward(self, dout):
        return dout * self.out


class AffineSumsTheWrongAxis(Affine):
    """A planted slip: db summed over the features instead of the batch (square dout so the shapes fit)."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout.sum(axis=1)
        return dx


class ReluWritesIntoDout(Relu):
    """The book's in-place slip: right values, but the caller's dout is overwritten."""

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class BookStyleScale:
    """A user's own layer in the book's style, with no zerograd base class: out = x * w, w of shape (D,)."""

    def __init__(self, w, wrong=False):
        self.w, self.wrong = w, wrong
        self.dw = None

    def forward(self, x):
        self.x = x
        return x * self.w

    def backward(self, dout):
        self.dw = (dout * self.x).sum(axis=0) * (2.0 if self.wrong else 1.0)
        return dout * self.w


def test_a_sigmoid_that_forgets_a_factor_is_flagged_with_its_worst_element():
    x = np.random.default_rng(0).standard_normal((3, 4))
    report = check_layer(SigmoidForgetsAFactor(), x)
    assert not report.passed
    comparison = report["x"]
    assert not comparison.passed and comparison.max_rel_error > 0.1
    worst = comparison.worst_index
    assert len(worst) == 2
    # The worst element is where |dout * y - dout * y (1 - y)| = |dout| y² is largest.
    dout = np.random.default_rng(0).standard_normal((3, 4))  # check_layer's dout for seed=0
    y = 1 / (1 + np.exp(-x))
    assert worst == np.unravel_index(np.argmax(np.abs(dout) * y**2), x.shape)
    assert "FAIL" in str(report) and str(worst) in str(report)


def test_a_wrong_bias_gradient_is_flagged():
    rng = np.random.default_rng(1)
    layer = AffineSumsTheWrongAxis(rng.standard_normal((3, 3)), rng.standard_normal(3))
    report = check_layer(layer, rng.standard_normal((3, 3)))
    assert report["x"].passed and report["W"].passed
    assert not report["b"].passed and not report.passed


def test_a_backward_that_writes_into_dout_is_reported():
    report = check_layer(ReluWritesIntoDout(), np.array([[-1.0, 2.0], [3.0, -4.0]]))
    assert not report.passed
    assert any("modified its dout" in p for p in report.problems)


def test_a_users_book_style_layer_is_checked_parameters_included():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
    good = check_layer(BookStyleScale(w), x)
    assert good.passed, good
    assert [c.name for c in good] == ["x", "w"]
    bad = check_layer(BookStyleScale(w, wrong=True), x)
    assert bad["x"].passed and not bad["w"].passed


def test_check_layer_leaves_the_callers_layer_alone():
    w = np.ones((2, 2), dtype=np.float32)
    layer = Affine(w, np.zeros(2, np.float32))
    check_layer(layer, np.ones((1, 2), np.float32))
    assert layer.W is w and layer.W.dtype == np.float32 and layer.dW is None


def test_check_net_flags_a_net_with_a_broken_layer():
    rng = np.random.default_rng(3)
    net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=0)
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    assert check_net(net, x, t).passed
    net.layers["Relu1"] = _LeakyWrongRelu()
    report = check_net(net, x, t)
    assert not report.passed
    assert not report["W1"].passed and report["W2"].passed  # the slip only hurts what lies below it


class _LeakyWrongRelu(Layer):
    """Forward is ReLU, backward pretends it is the identity."""

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout


def test_compare_gradients_measures_relative_to_the_gradients_scale():
    c = compare_gradients("g", np.array([1.0, 2.0, -4.0]), np.array([1.0, 2.0, -4.002]), rtol=1e-3, atol=0)
    assert c.max_abs_diff == pytest.approx(0.002)
    assert c.max_rel_error == pytest.approx(0.002 / 4.002)
    assert c.worst_index == (2,) and c.passed
    assert not compare_gradients("g", np.ones(2), np.array([1.0, 1.1]), rtol=1e-3, atol=0).passed
    assert not compare_gradients("g", np.ones(2), np.array([1.0, np.nan]), rtol=1e-3, atol=0).passed
    with pytest.raises(ValueError, match="shape"):
        compare_gradients("g", np.ones(2), np.ones(3), rtol=1e-3, atol=0)


# -- modes: batched exhaustive differences, the plain loop, random directions ---------------------------------


@pytest.mark.parametrize(
    "make_net",
    [
        lambda: TwoLayerNet(7, 6, 4, weight_init_std=0.5, rng=10),
        lambda: MultiLayerNet(
            7, [6, 5], 4, activation="sigmoid", weight_init_std="xavier", weight_decay_lambda=0.3, rng=11
        ),
        lambda: MultiLayerNet(7, [6, 5, 3], 4, weight_init_std="he", rng=12),
    ],
)
@pytest.mark.parametrize("one_hot", [False, True])
def test_batched_exhaustive_differences_equal_the_element_loop(make_net, one_hot):
    rng = np.random.default_rng(13)
    x, t = rng.standard_normal((5, 7)), rng.integers(0, 4, 5)
    t = np.eye(4)[t] if one_hot else t
    net = make_net()
    batched = layered_numerical_gradients(net, x, t, h=1e-5)
    assert batched is not None
    for key, param in net.params.items():
        loop = numerical_gradient(lambda _: net.loss(x, t), param, h=1e-5)
        # Same central differences; only rounding differs (Z + h·X[:, i] instead of X @ (W + h e_ij)).
        np.testing.assert_allclose(batched[key], loop, rtol=1e-6, atol=1e-10, err_msg=key)
    exhaustive, plain = check_net(net, x, t, mode="exhaustive"), check_net(net, x, t, mode="loop")
    assert exhaustive.passed and plain.passed


class NetWithAHiddenPenalty(TwoLayerNet):
    """Adds a penalty in loss() that its layers know nothing of, and its gradient in gradient()."""

    def loss(self, x, t):
        return super().loss(x, t) + float(np.sum(self.params["b1"] ** 2))

    def gradient(self, x, t):
        grads = dict(super().gradient(x, t))
        grads["b1"] = grads["b1"] + 2 * self.params["b1"]
        return grads


def test_exhaustive_mode_falls_back_to_the_loop_when_the_loss_is_not_the_layers():
    rng = np.random.default_rng(14)
    net = NetWithAHiddenPenalty(5, 4, 3, weight_init_std=0.5, rng=14)
    net.params["b1"][:] = rng.standard_normal(4)
    x, t = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
    # batched differences alone would miss the penalty's share of db1 ...
    batched = layered_numerical_gradients(net, x, t, h=1e-5)
    assert not np.allclose(batched["b1"], numerical_gradient(lambda _: net.loss(x, t), net.params["b1"], 1e-5))
    # ... the spot check notices and the report is right
    report = check_net(net, x, t, mode="exhaustive")
    assert report.passed, report


def test_non_layered_nets_go_through_the_loop():
    class Quadratic:
        def __init__(self):
            self.params = {"w": np.array([1.0, -2.0, 0.5])}

        def loss(self, x, t):
            return float(np.sum((x @ self.params["w"] - t) ** 2))

        def gradient(self, x, t):
            return {"w": 2 * x.T @ (x @ self.params["w"] - t)}

    x, t = np.random.default_rng(15).standard_normal((4, 3)), np.ones(4)
    assert layered_numerical_gradients(Quadratic(), x, t, h=1e-5) is None
    assert check_net(Quadratic(), x, t).passed


@pytest.mark.parametrize("mode", ["exhaustive", "loop", "fast"])
def test_every_mode_flags_the_planted_wrong_backwards(mode):
    rng = np.random.default_rng(16)
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    good = TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=16)
    assert check_net(good, x, t, mode=mode).passed
    planted = {
        "identity relu": _LeakyWrongRelu(),
        "sigmoid without (1 - y)": SigmoidForgetsAFactor(),
    }
    for name, layer in planted.items():
        net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=16)
        net.layers["Relu1"] = layer
        assert not check_net(net, x, t, mode=mode).passed, name
    wrong_bias = TwoLayerNet(6, 5, 3, weight_init_std=0.5, rng=16)
    affine = wrong_bias.layers["Affine2"]
    wrong_bias.layers["Affine2"] = _AffineWithDoubledBiasGradient(affine.W, affine.b)
    report = check_net(wrong_bias, x, t, mode=mode)
    assert not report["b2"].passed and report["W2"].passed


class _AffineWithDoubledBiasGradient(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = 2 * self.db
        return dx


def test_fast_mode_report_reads_as_a_directional_check():
    rng = np.random.default_rng(17)
    report = check_net(TwoLayerNet(6, 5, 3, rng=1), rng.standard_normal((2, 6)), np.array([0, 2]), mode="fast")
    assert all(c.kind == "direction" for c in report)
    assert "along a random direction" in str(report)
    with pytest.raises(ValueError, match="mode must be"):
        check_net(TwoLayerNet(6, 5, 3, rng=1), np.zeros((1, 6)), np.array([0]), mode="quick")


@pytest.mark.parametrize("mode", ["exhaustive", "fast"])
def test_check_layer_modes_flag_every_planted_layer(mode):
    rng = np.random.default_rng(18)
    x = rng.standard_normal((3, 3))
    w, b = rng.standard_normal((3, 3)), rng.standard_normal(3)
    assert check_layer(Sigmoid(), x, mode=mode).passed
    assert check_layer(Affine(w, b), x, mode=mode).passed
    assert check_layer(BookStyleScale(w[0]), x, mode=mode).passed
    assert not check_layer(SigmoidForgetsAFactor(), x, mode=mode).passed
    assert not check_layer(AffineSumsTheWrongAxis(w, b), x, mode=mode)["b"].passed
    assert not check_layer(ReluWritesIntoDout(), x, mode=mode).passed
    assert not check_layer(BookStyleScale(w[0], wrong=True), x, mode=mode)["w"].passed
