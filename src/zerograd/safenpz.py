"""Reading an ``.npz`` that may be damaged or hostile: every member checked before a byte is allocated for it.

``np.load`` trusts the archive: a member's ``.npy`` header can declare a shape of terabytes, a damaged header
ends in ``tokenize.TokenError``, an "encrypted" zip flag in ``RuntimeError``, an unknown compression in
``NotImplementedError``. ``read_npz`` checks, in this order, and raises ``NpzFormatError`` (a ``ValueError``)
saying which member and what is wrong:

1. the zip directory: readable, no encrypted, duplicate or non-``.npy`` members, stored or deflated only, and
   each member's size bounded by what its compressed bytes can hold (deflate expands at most ~1032×), so the
   archive's own size bounds the memory it can make us allocate;
2. each member's ``.npy`` header: a plain numeric, boolean or string dtype (never an object array, so never
   pickle), and ``prod(shape) × itemsize`` equal to the bytes the zip directory says follow the header;
3. the data: read into exactly that many bytes, with the zip's CRC checked at the end.

Shape: each array comes back with its header's shape and dtype.
"""

from __future__ import annotations

import math
import os
import struct
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NPY_KINDS", "NpzFormatError", "read_npz"]

NPY_KINDS = "biufcUS"  # bool, integers, floats, complex, strings: nothing that needs pickle
DEFLATE_MAX_RATIO = 1032  # NOTE: deflate cannot expand one compressed byte into more than ~1032 bytes
_MAX_MEMBERS = 10_000
_FORMAT_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError,
                  RuntimeError, struct.error, zlib.error, tokenize.TokenError, SyntaxError, KeyError, IndexError,
                  OverflowError, UnicodeDecodeError, TypeError, RecursionError)


class NpzFormatError(ValueError):
    """The archive is not a well-formed ``.npz`` of plain arrays; the message names the member and the problem."""


def read_npz(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, by name (``"x_train"`` for the member ``x_train.npy``).

    max_bytes: refuse archives whose arrays add up to more bytes than this (besides the bound from the file size).
    Raises ``NpzFormatError`` for anything but a well-formed archive, ``OSError`` when the file cannot be opened.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as raw:
        try:
            archive = zipfile.ZipFile(raw)
        except _FORMAT_ERRORS as err:
            raise NpzFormatError(f"not a readable .npz archive ({_reason(err)})") from None
        with archive:
            infos = _check_directory(archive.infolist(), size, max_bytes)
            arrays = {}
            for info in infos:
                try:
                    arrays[info.filename[:-4]] = _read_member(archive, info)
                except NpzFormatError:
                    raise
                except _FORMAT_ERRORS as err:
                    raise NpzFormatError(f"member {info.filename!r} is damaged ({_reason(err)})") from None
    return arrays


def _check_directory(infos: list[zipfile.ZipInfo], file_size: int, max_bytes: int | None) -> list[zipfile.ZipInfo]:
    if len(infos) > _MAX_MEMBERS:
        raise NpzFormatError(f"{len(infos)} members; an .npz of arrays has a handful")
    seen: set[str] = set()
    compressed = total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise NpzFormatError(f"member {name!r} appears twice")
        seen.add(name)
        if not name.endswith(".npy") or len(name) == 4:
            raise NpzFormatError(f"member {name!r} is not an .npy array")
        if info.flag_bits & 0x1:
            raise NpzFormatError(f"member {name!r} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise NpzFormatError(f"member {name!r} is stored uncompressed but its sizes disagree "
                                     f"({info.file_size} vs {info.compress_size} bytes)")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 64:
                raise NpzFormatError(f"member {name!r} claims {info.file_size} bytes from {info.compress_size} "
                                     "compressed ones, more than deflate can produce")
        else:
            raise NpzFormatError(f"member {name!r} uses zip compression method {info.compress_type}; np.savez "
                                 "writes stored or deflated members only")
        compressed += info.compress_size
        total += info.file_size
    if compressed > file_size:
        raise NpzFormatError(f"its members claim {compressed} compressed bytes but the file has {file_size}")
    if max_bytes is not None and total > max_bytes:
        raise NpzFormatError(f"its arrays hold {total} bytes, more than the limit of {max_bytes}")
    return infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    name = info.filename
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = _read_header(f, version)
        if dtype.hasobject or dtype.kind not in NPY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise NpzFormatError(f"member {name!r} has dtype {dtype}; only numeric, boolean and string arrays "
                                 "are read (an object array cannot be read without pickle)")
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise NpzFormatError(f"member {name!r} has an invalid shape {shape!r}")
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: an absurd shape cannot overflow
        available = info.file_size - f.tell()
        if nbytes != available:
            raise NpzFormatError(f"member {name!r}: its header declares {dtype} {shape} ({nbytes} bytes) but "
                                 f"{available} bytes follow the header")
        buffer = bytearray(nbytes)
        view, filled = memoryview(buffer), 0
        while filled < nbytes:
            n = f.readinto(view[filled:])  # type: ignore[attr-defined]  # a ZipExtFile has it; IO[bytes] does not say
            if not n:
                raise NpzFormatError(f"member {name!r} is truncated: {filled} of {nbytes} bytes")
            filled += n
        if f.read(1):  # also makes zipfile check the CRC, which it does on reaching the end
            raise NpzFormatError(f"member {name!r} has bytes after its array")
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def _read_header(f: Any, version: tuple[int, int]) -> tuple[object, bool, np.dtype]:
    with warnings.catch_warnings():
        # the header is a Python literal parsed by ast: a damaged one can make the parser warn (invalid escape
        # sequences); the damage is reported as an error below or after, the warning would only be noise
        warnings.simplefilter("ignore")
        return _parse_header(f, version)


def _parse_header(f: Any, version: tuple[int, int]) -> tuple[object, bool, np.dtype]:
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    elif version == (3, 0):
        # NOTE: the public readers stop at 2.0; 3.0 differs only in a UTF-8 header (np.save writes it for
        # non-ASCII field names, which plain arrays do not have)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version=(3, 0))  # type: ignore[attr-defined]
    else:
        raise NpzFormatError(f".npy format version {version} is unknown")
    if not isinstance(fortran, bool) or not isinstance(dtype, np.dtype):
        raise NpzFormatError("an .npy header has invalid fields")
    return shape, fortran, dtype


def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text[:200]}" if text else type(err).__name__

