"""The book's ``common/optimizer.py``: ``SGD``, ``Momentum``, ``Nesterov``, ``AdaGrad``, ``RMSprop``, ``Adam``.

The same constructor arguments and defaults as the book (``SGD(lr=0.01)``, ``Momentum(lr=0.01, momentum=0.9)``,
``RMSprop(lr=0.01, decay_rate=0.99)``, ``Adam(lr=0.001, beta1=0.9, beta2=0.999)``, ...) and the same
``update(params, grads)``; the arithmetic is ``zerograd.optim``'s. The book's state attributes are readable under
its names: ``v`` (Momentum, Nesterov), ``h`` (AdaGrad, RMSprop), ``m``/``v``/``iter`` (Adam) — ``None`` before the
first update, as in the book.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import optim

__all__ = ["np", "AdaGrad", "Adam", "Momentum", "Nesterov", "RMSprop", "SGD"]


class _BookState:
    """The book's attribute names for the optimizer's state dicts, and its plain-number parameters."""

    state: dict[str, dict[str, Any]]
    steps: int

    def update(self, params: dict[str, Any], grads: dict[str, Any]) -> None:
        """One step, in place for arrays; a plain number in ``params`` (``{'x': -7.0}``, as the book's
        ``optimizer_compare_naive.py`` passes) is replaced by its updated value, as the book's ``-=`` rebinds it."""
        numbers = [key for key, value in params.items() if not isinstance(value, np.ndarray)]
        if not numbers:
            super().update(params, grads)  # type: ignore[misc]
            return
        arrays = {
            key: (np.array(value, dtype=np.float64) if key in numbers else value) for key, value in params.items()
        }
        as_arrays = {
            key: np.asarray(value, dtype=np.float64) if key in numbers else value for key, value in grads.items()
        }
        super().update(arrays, as_arrays)  # type: ignore[misc]
        for key in numbers:
            params[key] = arrays[key][()]  # a NumPy float, as the book's arithmetic leaves it

    def _book_slot(self, slot: str) -> dict[str, Any] | None:
        return self.state[slot] or None  # the book starts with None and fills a dict on the first update

    @property
    def iter(self) -> int:
        return self.steps


class SGD(_BookState, optim.SGD):
    pass


class Momentum(_BookState, optim.Momentum):
    @property
    def v(self) -> dict[str, Any] | None:
        return self._book_slot("v")


class Nesterov(_BookState, optim.Nesterov):
    @property
    def v(self) -> dict[str, Any] | None:
        return self._book_slot("v")


class AdaGrad(_BookState, optim.AdaGrad):
    @property
    def h(self) -> dict[str, Any] | None:
        return self._book_slot("h")


class RMSprop(_BookState, optim.RMSprop):
    @property
    def h(self) -> dict[str, Any] | None:
        return self._book_slot("h")


class Adam(_BookState, optim.Adam):
    @property
    def m(self) -> dict[str, Any] | None:
        return self._book_slot("m")

    @property
    def v(self) -> dict[str, Any] | None:
        return self._book_slot("v")
