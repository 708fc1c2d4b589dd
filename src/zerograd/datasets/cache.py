"""Datasets decoded once: the verified IDX arrays kept as ``.npy`` files, so a later start skips the ``.gz``.

Decoding Fashion-MNIST — hashing the four ``.gz`` files, inflating them, parsing the IDX — takes most of a second
on every start. After the first load its uint8 arrays are written beside the download cache::

    <root or $ZEROGRAD_DATA or $XDG_CACHE_HOME/zerograd>/<dataset>/decoded/
        train-images-idx3-ubyte.npy  train-labels-idx1-ubyte.npy  t10k-...npy  manifest.json

and later loads memory-map them. The cache is trusted only while it matches what it was made from:

- the manifest names, for each array, the published file it came from (its md5 in the catalog) and the copy that
  was verified (its path, size and modification time); a copy found in another place, or changed since, means the
  arrays are decoded (and verified) again from that copy, and the cache is rewritten;
- each ``.npy`` must have the dtype and shape the catalog gives, the byte size the manifest recorded, and the
  CRC-32 of its bytes recorded when it was written (``zlib.crc32``: some 20 ms for the 47 MB of training images,
  a tenth of what a SHA-256 takes; it guards against a damaged file, the verified source against a wrong one).

Anything else — no manifest, a damaged one, a missing or changed ``.npy`` — is a cache miss, never an error: the
arrays are decoded from the verified ``.gz`` as if there were no cache. Files are written atomically
(``zerograd.io.fileio``), the manifest last; a folder that cannot be written (a read-only ``--root``) is skipped.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io.fileio import atomic_open, write_text
from .catalog import DatasetSpec, RemoteFile
from .locate import download_dir

__all__ = ["CACHE_FOLDER", "MANIFEST", "cache_dir", "read", "write"]

CACHE_FOLDER = "decoded"
MANIFEST = "manifest.json"
FORMAT = 1
MAX_MANIFEST_BYTES = 64 * 1024  # four short entries: anything larger is not ours


def cache_dir(spec: DatasetSpec, root: str | os.PathLike[str] | None = None) -> Path:
    """Where ``spec``'s decoded arrays are kept: ``<download dir>/decoded`` (see ``locate.download_dir``)."""
    return download_dir(spec.name, root) / CACHE_FOLDER


def read(
    spec: DatasetSpec, sources: Sequence[Path | None], root: str | os.PathLike[str] | None = None
) -> list[np.ndarray] | None:
    """The four arrays of ``spec`` from its cache, or None when the cache is missing or does not match.

    sources: the copy of each of ``spec.files`` a load would verify now (None where none is found): the cache
    stands for those copies only. Images come memory-mapped copy-on-write (writable; the file is never changed).
    """
    if any(source is None for source in sources):
        return None
    folder = cache_dir(spec, root)
    manifest = _read_manifest(folder / MANIFEST)
    if manifest is None or manifest.get("format") != FORMAT or manifest.get("dataset") != spec.name:
        return None
    entries = manifest.get("files")
    if not isinstance(entries, dict):
        return None
    arrays = []
    for remote, shape, source in zip(spec.files, _shapes(spec), sources, strict=True):
        entry = entries.get(remote.name)
        assert source is not None
        if (
            not isinstance(entry, dict)
            or entry.get("md5_gz") != remote.md5_gz
            or entry.get("source") != _identity(source)
        ):
            return None
        array = _load_npy(folder / _npy_name(remote), shape, entry)
        if array is None:
            return None
        arrays.append(array)
    return arrays


def write(
    spec: DatasetSpec,
    sources: Sequence[Path | None],
    arrays: Sequence[np.ndarray],
    root: str | os.PathLike[str] | None = None,
) -> bool:
    """Keep ``arrays`` (verified, decoded from ``sources``) in ``spec``'s cache; False when it cannot be written
    (the load goes on without it)."""
    if any(source is None for source in sources):
        return False
    folder = cache_dir(spec, root)
    entries: dict[str, Any] = {}
    try:
        for remote, source, array in zip(spec.files, sources, arrays, strict=True):
            assert source is not None
            path = folder / _npy_name(remote)
            array = np.ascontiguousarray(array)
            with atomic_open(path, "wb", make_dirs=True) as f:
                np.save(f, array, allow_pickle=False)
            entries[remote.name] = {
                "md5_gz": remote.md5_gz,
                "source": _identity(source),
                "npy_bytes": path.stat().st_size,
                "crc32": zlib.crc32(array.data),
            }
        write_text(
            folder / MANIFEST, json.dumps({"format": FORMAT, "dataset": spec.name, "files": entries}, indent=1) + "\n"
        )
    except OSError:
        return False
    return True


def _npy_name(remote: RemoteFile) -> str:
    return remote.name.removesuffix(".gz") + ".npy"


def _shapes(spec: DatasetSpec) -> list[tuple[int, ...]]:
    return [(spec.n_train, 28, 28), (spec.n_train,), (spec.n_test, 28, 28), (spec.n_test,)]


def _identity(source: Path) -> list[Any] | None:
    """What says a copy is the one the cache was made from: its resolved path, byte size, modification time."""
    try:
        stat = source.stat()
        return [str(source.resolve()), stat.st_size, stat.st_mtime_ns]
    except OSError:
        return None


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            return None
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _load_npy(path: Path, shape: tuple[int, ...], entry: dict[str, Any]) -> np.ndarray | None:
    """The array in ``path`` when it is uint8 of ``shape``, of the recorded size and CRC-32; else None."""
    try:
        # NOTE: the size is checked before np.load reads the header, and a memory map allocates nothing: a
        # damaged header cannot make this read more than the file, and a shape that disagrees is refused below
        if path.stat().st_size != entry.get("npy_bytes"):
            return None
        array = np.load(path, mmap_mode="c", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(array, np.ndarray)
        or array.dtype != np.uint8
        or array.shape != shape
        or not array.flags.c_contiguous
    ):
        return None
    if zlib.crc32(array.data) != entry.get("crc32"):
        return None
    return array
