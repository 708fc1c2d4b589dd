"""The gradient checker itself: it measures right, restores what it perturbs, and catches wrong backwards."""

import numpy as np
import pytest

from zerograd.gradcheck import check_layer, check_net, compare_gradients, numerical_gradient
from zerograd.layers import Affine, Layer, Relu, Sigmoid
from zerograd.nets import TwoLayerNet


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
