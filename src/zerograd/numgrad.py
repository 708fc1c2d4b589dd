"""Numerical gradients by central differences, the chapter's tool (the book's ``common/gradient.py``).

It sits below the nets (a net's ``numerical_gradient`` uses it) and below the gradient checker, which compares
these differences with backpropagation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["numerical_gradient", "perturbed_pair"]


def perturbed_pair(evaluate: Callable[[], Any], x: NDArray, idx: tuple[int, ...], h: float) -> tuple[Any, Any]:
    """``evaluate()`` with ``x[idx]`` moved by ``+h`` and by ``-h``; ``x`` is restored even if it raises."""
    original = x[idx]
    try:
        x[idx] = original + h
        plus = evaluate()
        x[idx] = original - h
        minus = evaluate()
    finally:
        x[idx] = original
    return plus, minus


def numerical_gradient(f: Callable[[NDArray], Any], x: NDArray, h: float = 1e-4) -> NDArray:
    """Central differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element ``i`` of ``x``.

    Shape: x any shape → the gradient, of ``x``'s shape and dtype.
    x: a floating array, perturbed in place one element at a time and always restored (also when ``f`` raises).
    f: called as ``f(x)``; a closure that ignores its argument (``lambda _: net.loss(x, t)``) works as in the book.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient needs a floating NumPy array to perturb, got {type(x).__name__}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        f_plus, f_minus = perturbed_pair(lambda: float(f(x)), x, idx, h)
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad
