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


numerical_gradient_2d = numerical_gradient
