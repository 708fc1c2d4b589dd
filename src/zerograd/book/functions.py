"""The book's ``common/functions.py`` names, on zerograd's numerically stable implementations."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..functions import as_float_array, cross_entropy_error, relu, sigmoid, softmax, softmax_cross_entropy

__all__ = ["np",
    "cross_entropy_error", "identity_function", "relu", "relu_grad", "sigmoid", "sigmoid_grad", "softmax",
    "softmax_loss", "step_function", "sum_squared_error",
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
    """``d relu(x)/dx``: 1 where ``x > 0``, else 0 (0 at ``x = 0``, as ``Relu`` takes it)."""
    x = as_float_array(x)
    return (x > 0).astype(x.dtype)


def sum_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """``0.5 * sum((y - t)**2)``."""
    return float(0.5 * np.sum((as_float_array(y) - np.asarray(t)) ** 2))


def softmax_loss(X: ArrayLike, t: ArrayLike) -> float:  # noqa: N803 (the book's name)
    """Cross-entropy of ``softmax(X)`` against ``t``, computed exactly from the logits."""
    X = as_float_array(X)  # noqa: N806
    if X.ndim == 1:
        X = X.reshape(1, -1)  # noqa: N806
        t = np.asarray(t).reshape(1, -1) if np.size(t) == X.size and np.size(t) > 1 else np.asarray(t).reshape(1)
    return softmax_cross_entropy(X, t)
