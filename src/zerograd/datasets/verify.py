"""Checksums: is this copy of a published file the published bytes?"""

from __future__ import annotations

import hashlib

from .catalog import RemoteFile
from .errors import ChecksumError, DatasetError
from .idx import decompress


def verified_payload(data: bytes, remote: RemoteFile, source: str, max_raw: int | None = None) -> bytes:
    """The decompressed IDX bytes of ``data`` (a copy of ``remote`` read from ``source``), once they verify.

    Accepted: the ``.gz``'s md5 or sha256 as published, or the decompressed payload's sha256 (a re-compressed copy).
    Anything else raises ``ChecksumError`` naming the file and the expected and actual hashes. The .gz is hashed
    before anything is decompressed; a copy that does not match is decompressed (for its payload's hash) only up
    to ``max_raw`` bytes, the dataset's known size, so a compressed bomb is refused without filling memory.
    """
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    if md5 == remote.md5_gz or (remote.sha256_gz is not None and sha256 == remote.sha256_gz):
        return decompress(data, source, max_raw)
    try:
        payload = decompress(data, source, max_raw)
    except DatasetError as err:  # a cut-off, damaged or oversized .gz: report it as the mismatch it also is
        raw_sha256 = f"(none: {err.message.split(': ', 1)[-1]})"
    else:
        raw_sha256 = hashlib.sha256(payload).hexdigest()
        if remote.sha256_raw is not None and raw_sha256 == remote.sha256_raw:
            return payload
    expected = [f"md5 {remote.md5_gz} of the .gz"]
    if remote.sha256_gz:
        expected.append(f"sha256 {remote.sha256_gz} of the .gz")
    if remote.sha256_raw:
        expected.append(f"sha256 {remote.sha256_raw} decompressed")
    raise ChecksumError(
        f"checksum mismatch for {remote.name} from {source}: expected {' or '.join(expected)}; "
        f"got md5 {md5} and sha256 {sha256} of the file, sha256 {raw_sha256} decompressed",
        hint="the copy is damaged or is another file: delete it and load again to fetch a fresh copy",
    )
