"""The book's ``common/gradient.py``: central-difference gradients with the book's step ``h = 1e-4``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..numgrad import numerical_gradient as _numerical_gradient

__all__ = ["np", "numerical_gradient", "numerical_gradient_2d"]


def numerical_gradient(f: Callable[[NDArray], Any], x: NDArray) -> NDArray:
    """Gradient of ``f`` at ``x`` (any shape) by central differences, ``h = 1e-4``; ``x`` is restored."""
    return _numerical_gradient(f, x, h=1e-4)


def numerical_gradient_2d(f: Callable[[NDArray], Any], X: NDArray) -> NDArray:  # noqa: N803 (the book's name)
    """For ``X (N, D)``, row ``n`` of the result is the gradient of ``f`` at the point ``X[n]`` (``f`` takes one
    point ``(D,)``); for ``X (D,)``, the gradient at ``X``. As the book's, ``h = 1e-4``.

    This is ``numerical_gradient`` of chapter 4's ``gradient_2d.py``: many points at once, one row each, as
    the repository's commit a134880 (2019-01-15) passes them (``np.array([X, Y]).T``, one point per row).
    """
    if X.ndim == 1:
        return numerical_gradient(f, X)
    grad = np.zeros_like(X)
    for row, point in enumerate(X):
        grad[row] = numerical_gradient(f, point)
    return grad
