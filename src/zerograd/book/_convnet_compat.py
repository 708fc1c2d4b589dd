"""What the book's convolutional nets add to zerograd's: ``save_params``/``load_params`` and ``accuracy`` in batches
of 100 (labels ``(N, 1)``, as chapter 7's gradient check passes them, come with ``BookNetMixin``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


class BookConvNetMixin:
    """The book's method names and defaults on top of a ``zerograd.convnets`` net."""

    params: dict[str, NDArray]

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = 100) -> float:
        """As the book: in batches of 100 (so 10,000 test images never go through the net at once)."""
        return super().accuracy(x, t, batch_size=batch_size)  # type: ignore[misc]

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
                raise ValueError(
                    f"{file_name}: parameter {key} is "
                    f"{'missing' if value is None else value.shape} but this net needs {param.shape}"
                )
            param[...] = value  # the layers hold these very arrays


def book_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The book's nets are float64 and draw from the global ``np.random`` (``np.random.seed`` applies)."""
    return {**kwargs, "dtype": np.float64, "rng": np.random}
