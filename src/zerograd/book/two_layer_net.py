"""The book's ``TwoLayerNet`` (chapter 5): weights from the global ``np.random``, so ``np.random.seed`` applies."""

from __future__ import annotations

import numpy as np

from .. import nets
from ._compat import BookNetMixin

__all__ = ["np", "TwoLayerNet"]


class TwoLayerNet(BookNetMixin, nets.TwoLayerNet):
    """``TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01)``, float64, as in the book."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01) -> None:
        super().__init__(input_size, hidden_size, output_size, weight_init_std=weight_init_std, rng=np.random)
