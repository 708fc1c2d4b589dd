"""Users' own data: an ``.npz`` of ``x_train, t_train, x_test, t_test``, loaded without pickle and validated."""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib.npyio import NpzFile
from numpy.typing import DTypeLike

from .dataset import Dataset, build, float_dtype
from .errors import DatasetError

REQUIRED = ("x_train", "t_train", "x_test", "t_test")
_HOW = ("save it with np.savez(path, x_train=..., t_train=..., x_test=..., t_test=...) using numeric arrays: x as "
        "(N, D), (N, H, W) or (N, C, H, W), t as (N,) integer labels or (N, K) one-hot")


def load_npz(path: str | os.PathLike[str], *, normalize: bool = True, flatten: bool = True,
             one_hot_label: bool = False, dtype: DTypeLike = np.float32) -> Dataset:
    """A ``Dataset`` from an ``.npz`` holding ``x_train, t_train, x_test, t_test`` (and optionally ``classes``).

    ``x``: ``(N, D)``, ``(N, H, W)`` or ``(N, C, H, W)``; uint8 (or integers in 0..255) are scaled to [0, 1] by
    ``normalize``, floats are only cast to ``dtype``. ``t``: ``(N,)`` integer class indices or ``(N, K)`` one-hot.
    ``classes``: an optional string array of class names. Arrays are read with ``allow_pickle=False``.
    """
    path = Path(path)
    dt = float_dtype(dtype)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file", hint="check the path; " + _HOW)
    try:
        npz = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        # allow_pickle=False turns a pickle file into a ValueError; a damaged zip ends up here too.
        raise DatasetError(f"{path}: not a readable .npz ({type(err).__name__}: {err})", hint=_HOW) from None
    if not isinstance(npz, NpzFile):
        raise DatasetError(f"{path}: holds a single array of shape {np.shape(npz)}, not the four arrays of an .npz",
                           hint=_HOW)
    with npz:
        missing = [k for k in REQUIRED if k not in npz.files]
        if missing:
            raise DatasetError(f"{path}: missing array(s) {', '.join(missing)}; it holds "
                               f"{', '.join(npz.files) or 'nothing'}", hint=_HOW)
        try:
            arrays = {k: npz[k] for k in (*REQUIRED, "classes") if k in npz.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            # Object arrays (which would need pickle) are refused with a ValueError; damaged members too.
            raise DatasetError(f"{path}: an array could not be read without pickle ({type(err).__name__}: {err})",
                               hint=_HOW) from None

    x_train, x_test = (_images(path, k, arrays[k]) for k in ("x_train", "x_test"))
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(f"{path}: x_train samples have shape {x_train.shape[1:]}, x_test samples "
                           f"{x_test.shape[1:]}; they must match", hint=_HOW)
    labels = {k: _labels(path, k, arrays[k], len(x)) for k, x in (("t_train", x_train), ("t_test", x_test))}
    num_classes = max(n for _, n in labels.values())
    if "classes" in arrays:
        names = arrays["classes"]
        if names.ndim != 1 or names.dtype.kind not in "US":
            raise DatasetError(f"{path}: classes must be a 1-D array of strings, got {names.dtype} {names.shape}",
                               hint="np.array(['cat', 'dog', ...])")
        if len(names) < num_classes:
            raise DatasetError(f"{path}: {len(names)} class names but labels go up to {num_classes - 1}",
                               hint="give one name per class")
        classes = tuple(str(n) for n in names)
    else:
        classes = tuple(str(i) for i in range(num_classes))
    if not flatten:
        x_train, x_test = (_unflatten(path, k, x) for k, x in (("x_train", x_train), ("x_test", x_test)))
    label_dtype = np.uint8 if len(classes) <= 256 else np.int64
    return build(str(path), x_train, labels["t_train"][0].astype(label_dtype), x_test,
                 labels["t_test"][0].astype(label_dtype), source=str(path.resolve()), classes=classes,
                 normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, dtype=dt)


def _images(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    if x.ndim not in (2, 3, 4) or x.shape[0] == 0 or 0 in x.shape:
        raise DatasetError(f"{path}: {key} must be (N, D), (N, H, W) or (N, C, H, W) with N >= 1, got shape "
                           f"{x.shape}", hint=_HOW)
    if x.dtype.kind in "ui":
        if x.dtype != np.uint8 and (x.min() < 0 or x.max() > 255):
            raise DatasetError(f"{path}: {key} is {x.dtype} with values {x.min()}..{x.max()}; integer images must "
                               f"lie in 0..255", hint="store pixels as uint8, or as floats already scaled")
        return x.astype(np.uint8, copy=False)
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"{path}: {key} holds NaN or infinite values", hint="clean the data before saving")
        return x
    raise DatasetError(f"{path}: {key} has dtype {x.dtype}; expected uint8, integers or floats", hint=_HOW)


def _labels(path: Path, key: str, t: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """``(class indices (N,) int64, number of classes they imply)``."""
    if t.shape[:1] != (n,) or t.ndim not in (1, 2):
        raise DatasetError(f"{path}: {key} must be ({n},) labels or ({n}, K) one-hot to match {n} samples, got "
                           f"shape {t.shape}", hint=_HOW)
    if t.ndim == 2:
        if t.dtype.kind not in "uifb" or t.shape[1] < 1 or not np.all((t == 0) | (t == 1)) \
                or not np.all(t.sum(axis=1) == 1):
            raise DatasetError(f"{path}: {key} of shape {t.shape} is not one-hot (each row one 1, the rest 0)",
                               hint=_HOW)
        return np.argmax(t, axis=1), t.shape[1]
    if t.dtype.kind not in "ui":
        raise DatasetError(f"{path}: {key} has dtype {t.dtype}; class labels must be integers", hint=_HOW)
    if t.min() < 0:
        raise DatasetError(f"{path}: {key} has negative label {t.min()}", hint="labels are 0..K-1")
    return t.astype(np.int64), int(t.max()) + 1


def _unflatten(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    """``(N, D)`` with square ``D`` → ``(N, 1, s, s)``; image arrays pass through."""
    if x.ndim != 2:
        return x
    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1]:
        raise DatasetError(f"{path}: flatten=False needs square images, but {key} has {x.shape[1]} features",
                           hint="use flatten=True, or save x as (N, H, W)")
    return x.reshape(x.shape[0], 1, side, side)
