"""The book's ``common/layers.py`` names: the chapter-5 layers and chapter 6's, with the book's slips fixed.

Same constructors, methods and attributes as the book (``Affine(W, b)`` with ``dW``/``db``, ``Relu.mask``,
``Sigmoid.out``, ``SoftmaxWithLoss.loss/y/t``, ``BatchNormalization(gamma, beta, momentum=0.9, running_mean=None,
running_var=None)``, ``Dropout(dropout_ratio=0.5)``, ``forward(x, train_flg=True)``), but ``backward`` never writes
into ``dout``, dtypes are kept, and ``SoftmaxWithLoss`` computes its loss exactly from the logits (no ``1e-7``).
A star import gives what the book's module gives: the layers, the functions of ``common/functions.py`` and ``np``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .. import layers as _layers
from ..layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from .functions import *  # noqa: F403  (the book's layers module star-imports its functions)
from .functions import __all__ as _function_names

__all__ = ["Affine", "AddLayer", "BatchNormalization", "Dropout", "MulLayer", "Relu", "Sigmoid", "SoftmaxWithLoss",
           "np", *_function_names]


class BatchNormalization(_layers.BatchNormalization):
    """``BatchNormalization(gamma, beta, momentum=0.9, running_mean=None, running_var=None)``: forward's
    ``train_flg`` defaults to True, as in the book."""

    def __init__(self, gamma: NDArray, beta: NDArray, momentum: float = 0.9, running_mean: NDArray | None = None,
                 running_var: NDArray | None = None) -> None:
        super().__init__(gamma, beta, momentum=momentum, running_mean=running_mean, running_var=running_var)

    def forward(self, x: NDArray, train_flg: bool | None = True) -> NDArray:
        return super().forward(x, train_flg)


class Dropout(_layers.Dropout):
    """``Dropout(dropout_ratio=0.5)``: masks drawn from the global ``np.random`` (``np.random.seed`` applies);
    forward's ``train_flg`` defaults to True, as in the book."""

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        super().__init__(dropout_ratio, rng=np.random)

    def forward(self, x: NDArray, train_flg: bool | None = True) -> NDArray:
        return super().forward(x, train_flg)
