"""What the book's convolutional nets add to zerograd's: ``save_params``/``load_params``, ``accuracy`` in batches of
100, and labels shaped ``(N, 1)`` (chapter 7's gradient check passes ``T = np.array([1]).reshape((1, 1))``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def book_labels(t: ArrayLike) -> NDArray:
    """Integer labels ``(N, 1)`` become ``(N,)``; anything else is returned as it is."""
    t = np.asarray(t)
    return t.reshape(-1) if t.ndim == 2 and t.shape[1] == 1 and t.dtype.kind in "iu" else t


class BookConvNetMixin:
    """The book's method names and defaults on top of a ``zerograd.convnets`` net."""

    params: dict[str, NDArray]

    def loss(self, x: ArrayLike, t: ArrayLike, train_flg: bool = False) -> float:
        return super().loss(x, book_labels(t), train_flg)  # type: ignore[misc]

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        return super().gradient(x, book_labels(t))  # type: ignore[misc]

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike, h: float = 1e-4) -> dict[str, NDArray]:
        return super().numerical_gradient(x, book_labels(t), h)  # type: ignore[misc]

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = 100) -> float:
        """As the book: in batches of 100 (so 10,000 test images never go through the net at once)."""
        return super().accuracy(x, book_labels(t), batch_size=batch_size)  # type: ignore[misc]

    def save_params(self, file_name: str = "params.pkl") -> None:
        """Save the parameters under the book's file name, as a zerograd checkpoint (an ``.npz`` archive with a
        JSON header, written atomically), never as a pickle: a pickle runs code when it is loaded."""
        from ..checkpoint import save

        save(file_name, self)

    def load_params(self, file_name: str = "params.pkl") -> None:
        """Load parameters saved by ``save_params`` (of a net of the same shape) into this net, in place."""
        from ..checkpoint import load

        saved = load(file_name).net.params
        for key, param in self.params.items():
            value = saved.get(key)
            if value is None or value.shape != param.shape:
                raise ValueError(f"{file_name}: parameter {key} is "
                                 f"{'missing' if value is None else value.shape} but this net needs {param.shape}")
            param[...] = value  # the layers hold these very arrays


def book_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The book's nets are float64 and draw from the global ``np.random`` (``np.random.seed`` applies)."""
    return {**kwargs, "dtype": np.float64, "rng": np.random}
