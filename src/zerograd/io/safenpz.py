"""Reading an ``.npz`` that may be damaged or hostile: every member checked before a byte is allocated for it.

``np.load`` trusts the archive: a member's ``.npy`` header can declare a shape of terabytes, a damaged header
ends in ``tokenize.TokenError``, an "encrypted" zip flag in ``RuntimeError``, an unknown compression in
``NotImplementedError``. ``read_npz`` checks, in this order, and raises ``NpzFormatError`` (a ``ValueError``)
saying which member and what is wrong:

1. the zip directory: readable, no encrypted, duplicate or non-``.npy`` members, stored or deflated only, and
   each member's size bounded by what its compressed bytes can hold (deflate expands at most ~1032×), so the
   archive's own size bounds the memory it can make us allocate; deflated members together may declare at most
   ``max(MAX_INFLATED_FLOOR, MAX_INFLATE_RATIO × their compressed size)`` bytes (``max_inflated=`` changes it), so
   a 1 MB file of a 1 GiB deflated member is refused by its declared size before a byte is inflated;
2. each member's ``.npy`` header, parsed here (not by NumPy's private readers, which change between versions): a
   plain numeric, boolean or string dtype (never an object array, so never pickle), and ``prod(shape) × itemsize``
   equal to the bytes the zip directory says follow the header;
3. the data: inflated into exactly that many bytes and no more, with the zip's CRC checked at the end.

Shape: each array comes back with its header's shape and dtype.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import IO, cast

import numpy as np

__all__ = ["NPY_KINDS", "NpzFormatError", "read_npz"]

NPY_KINDS = "biufcUS"  # bool, integers, floats, complex, strings: nothing that needs pickle
DEFLATE_MAX_RATIO = 1032  # NOTE: deflate cannot expand one compressed byte into more than ~1032 bytes
# NOTE: real arrays deflate 2-20× (MNIST's pixels ~5×, float images ~10×); ratios near deflate's limit of ~1032× are
# runs of one byte, the shape of a zip bomb. Below the floor any ratio is taken: small files cannot hurt.
MAX_INFLATE_RATIO = 100
MAX_INFLATED_FLOOR = 16 << 20
MAX_HEADER_BYTES = 65_536  # an .npy header of a plain array is ~128 bytes; NumPy itself reads at most 10,000
MAX_NDIM = 32  # NumPy 1.x's limit (2.x allows 64)
_MAX_MEMBERS = 10_000
_FORMAT_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    struct.error,
    zlib.error,
    tokenize.TokenError,
    SyntaxError,
    KeyError,
    IndexError,
    OverflowError,
    UnicodeDecodeError,
    TypeError,
    RecursionError,
)


class NpzFormatError(ValueError):
    """The archive is not a well-formed ``.npz`` of plain arrays; the message names the member and the problem."""


def read_npz(
    path: str | os.PathLike[str], *, max_bytes: int | None = None, max_inflated: int | None = None
) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, by name (``"x_train"`` for the member ``x_train.npy``).

    max_bytes: refuse archives whose arrays add up to more bytes than this (besides the bound from the file size).
    max_inflated: refuse archives whose deflated members declare more bytes than this (default:
    ``max(MAX_INFLATED_FLOOR, MAX_INFLATE_RATIO × their compressed bytes)``); stored members are bounded by the
    file's size alone.
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
            infos = _check_directory(archive.infolist(), size, max_bytes, max_inflated)
            arrays = {}
            for info in infos:
                try:
                    arrays[info.filename[:-4]] = _read_member(archive, info)
                except NpzFormatError:
                    raise
                except _FORMAT_ERRORS as err:
                    raise NpzFormatError(f"member {info.filename!r} is damaged ({_reason(err)})") from None
    return arrays


def _check_directory(
    infos: list[zipfile.ZipInfo], file_size: int, max_bytes: int | None, max_inflated: int | None
) -> list[zipfile.ZipInfo]:
    if len(infos) > _MAX_MEMBERS:
        raise NpzFormatError(f"{len(infos)} members; an .npz of arrays has a handful")
    seen: set[str] = set()
    compressed = total = deflated_in = deflated_out = 0
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
                raise NpzFormatError(
                    f"member {name!r} is stored uncompressed but its sizes disagree "
                    f"({info.file_size} vs {info.compress_size} bytes)"
                )
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 64:
                raise NpzFormatError(
                    f"member {name!r} claims {info.file_size} bytes from {info.compress_size} "
                    "compressed ones, more than deflate can produce"
                )
            deflated_in += info.compress_size
            deflated_out += info.file_size
        else:
            raise NpzFormatError(
                f"member {name!r} uses zip compression method {info.compress_type}; np.savez "
                "writes stored or deflated members only"
            )
        compressed += info.compress_size
        total += info.file_size
    if compressed > file_size:
        raise NpzFormatError(f"its members claim {compressed} compressed bytes but the file has {file_size}")
    if max_bytes is not None and total > max_bytes:
        raise NpzFormatError(f"its arrays hold {total} bytes, more than the limit of {max_bytes}")
    limit = max(MAX_INFLATED_FLOOR, MAX_INFLATE_RATIO * deflated_in) if max_inflated is None else max_inflated
    if deflated_out > limit:
        raise NpzFormatError(
            f"its compressed members would inflate {deflated_in} bytes into {deflated_out} "
            f"({deflated_out // max(deflated_in, 1)}x), more than the {limit} bytes allowed for "
            "compressed data (a zip bomb, or data better saved with np.savez, uncompressed)"
        )
    return infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    name = info.filename
    with archive.open(info) as f:
        shape, fortran, dtype = read_npy_header(f, name)
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: an absurd shape cannot overflow
        available = info.file_size - f.tell()
        if nbytes != available:
            raise NpzFormatError(
                f"member {name!r}: its header declares {dtype} {shape} ({nbytes} bytes) but "
                f"{available} bytes follow the header"
            )
        buffer = bytearray(nbytes)
        view, filled = memoryview(buffer), 0
        # NOTE: readinto never inflates past the buffer, and zipfile stops at the declared size: the cap on inflating
        while filled < nbytes:
            n = cast(io.BufferedIOBase, f).readinto(view[filled:])
            if not n:
                raise NpzFormatError(f"member {name!r} is truncated: {filled} of {nbytes} bytes")
            filled += n
        if f.read(1):  # also makes zipfile check the CRC, which it does on reaching the end
            raise NpzFormatError(f"member {name!r} has bytes after its array")
    if dtype.kind == "U" and nbytes:
        # NOTE: NumPy stores any 32-bit number as a character; one past U+10FFFF is a SystemError in str(), later
        codes = np.frombuffer(buffer, dtype=np.dtype(np.uint32).newbyteorder(dtype.byteorder))
        if int(codes.max()) > 0x10FFFF:
            raise NpzFormatError(f"member {name!r} holds characters beyond Unicode's range (damaged strings)")
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


# -- the .npy header: magic, version, length, then a Python dict literal of three keys ----------------------------

_MAGIC = b"\x93NUMPY"
_TOKEN = re.compile(r"""\s*(?:'([^'\\]*)'|"([^"\\]*)"|(\d+)|(True|False)|([{}():,\[\]]))""")


