"""The book's ``common/multi_layer_net.py``: ``MultiLayerNet`` with the book's defaults and global ``np.random``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import nets
from ._compat import BookNetMixin

__all__ = ["np", "MultiLayerNet"]


class MultiLayerNet(BookNetMixin, nets.MultiLayerNet):
    """``MultiLayerNet(input_size, hidden_size_list, output_size, activation='relu', weight_init_std='relu',
    weight_decay_lambda=0)``: the book's signature and defaults (He initialisation for ReLU), float64."""

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "relu",
        weight_decay_lambda: float = 0,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation=activation,
            weight_init_std=weight_init_std,
            weight_decay_lambda=weight_decay_lambda,
            rng=np.random,
        )
