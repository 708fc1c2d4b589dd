"""``zerograd train --net convnet|deepconvnet``: the book's convolutional nets, shaped to the dataset's images."""

from __future__ import annotations

import math
from typing import Any

from .common import CommandError

NETS = ("mlp", "convnet", "deepconvnet")
# The books' hidden widths: SimpleConvNet's Affine 100, DeepConvNet's Affine 50.
DEFAULT_HIDDEN = {"convnet": 100, "deepconvnet": 50}


def image_dim(x_shape: tuple[int, ...], image_shape: tuple[int, int, int] | None = None) -> tuple[int, int, int]:
    """``(C, H, W)`` of a dataset's samples: the shape they were stored with (``image_shape``, which a flattened
    dataset keeps), ``x_shape`` itself when ``(N, C, H, W)``, or, for data stored as ``(N, D)``, square grey images.

    NOTE: the square guess is for ``(N, D)`` data alone: a (3, 16, 12) image has 576 values, like a 24×24 one.
    """
    if image_shape is not None:
        if math.prod(image_shape) != math.prod(x_shape[1:]):  # a caller's mistake, not the user's
            raise ValueError(f"image_shape {image_shape} does not hold samples of shape {x_shape[1:]}")
        return image_shape
    if len(x_shape) == 4:
        return x_shape[1], x_shape[2], x_shape[3]
    features = math.prod(x_shape[1:])
    side = math.isqrt(features)
    if len(x_shape) != 2 or side * side != features:
        raise CommandError(f"a convolutional net needs images; this dataset's samples are stored as "
                           f"{tuple(x_shape[1:])}, {features} values, not a square grey image: save x as (N, H, W) "
                           "or (N, C, H, W) in the .npz")
    return 1, side, side


def build_convnet(kind: str, hidden: str | None, init: str | None, weight_decay: float, dtype: str,
                  x_shape: tuple[int, ...], output_size: int, seed: int,
                  image_shape: tuple[int, int, int] | None = None) -> Any:
    """SimpleConvNet (``convnet``) or DeepConvNet (``deepconvnet``) with the book's layers, for these images
    (``image_shape``: their ``(C, H, W)`` as stored, see ``image_dim``)."""
    import numpy as np

    from ..convnets import DeepConvNet, SimpleConvNet

    try:
        hidden_size = DEFAULT_HIDDEN[kind] if hidden is None else int(hidden)
    except ValueError:
        raise CommandError(f"--hidden for --net {kind} is one width (the Affine layer's), got {hidden!r}") from None
    rng = np.random.default_rng([seed, 1])  # its own stream: the trainer's batch order uses the seed itself
    dim = image_dim(x_shape, image_shape)
    try:
        if kind == "convnet":
            scale: float | str = 0.01 if init is None else (float(init) if _is_number(init) else init.lower())
            return SimpleConvNet(dim, hidden_size=hidden_size, output_size=output_size, weight_init_std=scale,
                                 weight_decay_lambda=weight_decay, dtype=dtype, rng=rng)
        if init is not None:
            raise CommandError("--init: DeepConvNet uses He initialisation, as the book's")
        return DeepConvNet(dim, hidden_size=hidden_size, output_size=output_size, weight_decay_lambda=weight_decay,
                           dtype=dtype, rng=rng)
    except (ValueError, TypeError) as err:
        raise CommandError(str(err).replace("weight_init_std", "--init")) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
