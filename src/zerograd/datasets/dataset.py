"""The ``Dataset`` every loader returns, and the options (normalize, flatten, one-hot, dtype) applied on load."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike

from .errors import DatasetError


@dataclass(frozen=True, repr=False)
class Dataset:
    """Train and test arrays with their name, origin and class names.

    Attributes:
        x_train: ``(N, D)`` when flattened (``D = 784`` for MNIST), else ``(N, 1, H, W)``; uint8 as stored, or
            ``dtype`` in [0, 1] when normalized.
        t_train: ``(N,)`` uint8 class indices, or ``(N, num_classes)`` one-hot of ``dtype``.
        x_test, t_test: the same for the test split.
        source: where the arrays came from, for people (a directory, a file, or the bundled sample).
        classes: the class names, index ``i`` naming label ``i``.
        image_shape: ``(C, H, W)`` of one sample as stored (``(1, 28, 28)`` for MNIST), kept when ``x`` is
            flattened, so a convolutional net sees the images as they were given; None for data stored as ``(N, D)``.

    ``x_train, t_train`` and ``x_test, t_test`` unpack as ``(train, test) = dataset``, like the book's tuple.
    """

    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    source: str
    classes: tuple[str, ...]
    image_shape: tuple[int, int, int] | None = None

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield (self.x_train, self.t_train)
        yield (self.x_test, self.t_test)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train={self.x_train.shape} {self.x_train.dtype}, "
            f"test={self.x_test.shape} {self.x_test.dtype}, classes={self.num_classes}, source={self.source!r})"
        )


def float_dtype(dtype: DTypeLike) -> np.dtype:
    """``dtype`` as a NumPy floating dtype, or a ``DatasetError`` saying what was given."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise DatasetError(
            f"dtype must be a floating type such as float32 or float64, got {dtype!r}",
            hint="pass dtype=np.float32 (the default) or np.float64",
        )
    return dt


def one_hot(labels: np.ndarray, num_classes: int, dtype: DTypeLike) -> np.ndarray:
    """``labels: (N,)`` class indices → ``(N, num_classes)`` rows of zeros with a single 1."""
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def images_for_output(x: np.ndarray, normalize: bool, flatten: bool, dtype: np.dtype) -> np.ndarray:
    """``x: (N, H, W)`` or ``(N, C, H, W)`` images → ``(N, C*H*W)`` or ``(N, C, H, W)``; uint8 scaled to [0, 1]."""
    if x.ndim == 3:
        x = x[:, None, :, :]  # one channel, as the book's (N, 1, 28, 28)
    if flatten:
        x = x.reshape(x.shape[0], -1)
    if normalize:
        # NOTE: dividing in the target dtype (not float64 then casting) gives exactly the book's float32 values,
        # which it computes as ``x.astype(np.float32); x /= 255.0``.
        scale = dtype.type(255) if x.dtype == np.uint8 else dtype.type(1)
        x = x.astype(dtype)  # a new array (of 188 MB for Fashion-MNIST's training images)...
        x /= scale  # ...divided where it is: a second one would cost as much again in fresh memory
    return np.ascontiguousarray(x)


def build(
    name: str,
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    t_test: np.ndarray,
    *,
    source: str,
    classes: tuple[str, ...],
    normalize: bool,
    flatten: bool,
    one_hot_label: bool,
    dtype: DTypeLike,
) -> Dataset:
    """A ``Dataset`` from stored arrays (images ``(N, H, W)`` or ``(N, C, H, W)``, labels ``(N,)`` of ints)."""
    dt = float_dtype(dtype)
    # (C, H, W) as stored, kept when flattened: a convnet must not guess it from the number of values
    image_shape = {3: (1, *x_train.shape[1:]), 4: tuple(x_train.shape[1:])}.get(x_train.ndim)
    x_train, x_test = (images_for_output(x, normalize, flatten, dt) for x in (x_train, x_test))
    if one_hot_label:
        t_train, t_test = (one_hot(t, len(classes), dt) for t in (t_train, t_test))
    return Dataset(name, x_train, t_train, x_test, t_test, source=source, classes=classes, image_shape=image_shape)
