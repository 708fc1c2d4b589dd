"""Datasets in one call: MNIST (online or offline), Fashion-MNIST, the bundled MNIST sample and users' ``.npz``.

    from zerograd.datasets import load_dataset
    ds = load_dataset("mnist")                   # Dataset: x_train (60000, 784) float32 in [0, 1], t_train (60000,)
    (x_train, t_train), (x_test, t_test) = ds    # unpacks like the book's load_mnist

Where files are looked for and cached: ``zerograd.datasets.locate``. Every data problem raises ``DatasetError``
naming the file and what is wrong, with a ``HINT:`` line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .catalog import CATALOG, FASHION_MNIST, MNIST, DatasetSpec, RemoteFile
from .dataset import Dataset
from .download import DEFAULT_TIMEOUT
from .errors import ChecksumError, DatasetError
from .idx import read_idx, write_idx
from .loaders import DatasetNotFoundError, load_fashion_mnist, load_mnist
from .locate import search_dirs, user_cache_dir
from .npz import MAX_CLASSES, load_npz
from .sample import load_mnist_sample

__all__ = [
    "CATALOG",
    "FASHION_MNIST",
    "MNIST",
    "ChecksumError",
    "Dataset",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetSpec",
    "RemoteFile",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "load_npz",
    "MAX_CLASSES",
    "read_idx",
    "search_dirs",
    "user_cache_dir",
    "write_idx",
    "DATASET_NAMES",
]

DATASET_NAMES = ("mnist", "fashion-mnist", "mnist-sample")
_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist", "mnist_sample": "mnist-sample"}


def load_dataset(
    name: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    dtype: DTypeLike = np.float32,
    allow_sample_fallback: bool = True,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
    max_classes: int = MAX_CLASSES,
) -> Dataset:
    """``"mnist"``, ``"fashion-mnist"``, ``"mnist-sample"`` or the path of an ``.npz``, as a ``Dataset``.

    ``root``, ``download``, ``mirrors``, ``timeout`` and ``progress`` concern the downloadable sets;
    ``allow_sample_fallback`` MNIST alone; ``max_classes`` an ``.npz`` alone. See ``load_mnist`` for the array
    shapes and dtypes.
    """
    options: dict[str, Any] = dict(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, dtype=dtype)
    remote: dict[str, Any] = dict(download=download, mirrors=mirrors, timeout=timeout, progress=progress)
    key = os.fspath(name)
    canonical = _ALIASES.get(key.lower(), key.lower())
    if canonical == "mnist":
        return load_mnist(root, allow_sample_fallback=allow_sample_fallback, **options, **remote)
    if canonical == "fashion-mnist":
        return load_fashion_mnist(root, **options, **remote)
    if canonical == "mnist-sample":
        return load_mnist_sample(**options)
    if key.endswith(".npz") or os.path.isfile(key):
        return load_npz(key, max_classes=max_classes, **options)
    raise DatasetError(
        f"unknown dataset {key!r}: expected one of {', '.join(DATASET_NAMES)} or the path of an .npz file",
        hint="check the spelling, or the path of your .npz",
    )
