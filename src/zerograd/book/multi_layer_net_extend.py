"""The book's ``common/multi_layer_net_extend.py``: ``MultiLayerNetExtend`` with the book's signature and the
global ``np.random``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import nets
from ._compat import BookNetMixin

__all__ = ["MultiLayerNetExtend", "np"]


class MultiLayerNetExtend(BookNetMixin, nets.MultiLayerNetExtend):
    """``MultiLayerNetExtend(input_size, hidden_size_list, output_size, activation='relu', weight_init_std='relu',
    weight_decay_lambda=0, use_dropout=False, dropout_ration=0.5, use_batchnorm=False)``, float64; weights and
    dropout masks from the global ``np.random``."""

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "relu",
        weight_decay_lambda: float = 0,
        use_dropout: bool = False,
        dropout_ration: float = 0.5,
        use_batchnorm: bool = False,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation=activation,
            weight_init_std=weight_init_std,
            weight_decay_lambda=weight_decay_lambda,
            use_dropout=use_dropout,
            dropout_ration=dropout_ration,
            use_batchnorm=use_batchnorm,
            rng=np.random,
        )
