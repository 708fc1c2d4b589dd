"""The IDX file format of MNIST and Fashion-MNIST: a reader that checks everything and an atomic writer.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the payload in row-major order::

    0x00 0x00 <dtype code> <ndim>  |  dim_0 ... dim_{ndim-1} (uint32, big-endian)  |  data (big-endian)

MNIST's images are ``0x00000803`` (uint8, 3 dims: N, 28, 28), its labels ``0x00000801`` (uint8, N). Files are
usually gzip-compressed; the reader recognises gzip by its magic bytes, not by the file name.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..io.fileio import write_bytes
from .errors import DatasetError

# dtype code (third magic byte) → big-endian NumPy dtype, as the format defines them.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # decompressed bytes per step
HINT_REDOWNLOAD = "the file is damaged or is not an IDX file; delete it and load the dataset again to re-fetch it"


def decompress(data: bytes, name: str, max_size: int | None = None) -> bytes:
    """The decompressed bytes of ``data`` when it is gzip (by its magic bytes), else ``data`` unchanged.

    Decompression streams and stops as soon as the output passes ``max_size`` or the size its own IDX header
    declares, so a compressed bomb (a few MB inflating to many GB) costs at most that much memory.
    """
    if not data.startswith(GZIP_MAGIC):
        _check_size(len(data), max_size, name)
        return data
    out = bytearray()
    stream = zlib.decompressobj(wbits=31)  # 31: a gzip wrapper, whose CRC and length zlib checks at the end
    pending = data
    try:
        while True:
            chunk = stream.decompress(pending, _CHUNK)
            pending = stream.unconsumed_tail
            out += chunk
            _check_size(len(out), max_size, name)
            _check_size(len(out), _declared_size(out), name, "its IDX header declares")
            if stream.eof:
                rest = stream.unused_data
                if not rest:
                    break
                if not rest.startswith(GZIP_MAGIC):  # gzip.decompress refuses trailing garbage as well
                    raise DatasetError(
                        f"{name}: not a valid gzip file (garbage after the compressed data)", hint=HINT_REDOWNLOAD
                    )
                stream, pending = zlib.decompressobj(wbits=31), rest  # a further gzip member
            elif not pending and len(chunk) < _CHUNK:
                raise DatasetError(
                    f"{name}: not a valid gzip file (it ends before the end of its compressed data: truncated)",
                    hint=HINT_REDOWNLOAD,
                )
    except zlib.error as err:
        raise DatasetError(f"{name}: not a valid gzip file ({err})", hint=HINT_REDOWNLOAD) from None
    return bytes(out)


def _declared_size(prefix: bytearray) -> int | None:
    """The total size an IDX file starting with ``prefix`` declares, once its header is complete."""
    if len(prefix) < 4 or prefix[0] or prefix[1] or prefix[2] not in IDX_DTYPES or not prefix[3]:
        return None  # not (yet) an IDX header: parse_idx reports what is wrong
    header = 4 + 4 * prefix[3]
    if len(prefix) < header:
        return None
    shape = [int.from_bytes(prefix[4 + 4 * i : 8 + 4 * i], "big") for i in range(prefix[3])]
    return header + math.prod(shape) * IDX_DTYPES[prefix[2]].itemsize


def _check_size(size: int, limit: int | None, name: str, what: str = "expected") -> None:
    if limit is not None and size > limit:
        raise DatasetError(
            f"{name}: holds more data than {what} ({limit} bytes); it is not the dataset's file (or a compressed bomb)",
            hint=HINT_REDOWNLOAD,
        )


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array held by raw (decompressed) IDX bytes, in native byte order; ``name`` appears in errors."""
    if len(data) < 4:
        raise DatasetError(
            f"{name}: truncated IDX header: {len(data)} bytes, the magic number alone needs 4", hint=HINT_REDOWNLOAD
        )
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"{name}: wrong IDX magic number 0x{data[:4].hex()} (it must start with 0x0000)", hint=HINT_REDOWNLOAD
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DatasetError(f"{name}: unknown IDX dtype code 0x{code:02X} (known: {known})", hint=HINT_REDOWNLOAD)
    if ndim == 0:
        raise DatasetError(f"{name}: IDX header declares 0 dimensions", hint=HINT_REDOWNLOAD)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, the file has {len(data)}",
            hint=HINT_REDOWNLOAD,
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow for absurd dimensions
    got = len(data) - header
    if got != expected:
        what = "short" if got < expected else "too long"
        raise DatasetError(
            f"{name}: IDX payload is {what}: shape {shape} of {dtype.newbyteorder('=')} needs "
            f"{expected} bytes after the header, the file has {got}",
            hint=HINT_REDOWNLOAD,
        )
    # NOTE: astype to native order also copies, so the result is writable and does not pin ``data``.
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str], max_bytes: int | None = None) -> np.ndarray:
    """The array in an IDX file, gzip-compressed or raw; any problem is a ``DatasetError`` naming the file.

    max_bytes: refuse files whose (decompressed) size would pass it; the IDX header's own size always bounds it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DatasetError(
            f"{path}: cannot read ({err.strerror or err})", hint="check that the path exists and is readable"
        ) from None
    return parse_idx(decompress(data, str(path), max_bytes), str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """The raw IDX encoding of ``array`` (uint8, int8, int16, int32, float32 or float64; 1 to 255 dims)."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DatasetError(
            f"IDX cannot store dtype {array.dtype}",
            hint="convert to uint8, int8, int16, int32, float32 or float64 first",
        )
    if not 1 <= array.ndim <= 255:
        raise DatasetError(
            f"IDX stores 1 to 255 dimensions, got an array of shape {array.shape}",
            hint="reshape the array (a scalar becomes shape (1,))",
        )
    if any(n >= 2**32 for n in array.shape):
        raise DatasetError(f"IDX dimensions are uint32, got shape {array.shape}", hint="split the array")
    header = bytes([0, 0, code, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``compress`` (default: the name ends in ``.gz``).

    The file is written to a temporary name beside it and renamed, so a reader never sees half a file.
    """
    path = Path(path)
    data = idx_bytes(array)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, mtime=0)  # mtime=0: the same array always gives the same bytes
    write_atomic(path, data)
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating its folder (``zerograd.io.fileio.write_bytes``)."""
    write_bytes(path, data, make_dirs=True)
