"""``load_mnist`` and ``load_fashion_mnist``: find or download the four IDX files, verify, load, fall back."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from . import cache
from .catalog import FASHION_MNIST, MNIST, DatasetSpec, RemoteFile
from .dataset import Dataset, build, float_dtype
from .download import DEFAULT_TIMEOUT, NetworkUnavailableError, fetch
from .errors import DatasetError
from .idx import parse_idx
from .locate import download_dir, offline_by_env, search_dirs
from .sample import load_mnist_sample
from .verify import verified_payload

PathLike = str | os.PathLike[str]


class DatasetNotFoundError(DatasetError):
    """No copy anywhere and none could be downloaded; ``tried`` lists the places and why each failed."""

    def __init__(self, message: str, hint: str | None = None, tried: Sequence[str] = (), reason: str = "") -> None:
        super().__init__(message, hint)
        self.tried = tuple(tried)
        self.reason = reason  # a few words for the fallback's stderr line


def load_idx_files(
    spec: DatasetSpec,
    root: PathLike | None = None,
    *,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> tuple[list[np.ndarray], str]:
    """``[train images (N, 28, 28), train labels (N,), test images, test labels]`` (uint8) and where they were.

    Each file is looked for in ``search_dirs`` order and verified wherever it is found; a missing one is
    downloaded into ``download_dir`` when ``download`` (and ``ZEROGRAD_OFFLINE`` is unset). A copy that is found
    but fails its checksum is an error, never skipped silently. Nothing found and nothing downloadable raises
    ``DatasetNotFoundError``.
    """
    mirrors = spec.mirrors if mirrors is None else tuple(mirrors)
    dirs = search_dirs(spec.name, root, spec.system_dirs)
    download = download and not offline_by_env()
    arrays, origins, tried = [], [], []
    offline_reason: str | None = None
    for remote, raw_size in zip(spec.files, spec.raw_sizes, strict=True):
        found = _find(remote, dirs)
        if found is not None:
            payload = verified_payload(_read_bounded(found, raw_size), remote, str(found), max_raw=raw_size)
            origins.append(str(found.parent))
        elif not download or offline_reason is not None:
            tried.append(
                f"{remote.name}: not in {', '.join(map(str, dirs))}; "
                f"{'download not attempted: ' + offline_reason if offline_reason else 'downloads are off'}"
            )
            continue
        else:
            dest = download_dir(spec.name, root)
            try:
                payload = fetch(remote, mirrors, dest, timeout=timeout, progress=progress, max_raw=raw_size)
            except NetworkUnavailableError as err:
                offline_reason = "no mirror reachable (offline?)"  # no point trying the other files' mirrors
                tried.append(f"{remote.name}: not in {', '.join(map(str, dirs))}; {err.message}")
                continue
            except DatasetError as err:
                tried.append(f"{remote.name}: not in {', '.join(map(str, dirs))}; {err.message}")
                continue
            origins.append(str(dest))
        arrays.append(parse_idx(payload, remote.name))
    if tried:
        if not download:
            reason = f"no copy in {', '.join(map(str, dirs))} and downloads are off"
        elif offline_reason:
            reason = f"no copy in {', '.join(map(str, dirs))} and no mirror reachable (offline?)"
        else:
            reason = f"no copy in {', '.join(map(str, dirs))} and the download failed"
        listing = "\n".join(f"  - {line}" for line in tried)
        raise DatasetNotFoundError(
            f"{spec.title} is not available: {len(tried)} of 4 files could not be found or downloaded:\n{listing}",
            hint=spec.hint,
            tried=tried,
            reason=reason,
        )
    _check_arrays(spec, arrays)
    unique = sorted(set(origins), key=origins.index)
    return arrays, " + ".join(unique)


def _read_bounded(path: Path, raw_size: int) -> bytes:
    """The bytes of a found copy; one far larger than the raw dataset cannot be it (gzip never grows data by more
    than a few bytes per 16 KiB block), and is refused unread."""
    limit = raw_size + raw_size // 100 + 1024
    try:
        size = path.stat().st_size
        if size > limit:
            raise DatasetError(
                f"{path}: {size} bytes, more than any copy of this file can be ({limit})",
                hint="delete it and load again to fetch a fresh copy",
            )
        return path.read_bytes()
    except OSError as err:
        raise DatasetError(f"{path}: cannot read ({err.strerror or err})", hint="check that it is readable") from None


def _find(remote: RemoteFile, dirs: Sequence[Path]) -> Path | None:
    for d in dirs:
        path = d / remote.name
        if path.is_file():
            return path
    return None


def _sources(spec: DatasetSpec, root: PathLike | None) -> list[Path | None]:
    """The copy of each file a load verifies: the first found in ``search_dirs`` order (None: not found)."""
    dirs = search_dirs(spec.name, root, spec.system_dirs)
    return [_find(remote, dirs) for remote in spec.files]


def _check_arrays(spec: DatasetSpec, arrays: list[np.ndarray]) -> None:
    """The verified files are the published ones, so this only guards a catalog mistake; it is cheap."""
    expected = [
        ((spec.n_train, 28, 28), spec.train_images),
        ((spec.n_train,), spec.train_labels),
        ((spec.n_test, 28, 28), spec.test_images),
        ((spec.n_test,), spec.test_labels),
    ]
    for array, (shape, remote) in zip(arrays, expected, strict=True):
        if array.shape != shape or array.dtype != np.uint8:
            raise DatasetError(
                f"{remote.name}: expected uint8 {shape}, got {array.dtype} {array.shape}",
                hint="the catalog entry does not match the file; report this as a zerograd bug",
            )
    for labels, remote in ((arrays[1], spec.train_labels), (arrays[3], spec.test_labels)):
        if labels.max(initial=0) >= len(spec.classes):
            raise DatasetError(
                f"{remote.name}: label {labels.max()} outside 0..{len(spec.classes) - 1}",
                hint="the catalog entry does not match the file; report this as a zerograd bug",
            )


def _load(
    spec: DatasetSpec,
    root: PathLike | None,
    normalize: bool,
    flatten: bool,
    one_hot_label: bool,
    dtype: DTypeLike,
    download: bool,
    mirrors: Sequence[str] | None,
    timeout: float,
    progress: bool,
) -> Dataset:
    float_dtype(dtype)  # a bad dtype is reported before any download
    # the arrays decoded from these very copies by an earlier load, if they were cached (datasets.cache)
    sources = _sources(spec, root)
    arrays = cache.read(spec, sources, root)
    if arrays is not None:
        origins = [str(path.parent) for path in sources if path is not None]
        source = " + ".join(sorted(set(origins), key=origins.index))  # where the copies are, as when decoded
    else:
        arrays, source = load_idx_files(
            spec, root, download=download, mirrors=mirrors, timeout=timeout, progress=progress
        )
        cache.write(spec, _sources(spec, root), arrays, root)
    return build(
        spec.name,
        *arrays,
        source=source,
        classes=spec.classes,
        normalize=normalize,
        flatten=flatten,
        one_hot_label=one_hot_label,
        dtype=dtype,
    )


def load_mnist(
    root: PathLike | None = None,
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
) -> Dataset:
    """MNIST: 60,000 train and 10,000 test handwritten digits, 28x28.

    Returns a ``Dataset`` with ``x: (N, 784)`` (``flatten``) or ``(N, 1, 28, 28)``, uint8 or ``dtype`` in [0, 1]
    (``normalize``), and labels ``(N,)`` uint8 or ``(N, 10)`` one-hot of ``dtype`` (``one_hot_label``).
    Looked for as ``zerograd.datasets.locate`` describes, downloaded (and cached) if missing. When it cannot be
    had — offline, no copy — the bundled 10,000-digit sample is returned (``name == "mnist-sample"``) with one
    line on stderr saying so; ``allow_sample_fallback=False`` raises ``DatasetError`` listing what was tried.
    ``mirrors`` replaces the catalog's list (tests point it at a local server).
    """
    try:
        return _load(MNIST, root, normalize, flatten, one_hot_label, dtype, download, mirrors, timeout, progress)
    except DatasetNotFoundError as err:
        if not allow_sample_fallback:
            raise
        print(
            f"zerograd: using the bundled MNIST sample (8,000 train / 2,000 test digits), not full MNIST: "
            f"{err.reason}; to get all 70,000, go online once (cached in {download_dir(MNIST.name, root)}) or "
            f"pass root= a folder holding the four .gz files",
            file=sys.stderr,
        )
        return load_mnist_sample(
            normalize=normalize,
            flatten=flatten,
            one_hot_label=one_hot_label,
            dtype=dtype,
            source="bundled MNIST sample (offline fallback)",
        )


def load_fashion_mnist(
    root: PathLike | None = None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    dtype: DTypeLike = np.float32,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> Dataset:
    """Fashion-MNIST: 60,000 train and 10,000 test 28x28 clothing images in 10 classes; same arrays as MNIST.

    Debian/Ubuntu's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``) is found and used.
    There is no offline fallback (digits are no stand-in for clothes): a ``DatasetError`` says how to get it.
    """
    return _load(FASHION_MNIST, root, normalize, flatten, one_hot_label, dtype, download, mirrors, timeout, progress)
