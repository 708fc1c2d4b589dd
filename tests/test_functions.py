"""zerograd.functions against independent NumPy formulas, at edge values, and across dtypes."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from zerograd.book.functions import relu_grad, sigmoid_grad, softmax_loss, sum_squared_error
from zerograd.functions import cross_entropy_error, log_softmax, relu, sigmoid, softmax, softmax_cross_entropy
from zerograd.gradcheck import numerical_gradient

finite = st.floats(-50, 50, allow_nan=False, width=64)
float_dtypes = st.sampled_from([np.float32, np.float64])


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=8), elements=finite))
def test_softmax_matches_the_textbook_formula(x):
    expected = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(softmax(x), expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(softmax(x).sum(axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("logits", [[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]])
def test_softmax_is_stable_for_huge_logits(logits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        y = softmax(np.array(logits))
        y2 = softmax(np.array([logits, logits]))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, softmax(np.array(logits) - max(logits)), rtol=1e-15)
    np.testing.assert_allclose(y2[1], y)


@settings(max_examples=30, deadline=None)
@given(float_dtypes, arrays(np.float64, array_shapes(max_dims=3, max_side=5), elements=finite))
def test_functions_keep_the_input_dtype(dtype, x):
    x = x.astype(dtype)
    for f in (sigmoid, relu, softmax):
        assert f(x).dtype == dtype, f.__name__


def test_integer_input_is_promoted_to_float64():
    assert sigmoid(np.array([0, 1])).dtype == np.float64
    assert relu(np.array([-1, 2])).dtype == np.float64


@pytest.mark.parametrize("x", [-1000.0, -300.0, 0.0, 300.0, 1000.0])
def test_sigmoid_is_finite_and_warning_free_at_extremes(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = float(sigmoid(np.array(x)))
    assert 0.0 <= y <= 1.0
    assert y == pytest.approx(0.5 if x == 0 else float(x > 0), abs=1e-100)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, 6, elements=st.floats(-30, 30)))
def test_sigmoid_matches_the_textbook_formula(x):
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-13)


def test_relu_is_zero_at_zero_and_below():
    np.testing.assert_array_equal(relu(np.array([-2.0, -0.0, 0.0, 3.5])), [0.0, 0.0, 0.0, 3.5])


def test_cross_entropy_of_the_books_example():
    # The book's example: y peaks at the right class (index 2) with 0.6.
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.zeros(10)
    t[2] = 1
    assert cross_entropy_error(y, t) == pytest.approx(-np.log(0.6 + 1e-7), rel=1e-15)
    assert cross_entropy_error(y, 2) == cross_entropy_error(y, t)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 7), st.data())
def test_cross_entropy_one_hot_equals_integer_labels(n, c, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    y = softmax(rng.standard_normal((n, c)))
    t = rng.integers(0, c, n)
    expected = -np.mean(np.log(y[np.arange(n), t] + 1e-7))
    assert cross_entropy_error(y, t) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy_error(y, np.eye(c)[t]) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_of_a_perfect_prediction_is_zero_not_nan():
    y = np.eye(3)
    loss = cross_entropy_error(y, np.arange(3))
    # The book's form log(y + 1e-7) makes a perfect prediction's loss -log(1 + 1e-7) ≈ -1e-7: tiny, finite.
    assert np.isfinite(loss) and abs(loss) < 1e-6
    assert softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([0])) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(2, 7), st.data())
def test_softmax_cross_entropy_is_exact_from_logits(n, c, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = 5 * rng.standard_normal((n, c))
    t = rng.integers(0, c, n)
    expected = -np.mean(np.log(softmax(x))[np.arange(n), t])
    assert softmax_cross_entropy(x, t) == pytest.approx(expected, rel=1e-10)
    assert softmax_cross_entropy(x, np.eye(c)[t]) == pytest.approx(expected, rel=1e-10)
    assert softmax_loss(x, t) == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(log_softmax(x), np.log(softmax(x)), rtol=1e-10, atol=1e-12)


def test_cross_entropy_rejects_bad_labels():
    y = softmax(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        cross_entropy_error(y, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="do not fit"):
        cross_entropy_error(y, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integers"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))


# Elementwise derivatives against central differences (float64, h = 1e-6: errors ~1e-10, tolerance 1e-7).
@pytest.mark.parametrize("f, grad", [(sigmoid, sigmoid_grad), (relu, relu_grad)])
def test_elementwise_derivatives_match_finite_differences(f, grad):
    x = np.random.default_rng(0).uniform(-4, 4, size=50)
    x = x[np.abs(x) > 1e-3]  # relu has no derivative at 0
    numerical = np.array(
        [numerical_gradient(lambda v: float(f(v).sum()), x[i : i + 1].copy(), h=1e-6)[0] for i in range(len(x))]
    )
    np.testing.assert_allclose(grad(x), numerical, rtol=1e-7, atol=1e-9)


def test_sum_squared_error():
    assert sum_squared_error(np.array([1.0, 2.0]), np.array([0.0, 0.0])) == 2.5
