"""The book's ``ch07/simple_convnet.py``: ``SimpleConvNet`` with its signature, float64 and the global ``np.random``.

Layers ``Conv1, Relu1, Pool1, Affine1, Relu2, Affine2`` and ``lastLayer``; parameters ``W1..W3``, ``b1..b3``;
``predict``, ``loss``, ``accuracy(x, t, batch_size=100)``, ``gradient``, ``numerical_gradient``, ``save_params``,
``load_params``. The layers are zerograd's fast ``Convolution`` and ``Pooling``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import convnets
from ._compat import BookNetMixin
from ._convnet_compat import BookConvNetMixin, book_kwargs

__all__ = ["SimpleConvNet"]


class SimpleConvNet(BookConvNetMixin, BookNetMixin, convnets.SimpleConvNet):
    """``SimpleConvNet(input_dim=(1, 28, 28), conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0,
    'stride': 1}, hidden_size=100, output_size=10, weight_init_std=0.01)``."""

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_param: Mapping[str, Any] | None = None,
        hidden_size: int = 100,
        output_size: int = 10,
        weight_init_std: float | str = 0.01,
    ) -> None:
        super().__init__(
            **book_kwargs(
                dict(
                    input_dim=input_dim,
                    conv_param=conv_param,
                    hidden_size=hidden_size,
                    output_size=output_size,
                    weight_init_std=weight_init_std,
                )
            ),
            pool_before_relu=False,
        )  # the book's layer order: Conv1 → Relu1 → Pool1
