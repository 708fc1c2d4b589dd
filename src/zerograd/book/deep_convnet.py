"""The book's ``ch08/deep_convnet.py``: ``DeepConvNet`` with its signature, float64 and the global ``np.random``.

Six 3x3 convolutions with ReLU, three 2x2 poolings, ``Affine → Relu → Dropout → Affine → Dropout``; parameters
``W1..W8``, ``b1..b8``; ``predict(x, train_flg=False)``, ``loss(x, t)`` (in training mode, as the book's: dropout
on), ``accuracy(x, t, batch_size=100)``, ``gradient``, ``save_params``, ``load_params``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from numpy.typing import ArrayLike

from .. import convnets
from ._compat import BookNetMixin
from ._convnet_compat import BookConvNetMixin, book_kwargs

__all__ = ["DeepConvNet"]

Param = Mapping[str, Any] | None


class DeepConvNet(BookConvNetMixin, BookNetMixin, convnets.DeepConvNet):
    """``DeepConvNet(input_dim=(1, 28, 28), conv_param_1=..., ..., conv_param_6=..., hidden_size=50,
    output_size=10)`` with the book's default filters (16, 16, 32, 32, 64, 64 of 3x3)."""

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_param_1: Param = None,
        conv_param_2: Param = None,
        conv_param_3: Param = None,
        conv_param_4: Param = None,
        conv_param_5: Param = None,
        conv_param_6: Param = None,
        hidden_size: int = 50,
        output_size: int = 10,
    ) -> None:
        super().__init__(
            **book_kwargs(
                dict(
                    input_dim=input_dim,
                    conv_param_1=conv_param_1,
                    conv_param_2=conv_param_2,
                    conv_param_3=conv_param_3,
                    conv_param_4=conv_param_4,
                    conv_param_5=conv_param_5,
                    conv_param_6=conv_param_6,
                    hidden_size=hidden_size,
                    output_size=output_size,
                )
            )
        )

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = True) -> float:
        """The book's DeepConvNet takes its loss in training mode (dropout on): the loss that ``gradient`` follows."""
        return super().loss(x, t, train_flg)
