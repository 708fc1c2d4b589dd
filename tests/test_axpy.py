"""``axpy``: ``y += alpha * x`` in place, through SciPy's BLAS when installed, else NumPy — the same numbers."""

import numpy as np
import pytest
from conftest import optional

from zerograd import axpy as axpy_module
from zerograd.axpy import axpy


def _expected(alpha, x, y):
    return (y.astype(np.float64) + alpha * x.astype(np.float64)).astype(y.dtype)


@pytest.fixture(params=["blas", "numpy"])
def path(request, monkeypatch):
    if request.param == "blas":
        optional("scipy", "speed")
        assert axpy_module.HAVE_BLAS_AXPY
    else:
        monkeypatch.setattr(axpy_module, "_AXPY", {})
    return request.param


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-7), (np.float64, 1e-15)])
# (784, 50) is mid-sized (NumPy's two passes), (100, 100) one-threaded BLAS, (600, 500) BLAS that may thread
@pytest.mark.parametrize("shape", [(1,), (10,), (784, 50), (100, 100), (600, 500), (3, 4, 5)])
def test_adds_alpha_x_into_y_in_place(path, dtype, rtol, shape):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    expected, before = _expected(-0.1, x, y), y
    axpy(-0.1, x, y)
    assert y is before and y.dtype == dtype
    # one rounding (BLAS, fused multiply-add) or two (NumPy): within a few units in the last place
    np.testing.assert_allclose(y, expected, rtol=rtol * 4, atol=rtol * 4)


def test_strided_or_mixed_dtype_arrays_fall_back_to_numpy(path):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((6, 8)).astype(np.float32)
    y = base[:, ::2]  # not contiguous: BLAS on a flattened copy would lose the update
    x = rng.standard_normal((6, 4))  # float64 into a float32 y
    expected, untouched = _expected(0.5, x, y), base[:, 1::2].copy()
    axpy(0.5, x, y)
    np.testing.assert_allclose(base[:, ::2], expected, rtol=1e-6)
    np.testing.assert_array_equal(base[:, 1::2], untouched)  # the columns in between are left alone


def test_a_broadcast_x_is_numpys_business(path):
    y, x = np.ones((3, 4), dtype=np.float32), np.arange(4, dtype=np.float32)
    axpy(2.0, x, y)
    np.testing.assert_array_equal(y, 1 + 2 * np.tile(np.arange(4), (3, 1)))
