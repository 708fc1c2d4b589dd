"""Users' own data: an ``.npz`` of ``x_train, t_train, x_test, t_test``, loaded without pickle and validated."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from ..io.safenpz import NpzFormatError, read_npz
from .dataset import Dataset, build, float_dtype
from .errors import DatasetError

REQUIRED = ("x_train", "t_train", "x_test", "t_test")
# NOTE: the output layer has one unit per class, so a label is also a size: 1000 covers ImageNet; a wrong label
# far above it would build a net of gigabytes before anything else could notice
MAX_CLASSES = 1000
_MORE_CLASSES = "fix the label, or pass max_classes= (--max-classes on the command line) if it is right"
_HOW = (
    "save it with np.savez(path, x_train=..., t_train=..., x_test=..., t_test=...) using numeric arrays: x as "
    "(N, D), (N, H, W) or (N, C, H, W), t as (N,) integer labels or (N, K) one-hot"
)


def load_npz(
    path: str | os.PathLike[str],
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    dtype: DTypeLike = np.float32,
    max_classes: int = MAX_CLASSES,
) -> Dataset:
    """A ``Dataset`` from an ``.npz`` holding ``x_train, t_train, x_test, t_test`` (and optionally ``classes``).

    ``x``: ``(N, D)``, ``(N, H, W)`` or ``(N, C, H, W)``; uint8 (or integers in 0..255) are scaled to [0, 1] by
    ``normalize``, floats are only cast to ``dtype``. ``t``: ``(N,)`` integer class indices or ``(N, K)`` one-hot.
    ``classes``: an optional string array of class names. Arrays are read without pickle, each checked against
    its header and the file's size before memory is allocated for it (``zerograd.io.safenpz``). Labels implying more
    than ``max_classes`` classes are refused (a stray 10,000,000 would otherwise build a 10-million-output net).
    """
    path = Path(path)
    dt = float_dtype(dtype)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file", hint="check the path; " + _HOW)
    try:
        arrays = read_npz(path)
    except NpzFormatError as err:
        single = _is_npy(path)
        what = (
            "holds a single array (an .npy), not the four arrays of an .npz" if single else f"not a usable .npz: {err}"
        )
        raise DatasetError(f"{path}: {what}", hint=_HOW) from None
    except OSError as err:
        raise DatasetError(f"{path}: cannot read ({err.strerror or err})", hint="check that it is readable") from None
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise DatasetError(
            f"{path}: missing array(s) {', '.join(missing)}; it holds {', '.join(sorted(arrays)) or 'nothing'}",
            hint=_HOW,
        )
    x_train, x_test = (_images(path, k, arrays[k], dt) for k in ("x_train", "x_test"))
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"{path}: x_train samples have shape {x_train.shape[1:]}, x_test samples "
            f"{x_test.shape[1:]}; they must match",
            hint=_HOW,
        )
    labels = {
        k: _labels(path, k, arrays[k], len(x), max_classes) for k, x in (("t_train", x_train), ("t_test", x_test))
    }
    num_classes = max(n for _, n in labels.values())
    if "classes" in arrays:
        names = arrays["classes"]
        if names.ndim != 1 or names.dtype.kind not in "US":
            raise DatasetError(
                f"{path}: classes must be a 1-D array of strings, got {names.dtype} {names.shape}",
                hint="np.array(['cat', 'dog', ...])",
            )
        if len(names) > max_classes:
            raise DatasetError(
                f"{path}: classes lists {len(names)} names, more than the limit of {max_classes}", hint=_MORE_CLASSES
            )
        if len(names) < num_classes:
            raise DatasetError(
                f"{path}: {len(names)} class names but labels go up to {num_classes - 1}",
                hint="give one name per class",
            )
        classes = _class_names(path, names)
    else:
        classes = tuple(str(i) for i in range(num_classes))
    if not flatten:
        x_train, x_test = (_unflatten(path, k, x) for k, x in (("x_train", x_train), ("x_test", x_test)))
    label_dtype = np.uint8 if len(classes) <= 256 else np.int64
    return build(
        str(path),
        x_train,
        labels["t_train"][0].astype(label_dtype),
        x_test,
        labels["t_test"][0].astype(label_dtype),
        source=str(path.resolve()),
        classes=classes,
        normalize=normalize,
        flatten=flatten,
        one_hot_label=one_hot_label,
        dtype=dt,
    )


def _images(path: Path, key: str, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if x.ndim not in (2, 3, 4) or x.shape[0] == 0 or 0 in x.shape:
        raise DatasetError(
            f"{path}: {key} must be (N, D), (N, H, W) or (N, C, H, W) with N >= 1, got shape {x.shape}", hint=_HOW
        )
    if x.dtype.kind in "ui":
        if x.dtype != np.uint8 and (x.min() < 0 or x.max() > 255):
            raise DatasetError(
                f"{path}: {key} is {x.dtype} with values {x.min()}..{x.max()}; integer images must lie in 0..255",
                hint="store pixels as uint8, or as floats already scaled",
            )
        return x.astype(np.uint8, copy=False)
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"{path}: {key} holds NaN or infinite values", hint="clean the data before saving")
        if x.size and np.abs(x).max() > np.finfo(dtype).max:
            raise DatasetError(
                f"{path}: {key} holds values up to {np.abs(x).max():g}, beyond {dtype}'s range: they "
                f"would become infinite",
                hint="scale the data, or load it with dtype=np.float64",
            )
        return x
    raise DatasetError(f"{path}: {key} has dtype {x.dtype}; expected uint8, integers or floats", hint=_HOW)


def _labels(path: Path, key: str, t: np.ndarray, n: int, max_classes: int) -> tuple[np.ndarray, int]:
    """``(class indices (N,) int64, number of classes they imply)``."""
    if t.shape[:1] != (n,) or t.ndim not in (1, 2):
        raise DatasetError(
            f"{path}: {key} must be ({n},) labels or ({n}, K) one-hot to match {n} samples, got shape {t.shape}",
            hint=_HOW,
        )
    if t.ndim == 2:
        if t.shape[1] > max_classes:
            raise DatasetError(
                f"{path}: {key} is one-hot over {t.shape[1]} classes, more than the limit of {max_classes}",
                hint=_MORE_CLASSES,
            )
        if (
            t.dtype.kind not in "uifb"
            or t.shape[1] < 1
            or not np.all((t == 0) | (t == 1))
            or not np.all(t.sum(axis=1) == 1)
        ):
            raise DatasetError(
                f"{path}: {key} of shape {t.shape} is not one-hot (each row one 1, the rest 0)", hint=_HOW
            )
        return np.argmax(t, axis=1), t.shape[1]
    if t.dtype.kind not in "ui":
        raise DatasetError(f"{path}: {key} has dtype {t.dtype}; class labels must be integers", hint=_HOW)
    if t.min() < 0:
        i = int(np.argmin(t))
        raise DatasetError(f"{path}: {key}[{i}] is the negative label {t[i]}", hint="labels are 0..K-1")
    if t.max() >= max_classes:
        i = int(np.argmax(t))
        raise DatasetError(
            f"{path}: {key}[{i}] is label {t[i]}, but labels must lie in 0..{max_classes - 1} "
            f"(at most {max_classes} classes)",
            hint=_MORE_CLASSES,
        )
    return t.astype(np.int64), int(t.max()) + 1


def _class_names(path: Path, names: np.ndarray) -> tuple[str, ...]:
    """Unicode names as they are; byte strings (``dtype S``) decoded as UTF-8, not shown as ``b'cat'``."""
    if names.dtype.kind == "U":
        return tuple(str(n) for n in names)  # safenpz refused code points beyond U+10FFFF
    try:
        return tuple(bytes(n).decode("utf-8") for n in names)
    except UnicodeDecodeError as err:
        raise DatasetError(
            f"{path}: classes holds bytes that are not UTF-8 text ({err.reason} at byte {err.start})",
            hint="save the class names as a str array, np.array(['cat', 'dog', ...])",
        ) from None


def _is_npy(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(6) == b"\x93NUMPY"


def _unflatten(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    """``(N, D)`` with square ``D`` → ``(N, 1, s, s)``; image arrays pass through."""
    if x.ndim != 2:
        return x
    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1]:
        raise DatasetError(
            f"{path}: flatten=False needs square images, but {key} has {x.shape[1]} features",
            hint="use flatten=True, or save x as (N, H, W)",
        )
    return x.reshape(x.shape[0], 1, side, side)
