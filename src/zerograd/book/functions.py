"""The book's ``common/functions.py`` names, on zerograd's numerically stable implementations.

As in the repository's ``common/functions.py`` (github.com/oreilly-japan/deep-learning-from-scratch), labels may be
integers ``(N,)``, one-hot ``(N, C)`` or integers ``(N, 1)``; ``relu_grad`` is 1 at ``x = 0`` (its ``x >= 0``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import functions as _functions
from ..functions import as_float_array, relu, sigmoid, softmax, softmax_cross_entropy
from ._compat import book_labels

__all__ = [
    "np",
    "cross_entropy_error",
    "identity_function",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_loss",
    "step_function",
    "sum_squared_error",
]


def identity_function(x: ArrayLike) -> ArrayLike:
    """The output layer's activation for regression: ``x`` unchanged."""
    return x


def step_function(x: ArrayLike) -> NDArray[np.int_]:
    """1 where ``x > 0``, else 0 (the perceptron's activation)."""
    return (np.asarray(x) > 0).astype(int)


def sigmoid_grad(x: ArrayLike) -> NDArray:
    """``d sigmoid(x)/dx = sigmoid(x) * (1 - sigmoid(x))``."""
    y = sigmoid(x)
    return (1.0 - y) * y


def relu_grad(x: ArrayLike) -> NDArray:
    """``d relu(x)/dx`` as the repository computes it: 1 where ``x >= 0``, else 0; the dtype of ``x``.

    # NOTE: at exactly ``x = 0`` this says 1 while the ``Relu`` layer's backward passes 0 (its mask is
    # ``x <= 0``): ReLU has no derivative there and the two choices differ. The repository's commit 11e87cd
    # (2019-10-06) made this function work at all (``np.zeros(x)`` became ``np.zeros_like(x)``) and kept ``>=``.
    """
    x = np.asarray(x)
    return (x >= 0).astype(x.dtype)


def cross_entropy_error(y: ArrayLike, t: ArrayLike) -> float:
    """Mean ``-log(y[n, t_n] + 1e-7)`` over the batch, the book's form; ``t`` integers ``(N,)`` or ``(N, 1)``,
    or one-hot ``(N, C)`` (see ``zerograd.functions.cross_entropy_error``)."""
    return _functions.cross_entropy_error(y, book_labels(t))


def sum_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """``0.5 * sum((y - t)**2)``."""
    return float(0.5 * np.sum((as_float_array(y) - np.asarray(t)) ** 2))


def softmax_loss(X: ArrayLike, t: ArrayLike) -> float:  # noqa: N803 (the book's name)
    """Cross-entropy of ``softmax(X)`` against ``t``, computed exactly from the logits."""
    X = as_float_array(X)  # noqa: N806
    if X.ndim == 1:
        X = X.reshape(1, -1)  # noqa: N806
        t = np.asarray(t).reshape(1, -1) if np.size(t) == X.size and np.size(t) > 1 else np.asarray(t).reshape(1)
    return softmax_cross_entropy(X, book_labels(t))
