"""The book's ``dataset/mnist.py``: ``load_mnist(normalize=True, flatten=True, one_hot_label=False)``.

Same call, same return value, same dtypes as the book's loader::

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

- images: uint8, or float32 in [0, 1] when ``normalize``; ``(N, 784)`` when ``flatten``, else ``(N, 1, 28, 28)``;
- labels: uint8 ``(N,)``, or float64 one-hot ``(N, 10)`` when ``one_hot_label`` (the book builds it with np.zeros).

Unlike the book: the files come from working mirrors (not yann.lecun.com), are verified by checksum, are cached
in ``~/.cache/zerograd/mnist`` as the published ``.gz`` files (no pickle, nothing written next to the scripts),
and with no network the bundled 10,000-digit sample is used, with a line on stderr saying so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..datasets import load_mnist as _load_mnist
from ..datasets.catalog import MNIST

__all__ = ["np", "load_mnist", "init_mnist", "key_file", "train_num", "test_num", "img_dim", "img_size"]

# The book's module-level names, with the same values.
key_file = {
    "train_img": "train-images-idx3-ubyte.gz",
    "train_label": "train-labels-idx1-ubyte.gz",
    "test_img": "t10k-images-idx3-ubyte.gz",
    "test_label": "t10k-labels-idx1-ubyte.gz",
}
train_num = 60000
test_num = 10000
img_dim = (1, 28, 28)
img_size = 784


def init_mnist() -> None:
    """Download MNIST into the cache now (the book's ``init_mnist``), without the book's pickle."""
    _load_mnist(normalize=False, allow_sample_fallback=False)


def _change_one_hot_label(labels: np.ndarray) -> np.ndarray:
    """``labels: (N,)`` → ``(N, 10)`` float64 one-hot, the book's dtype."""
    t = np.zeros((labels.size, len(MNIST.classes)))
    t[np.arange(labels.size), labels] = 1
    return t


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False) -> Any:
    """MNIST as ``((x_train, t_train), (x_test, t_test))``, the book's way (see the module docstring)."""
    ds = _load_mnist(normalize=normalize, flatten=flatten, one_hot_label=False, dtype=np.float32)
    t_train, t_test = ds.t_train, ds.t_test
    if one_hot_label:
        t_train, t_test = _change_one_hot_label(t_train), _change_one_hot_label(t_test)
    return (ds.x_train, t_train), (ds.x_test, t_test)
