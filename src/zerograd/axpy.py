"""``y += alpha * x`` in place and in one pass: the SGD step ``W -= lr * dW`` without a temporary array.

NumPy writes ``W -= lr * dW`` as two passes over memory with a temporary of ``W``'s size in between. BLAS's
``axpy`` reads ``x`` and ``y`` once and writes ``y`` once, so with SciPy installed (``pip install zerograd[speed]``)
the update goes through it; without SciPy it is NumPy's two passes.

NOTE: measured on one core (OpenBLAS 0.3.30 SkylakeX, float32): the update of the wide net's ``W1`` (784 × 1000)
took 311 µs through ``saxpy`` against 571 µs as ``W -= lr * dW``, and 570 µs as
``np.multiply(dW, -lr, out=buffer); W += buffer`` (no temporary, still two passes: no gain). The chapter's 50-unit
``W1`` (784 × 50): 8.5 µs in five pieces (4.9 µs in one call) against 11.4 µs; a bias of 10 values: 0.6 µs against
2.2 µs, NumPy's per-call cost.
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
# NOTE: OpenBLAS spreads an axpy of more than 10,000 elements over its threads. Waking a second thread costs more
# than the 5 µs a 39,200-element update takes on one (and took up to 12 ms on a busy machine, measured), so arrays
# of up to SPLIT_UP_TO elements go in single-threaded pieces of PIECE elements (~1 µs per extra call); larger ones
# in one call, which BLAS may spread over its threads (the wide nets' weights, where two threads pay).
PIECE = 8192
SPLIT_UP_TO = 1 << 18


def axpy(alpha: float, x: NDArray, y: NDArray) -> None:
    """``y += alpha * x``, writing into ``y``. Shape: x of y's shape (or broadcastable to it); y a float array."""
    routine = _AXPY.get(y.dtype)
    if (routine is not None and y.flags.c_contiguous and isinstance(x, np.ndarray) and x.dtype == y.dtype
            and x.shape == y.shape):
        flat, x_flat = y.reshape(-1), x.reshape(-1)  # views (x copied if it is strided)
        step = PIECE if flat.size <= SPLIT_UP_TO else flat.size
        for start in range(0, flat.size, step):
            piece = flat[start : start + step]
            result = routine(x_flat[start : start + step], piece, a=alpha)
            if result is not piece:  # pragma: no cover - a SciPy that copied instead of updating in place
                piece[...] = result
        return
    y += alpha * x
