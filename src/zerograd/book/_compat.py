"""What the book's network classes add to zerograd's: the ``lastLayer`` name and the book's label forms."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..layers import SoftmaxWithLoss


def book_labels(t: ArrayLike) -> NDArray:
    """Integer labels ``(N, 1)`` become ``(N,)``; anything else is returned as it is.

    The book's chapter-7 gradient check passes ``T = np.array([1]).reshape((1, 1))``, and its
    ``cross_entropy_error``/``SoftmaxWithLoss`` take it: the column indexes the rows, ``y[np.arange(N), t]``.
    # NOTE: for N = 1 that is the label's probability, the number returned here too. For N > 1 the book's index
    # broadcasts ``(N,)`` against ``(N, 1)`` into an N x N table and its "loss" is no cross-entropy (labels
    # [0, 2, 1] of three samples: 4.34 where the cross-entropy is 0.56); here ``(N, 1)`` always means N labels.
    """
    t = np.asarray(t)
    return t.reshape(-1) if t.ndim == 2 and t.shape[1] == 1 and t.dtype.kind in "iu" else t


class BookNetMixin:
    """``lastLayer``, the book's camelCase name of ``last_layer``, and labels ``(N, 1)`` read as ``(N,)``."""

    last_layer: SoftmaxWithLoss

    @property
    def lastLayer(self) -> SoftmaxWithLoss:  # noqa: N802 (the book's name)
        return self.last_layer

    @lastLayer.setter
    def lastLayer(self, layer: SoftmaxWithLoss) -> None:  # noqa: N802
        self.last_layer = layer

    def loss(self, x: ArrayLike, t: ArrayLike, *args: Any, **kwargs: Any) -> float:
        return super().loss(x, book_labels(t), *args, **kwargs)  # type: ignore[misc]

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        return super().gradient(x, book_labels(t))  # type: ignore[misc]

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike, *args: Any, **kwargs: Any) -> dict[str, NDArray]:
        return super().numerical_gradient(x, book_labels(t), *args, **kwargs)  # type: ignore[misc]

    def accuracy(self, x: ArrayLike, t: ArrayLike, *args: Any, **kwargs: Any) -> float:
        return super().accuracy(x, book_labels(t), *args, **kwargs)  # type: ignore[misc]
