"""Every chapter-5 layer: backward against float64 central differences, no mutation, dtypes, and errors.

Tolerances: check_layer perturbs by h = 1e-6 in float64, where central differences are accurate to ~1e-9
relative (truncation ~h², rounding ~1e-16/h); we ask for 1e-6 relative to the gradient's scale plus 1e-9 absolute.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from zerograd.gradcheck import check_layer
from zerograd.layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss

RTOL, ATOL = 1e-6, 1e-9
seeds = st.integers(0, 2**32 - 1)
away_from_zero = st.floats(0.01, 10).flatmap(lambda v: st.sampled_from([v, -v]))


def assert_passes(report):
    assert report.passed, f"\n{report}"


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=4, max_side=5), elements=away_from_zero))
def test_relu_backward_matches_finite_differences(x):
    # Inputs stay >= 0.01 away from 0, the kink, so the h = 1e-6 steps never straddle it.
    assert_passes(check_layer(Relu(), x, rtol=RTOL, atol=ATOL))


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=4, max_side=5), elements=st.floats(-20, 20)))
def test_sigmoid_backward_matches_finite_differences(x):
    assert_passes(check_layer(Sigmoid(), x, rtol=RTOL, atol=ATOL))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 6), seeds)
def test_affine_backward_matches_finite_differences(n, feature_shape, m, seed):
    rng = np.random.default_rng(seed)
    d = int(np.prod(feature_shape))
    layer = Affine(rng.standard_normal((d, m)), rng.standard_normal(m))
    report = check_layer(layer, rng.standard_normal((n, *feature_shape)), rtol=RTOL, atol=ATOL, seed=seed)
    assert_passes(report)
    assert [c.name for c in report] == ["x", "W", "b"]


def test_affine_on_image_batches_returns_dx_in_image_shape():
    rng = np.random.default_rng(1)
    x = rng.random((2, 1, 28, 28))
    layer = Affine(0.01 * rng.standard_normal((784, 10)), np.zeros(10))
    out = layer.forward(x)
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out, x.reshape(2, 784) @ layer.W, rtol=1e-12)
    dx = layer.backward(np.ones((2, 10)))
    assert dx.shape == (2, 1, 28, 28)
    assert layer.dW.shape == (784, 10) and layer.db.shape == (10,)
    # Only a few output units are checked elementwise-fast enough: the full check on a smaller image.
    small = Affine(rng.standard_normal((16, 3)), rng.standard_normal(3))
    assert_passes(check_layer(small, rng.random((3, 1, 4, 4)), rtol=RTOL, atol=ATOL))


def test_affine_db_sums_over_the_batch():
    layer = Affine(np.ones((2, 3)), np.zeros(3))
    layer.forward(np.ones((4, 2)))
    layer.backward(np.arange(12.0).reshape(4, 3))
    np.testing.assert_array_equal(layer.db, [18.0, 22.0, 26.0])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 8), st.booleans(), st.floats(0.1, 3.0), seeds)
def test_softmax_with_loss_backward_matches_finite_differences(n, c, one_hot, dout, seed):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((n, c))
    labels = rng.integers(0, c, n)
    t = np.eye(c)[labels] if one_hot else labels
    report = check_layer(SoftmaxWithLoss(), x, t, dout=dout, rtol=RTOL, atol=ATOL)
    assert_passes(report)
    assert [comparison.name for comparison in report] == ["x"]


def test_softmax_with_loss_single_sample_and_scaling():
    x = np.array([2.0, 1.0, 0.1])
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, 0)
    assert loss == pytest.approx(-np.log(np.exp(2.0) / np.exp(x).sum()), rel=1e-12)
    dx = layer.backward(2.0)
    assert dx.shape == (3,)
    np.testing.assert_allclose(dx, 2.0 * (np.exp(x) / np.exp(x).sum() - [1, 0, 0]), rtol=1e-12)


def test_softmax_with_loss_reused_across_batch_sizes_and_label_dtypes():
    # the layer keeps where each label's logit lies between batches: a new size or dtype must not reuse stale ones
    rng = np.random.default_rng(3)
    layer = SoftmaxWithLoss()
    for n, dtype in [(5, np.uint8), (3, np.int64), (5, np.int32), (1, np.uint8)]:
        x, t = rng.standard_normal((n, 4)), rng.integers(0, 4, n).astype(dtype)
        z = x - x.max(axis=1, keepdims=True)
        y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        assert layer.forward(x, t) == pytest.approx(-np.mean(np.log(y[np.arange(n), t])), rel=1e-12)
        np.testing.assert_allclose(layer.backward(1.0), (y - np.eye(4)[t]) / n, rtol=1e-12, atol=1e-15)


def test_softmax_with_loss_is_exact_where_the_books_1e7_is_not():
    # A confident correct prediction: the true loss is log(1 + e^-10) ≈ 4.54e-5; the book's -log(y + 1e-7)
    # would be off by ~1e-7, 0.2 % relative, and fail this 1e-12 check.
    x = np.array([[10.0, 0.0]])
    loss = SoftmaxWithLoss().forward(x, np.array([0]))
    assert loss == pytest.approx(np.log1p(np.exp(-10.0)), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.floats(-100, 100), st.floats(-100, 100))
def test_mul_and_add_layers_on_scalars(x, y):
    assert_passes(check_layer(MulLayer(), x, y, rtol=RTOL, atol=1e-7))
    assert_passes(check_layer(AddLayer(), x, y, rtol=RTOL, atol=1e-7))


@pytest.mark.parametrize("layer_class", [MulLayer, AddLayer])
@pytest.mark.parametrize("x_shape, y_shape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3), ())])
def test_mul_and_add_layers_on_broadcast_arrays(layer_class, x_shape, y_shape):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    layer = layer_class()
    out = layer.forward(x, y)
    dx, dy = layer.backward(np.ones_like(out))
    assert np.shape(dx) == x_shape and np.shape(dy) == y_shape
    assert_passes(check_layer(layer_class(), x, y, rtol=RTOL, atol=ATOL))


def _layers_and_inputs(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6)).astype(dtype)
    w = rng.standard_normal((6, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    return [
        (Relu(), (x,)),
        (Sigmoid(), (x,)),
        (Affine(w, b), (x,)),
        (SoftmaxWithLoss(), (x, np.array([0, 1, 2, 3]))),
        (SoftmaxWithLoss(), (x, np.eye(6)[[0, 1, 2, 3]])),
        (SoftmaxWithLoss(), (x[:1], np.array([5]))),  # one sample: x.T is contiguous already, still no mutation
        (MulLayer(), (x, x[0])),
        (AddLayer(), (x, x[0])),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_keep_dtype_and_never_mutate_their_arguments(dtype):
    for layer, inputs in _layers_and_inputs(dtype):
        before = [np.copy(a) for a in inputs]
        out = layer.forward(*inputs)
        dout = 1.0 if np.ndim(out) == 0 else np.full(np.shape(out), -0.5, dtype=dtype)
        dout_before = np.copy(dout)
        grads = layer.backward(dout)
        grads = grads if isinstance(grads, tuple) else (grads,)
        name = type(layer).__name__
        for a, b in zip(inputs, before, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} changed an input")
        np.testing.assert_array_equal(dout, dout_before, err_msg=f"{name}.backward changed dout")
        if np.ndim(out):
            assert out.dtype == dtype, name
        for g in grads:
            assert g.dtype == dtype, name
        for g in layer.grads.values():
            assert g.dtype == dtype, name


def test_relu_at_exactly_zero_passes_no_gradient():
    layer = Relu()
    np.testing.assert_array_equal(layer.forward(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(layer.backward(np.array([5.0, 5.0, 5.0])), [0.0, 0.0, 5.0])


@pytest.mark.parametrize("x", [-300.0, 300.0, -1000.0, 1000.0])
def test_sigmoid_layer_at_extreme_inputs(x):
    layer = Sigmoid()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer.forward(np.array([x]))
        dx = layer.backward(np.array([1.0]))
    assert np.isfinite(dx).all() and abs(dx[0]) < 1e-100


@pytest.mark.parametrize(
    "layer, args",
    [
        (Relu(), (np.ones(2),)),
        (Sigmoid(), (np.ones(2),)),
        (Affine(np.ones((2, 2)), np.zeros(2)), (np.ones((1, 2)),)),
        (SoftmaxWithLoss(), ()),
        (MulLayer(), (1.0,)),
        (AddLayer(), (1.0,)),
    ],
)
def test_backward_before_forward_raises(layer, args):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(*args)


def test_affine_errors_name_the_layer_and_both_shapes():
    layer = Affine(np.zeros((784, 50)), np.zeros(50))
    with pytest.raises(ValueError, match=r"Affine expects x with 784 features.*\(32, 785\)"):
        layer.forward(np.zeros((32, 785)))
    with pytest.raises(ValueError, match=r"\(784,\)"):
        layer.forward(np.zeros(784))
    with pytest.raises(ValueError, match="W as a 2-D floating array"):
        Affine(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"b as a floating array of shape \(50,\)"):
        Affine(np.zeros((784, 50)), np.zeros(10))
    with pytest.raises(ValueError, match="W as a 2-D floating array"):
        Affine(np.zeros((2, 2), dtype=int), np.zeros(2))


def test_softmax_with_loss_errors():
    layer = SoftmaxWithLoss()
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        layer.forward(np.zeros((2, 3)), np.array([0, 5]))
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        layer.forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"one-hot \(N, C\) = \(2, 3\), got shape \(2, 4\)"):
        layer.forward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        layer.forward(np.zeros((2, 3, 4)), np.array([0, 1]))


def test_repr_is_informative():
    assert repr(Affine(np.zeros((784, 50), np.float32), np.zeros(50, np.float32))) == (
        "Affine(in_features=784, out_features=50, dtype=float32)"
    )
    assert repr(Relu()) == "Relu()"


def test_sigmoid_check_in_the_flat_tail():
    # All 81 inputs at 11: each gradient is y(1 - y) ≈ 1.7e-5. Differencing the summed objective would bury that
    # under the rounding of a sum of 81 outputs near 1; the checker differences the outputs first.
    x = np.full((3, 3, 3, 3), 11.0)
    assert_passes(check_layer(Sigmoid(), x, rtol=RTOL, atol=ATOL))
