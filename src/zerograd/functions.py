"""Activation and loss functions of chapters 3-5, vectorised and numerically stable.

Every function keeps the floating dtype it is given (float32 in, float32 out); integer or boolean input is
promoted to float64. Arrays are ``(N, C)`` batches or single ``(C,)`` samples.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "cross_entropy_error",
    "log_softmax",
    "logsumexp",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
]


def as_float_array(x: ArrayLike) -> NDArray[np.floating]:
    """``x`` as an array of its own floating dtype, or float64 when it holds integers or booleans.

    Shape: x (*) → (*).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


def sigmoid(x: ArrayLike) -> NDArray[np.floating]:
    """Logistic function ``1 / (1 + exp(-x))``, elementwise, any shape.

    Shape: x (*) → (*).

    Written as ``exp(-log(1 + exp(-x)))`` through ``logaddexp`` so that ``x = ±1000`` neither overflows nor warns.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    x = as_float_array(x)
    return np.exp(-np.logaddexp(0, -x))


def relu(x: ArrayLike) -> NDArray[np.floating]:
    """``max(0, x)``, elementwise, any shape.

    Shape: x (*) → (*).
    """
    return np.maximum(as_float_array(x), 0)


def logsumexp(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    """``log(sum(exp(x)))`` along ``axis``, shifted by the maximum so it never overflows. Keeps ``axis``.

    Shape: x (N, C) → (N, 1) for ``axis=-1``; in general ``axis`` becomes 1.

    >>> logsumexp(np.array([[1000.0, 1000.0]]))  # 1000 + log 2, where exp(1000) alone overflows
    array([[1000.69314718]])
    """
    x = as_float_array(x)
    m = x.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def log_softmax(x: ArrayLike) -> NDArray[np.floating]:
    """``log(softmax(x))`` over the last axis, computed as ``x - logsumexp(x)``: exact even where softmax is 0.

    Shape: x (N, C) or (C,) → the same shape.
    """
    x = as_float_array(x)
    return x - logsumexp(x, axis=-1)


def softmax(x: ArrayLike) -> NDArray[np.floating]:
    """Softmax over the last axis: ``y_k = exp(x_k) / sum_i exp(x_i)``.

    Shape: x (N, C) or (C,) → the same shape, each row summing to 1.

    x: ``(C,)`` or ``(N, C)``; returns the same shape. Subtracting the row maximum first changes nothing
    mathematically and keeps ``exp`` from overflowing for logits like ``1000``.

    >>> softmax(np.array([[1.0, 2.0, 3.0]]))
    array([[0.09003057, 0.24472847, 0.66524096]])
    """
    x = as_float_array(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _as_label_indices(t: NDArray, n_classes: int, who: str) -> NDArray[np.intp]:
    """Integer class labels ``(N,)`` from integer labels or one-hot rows ``(N, C)``, validated."""
    if t.ndim == 2:
        if t.shape[1] != n_classes:
            raise ValueError(f"{who}: one-hot labels need {n_classes} columns, got shape {t.shape!r}")
        return t.argmax(axis=1)
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(t == np.round(t)):
            t = t.astype(np.intp)
        else:
            raise TypeError(f"{who}: labels must be integers or one-hot rows, got dtype {t.dtype}")
    # (unsigned labels, as datasets store them, cannot be negative: one reduction fewer per batch)
    if t.size and ((t.dtype.kind == "i" and t.min() < 0) or t.max() >= n_classes):
        raise ValueError(f"{who}: labels must lie in [0, {n_classes}), got values from {t.min()} to {t.max()}")
    return t


def cross_entropy_error(y: ArrayLike, t: ArrayLike) -> float:
    """Mean cross-entropy ``-1/N * sum log y[n, t_n]`` of probabilities ``y`` against labels ``t``.

    Shape: y (N, C) or (C,), t (N, C) one-hot or (N,) integer labels → a float.

    y: ``(N, C)`` or ``(C,)`` probabilities (rows of a softmax); t: one-hot of ``y``'s shape, or integer labels
    ``(N,)`` / a scalar. Averaged over the batch, as the book does.

    # NOTE: this keeps the book's form, ``log(y + 1e-7)``, so that its numbers stay comparable. The ``1e-7``
    # guards against ``log(0)`` but biases the loss; ``SoftmaxWithLoss`` does not use this function — it works
    # from the logits with ``softmax_cross_entropy``, which is exact.

    >>> round(cross_entropy_error(np.array([[0.1, 0.7, 0.2]]), np.array([1])), 4)  # -log 0.7
    0.3567
    """
    y = as_float_array(y)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    if y.ndim != 2:
        raise ValueError(f"cross_entropy_error expects y of shape (N, C) or (C,), got {y.shape!r}")
    if t.shape == y.shape:
        t = t.argmax(axis=1)
    elif t.shape != (y.shape[0],):
        raise ValueError(
            f"cross_entropy_error: labels of shape {t.shape!r} do not fit predictions of shape {y.shape!r}"
        )
    labels = _as_label_indices(np.asarray(t), y.shape[1], "cross_entropy_error")
    batch_size = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(batch_size), labels] + 1e-7)) / batch_size)


def softmax_cross_entropy(x: ArrayLike, t: ArrayLike) -> float:
    """Mean cross-entropy of ``softmax(x)`` against ``t``, from the logits: ``mean(logsumexp(x) - x[t])``.

    Shape: x (N, C), t (N,) integer labels or (N, C) one-hot → a float.

    x: ``(N, C)`` logits; t: integer labels ``(N,)`` or one-hot ``(N, C)``. Exact: no ``1e-7``, no ``log(0)``.

    >>> round(softmax_cross_entropy(np.array([[2.0, 1.0, 0.0]]), np.array([0])), 4)  # -log softmax(x)[0]
    0.4076
    """
    x = as_float_array(x)
    t = np.asarray(t)
    if x.ndim != 2:
        raise ValueError(f"softmax_cross_entropy expects logits of shape (N, C), got {x.shape!r}")
    lse = logsumexp(x, axis=1)[:, 0]
    if t.shape == x.shape:
        return float(np.sum(t * (lse[:, None] - x)) / x.shape[0])
    if t.shape != (x.shape[0],):
        raise ValueError(f"softmax_cross_entropy: labels of shape {t.shape!r} do not fit logits {x.shape!r}")
    labels = _as_label_indices(t, x.shape[1], "softmax_cross_entropy")
    return float(np.mean(lse - x[np.arange(x.shape[0]), labels]))
