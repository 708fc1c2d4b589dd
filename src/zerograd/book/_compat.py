"""What the book's network classes add to zerograd's: the global ``np.random`` and the ``lastLayer`` name."""

from __future__ import annotations

from ..layers import SoftmaxWithLoss


class BookNetMixin:
    """``lastLayer``, the book's camelCase name of ``last_layer``."""

    last_layer: SoftmaxWithLoss

    @property
    def lastLayer(self) -> SoftmaxWithLoss:  # noqa: N802 (the book's name)
        return self.last_layer

    @lastLayer.setter
    def lastLayer(self, layer: SoftmaxWithLoss) -> None:  # noqa: N802
        self.last_layer = layer