def read_npy_header(f: IO[bytes], name: str = "array") -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` from the ``.npy`` header at the start of the binary file ``f``, which is
    left at the first data byte. Versions 1.0, 2.0 and 3.0; only plain numeric, boolean and string dtypes.

    NOTE: np.lib.format's readers are not used: the 3.0 one is private (gone in NumPy 2.4), and they parse the header
    with ``ast``, which a damaged header can make raise half a dozen exception types. This grammar is what
    ``np.save`` writes: ``{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`` in any key order.
    """
    magic = f.read(8)
    if len(magic) != 8 or magic[:6] != _MAGIC:
        raise NpzFormatError(f"member {name!r} is not an .npy array (no \\x93NUMPY magic)")
    version = (magic[6], magic[7])
    if version == (1, 0):
        length_bytes, size_format, encoding = 2, "<H", "latin1"
    elif version in ((2, 0), (3, 0)):
        length_bytes, size_format, encoding = 4, "<I", "latin1" if version == (2, 0) else "utf-8"
    else:
        raise NpzFormatError(f"member {name!r}: .npy format version {version[0]}.{version[1]} is unknown")
    raw_length = f.read(length_bytes)
    if len(raw_length) != length_bytes:
        raise NpzFormatError(f"member {name!r} ends inside its .npy header")
    (length,) = struct.unpack(size_format, raw_length)
    if length > MAX_HEADER_BYTES:
        raise NpzFormatError(f"member {name!r} has an .npy header of {length} bytes; a plain array needs ~128")
    raw = f.read(length)
    if len(raw) != length:
        raise NpzFormatError(f"member {name!r} ends inside its .npy header")
    try:
        fields = _parse_header_dict(raw.decode(encoding))
    except (UnicodeDecodeError, ValueError) as err:
        raise NpzFormatError(f"member {name!r} has a damaged .npy header ({err})") from None
    if set(fields) != {"descr", "fortran_order", "shape"}:
        raise NpzFormatError(
            f"member {name!r}: its .npy header has the keys {sorted(fields)}, not descr, fortran_order and shape"
        )
    descr, fortran, shape = fields["descr"], fields["fortran_order"], fields["shape"]
    if not isinstance(descr, str) or not isinstance(fortran, bool) or not isinstance(shape, tuple):
        raise NpzFormatError(f"member {name!r}: its .npy header has an invalid fortran_order or shape")
    if len(shape) > MAX_NDIM:
        raise NpzFormatError(f"member {name!r} has {len(shape)} dimensions; at most {MAX_NDIM} are read")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated type codes ('a') warn on NumPy 2; the dtype is checked below
            dtype = np.dtype(descr)
    except (TypeError, ValueError, SyntaxError) as err:
        raise NpzFormatError(f"member {name!r} has an unknown dtype {descr[:40]!r} ({_reason(err)})") from None
    if (
        dtype.hasobject
        or dtype.kind not in NPY_KINDS
        or dtype.fields is not None
        or dtype.subdtype is not None
        or (dtype.itemsize == 0 and dtype.kind in "US")
    ):
        raise NpzFormatError(
            f"member {name!r} has dtype {dtype}; only numeric, boolean and string arrays "
            "are read (an object array cannot be read without pickle)"
        )
    return shape, fortran, dtype


def _parse_header_dict(text: str) -> dict[str, object]:
    """The dict literal of an .npy header: string keys; values a string, True/False or a tuple of integers."""
    tokens, at = [], 0
    text = text.rstrip(" \n\x00")
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise ValueError(f"unexpected text at character {at}: {text[at : at + 20]!r}")
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        if quoted is not None:
            tokens.append(("str", quoted))
        elif match.group(3) is not None:
            tokens.append(("int", match.group(3)))
        elif match.group(4) is not None:
            tokens.append(("bool", match.group(4) == "True"))
        else:
            tokens.append(("punct", match.group(5)))
        at = match.end()
    fields: dict[str, object] = {}
    i = _expect(tokens, 0, "{")
    while tokens[i : i + 1] != [("punct", "}")]:
        kind, key = _token(tokens, i)
        if kind != "str" or key in fields:
            raise ValueError(f"expected a new key, got {key!r}")
        i = _expect(tokens, i + 1, ":")
        kind, value = _token(tokens, i)
        if kind in ("str", "bool"):
            fields[str(key)], i = value, i + 1
        elif value == "(":
            fields[str(key)], i = _parse_shape(tokens, i + 1)
        elif value == "[":
            raise ValueError("its dtype is structured (a list of fields); only plain arrays are read")
        else:
            raise ValueError(f"unexpected {value!r} for {key!r}")
        if tokens[i : i + 1] == [("punct", ",")]:
            i += 1
        elif tokens[i : i + 1] != [("punct", "}")]:
            raise ValueError("expected ',' or '}'")
    if i != len(tokens) - 1:
        raise ValueError("text after the closing '}'")
    return fields


def _parse_shape(tokens: list[tuple[str, object]], i: int) -> tuple[tuple[int, ...], int]:
    """``(3, 4)``, ``(3,)`` or ``()``, starting after the ``(``; returns the shape and the index after ``)``."""
    dims: list[int] = []
    while True:
        kind, value = _token(tokens, i)
        if value == ")" and kind == "punct":
            if len(dims) == 1 and tokens[i - 1] != ("punct", ","):
                raise ValueError("a one-dimensional shape needs its comma, (n,)")
            return tuple(dims), i + 1
        if kind != "int" or len(str(value)) > 20:
            raise ValueError(f"a shape holds non-negative integers, got {value!r}")
        dims.append(int(str(value)))
        kind, value = _token(tokens, i + 1)
        i += 2 if value == "," else 1
        if value not in (",", ")"):
            raise ValueError("expected ',' or ')' in the shape")


def _token(tokens: list[tuple[str, object]], i: int) -> tuple[str, object]:
    if i >= len(tokens):
        raise ValueError("the header ends early")
    return tokens[i]


def _expect(tokens: list[tuple[str, object]], i: int, punct: str) -> int:
    if _token(tokens, i) != ("punct", punct):
        raise ValueError(f"expected {punct!r}")
    return i + 1


def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text[:200]}" if text else type(err).__name__
