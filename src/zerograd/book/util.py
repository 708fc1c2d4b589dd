"""The book's ``common/util.py`` helpers that its chapter-6 scripts use: ``smooth_curve``, ``shuffle_dataset``."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["np", "shuffle_dataset", "smooth_curve"]


def smooth_curve(x: ArrayLike, window: int = 11) -> NDArray[np.float64]:
    """A loss curve smoothed for plotting: a Kaiser-window (beta 2) moving average, same length as ``x``.

    The ends are padded by reflecting the curve, so the first and last points are averages too.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"smooth_curve expects a 1-D curve, got shape {x.shape!r}")
    if len(x) < window:
        return x.copy()
    half = window // 2
    padded = np.concatenate([x[half:0:-1], x, x[-2 : -half - 2 : -1]])
    weights = np.kaiser(window, 2)
    return np.convolve(padded, weights / weights.sum(), mode="valid")


def shuffle_dataset(x: NDArray, t: NDArray) -> tuple[NDArray, NDArray]:
    """``x`` and ``t`` shuffled by one permutation of the global ``np.random`` (the book's scripts seed it)."""
    order = np.random.permutation(x.shape[0])
    return x[order], t[order]
