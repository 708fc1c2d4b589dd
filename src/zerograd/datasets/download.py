"""Fetch one published file from a list of mirrors: progress bar, timeout, checksum, temp file + rename.

A file lands under its real name only after all its bytes arrived and verified, so an interrupted or corrupted
download never leaves a partial file that looks complete.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..io.fileio import atomic_open
from .catalog import RemoteFile
from .errors import ChecksumError, DatasetError
from .verify import verified_payload

_LOCAL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES)
DEFAULT_TIMEOUT = 30.0  # seconds without a byte before a mirror counts as down
CHUNK = 1 << 16
USER_AGENT = "zerograd-datasets/0.1 (+python urllib)"


class NetworkUnavailableError(DatasetError):
    """No mirror could be reached at all (no route, DNS failure, timeout): the machine looks offline."""


def mirror_url(mirror: str, name: str) -> str:
    return mirror.rstrip("/") + "/" + name


def fetch(
    remote: RemoteFile,
    mirrors: Sequence[str],
    dest_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
    max_raw: int | None = None,
) -> bytes:
    """Download ``remote`` into ``dest_dir`` from the first mirror that serves verified bytes.

    Returns the decompressed IDX payload. Raises ``NetworkUnavailableError`` when no mirror answered at all, and
    ``DatasetError`` listing every mirror and why it failed otherwise.
    """
    attempts: list[str] = []
    network_only = True  # stays True while every failure is a connection-level one
    for mirror in mirrors:
        url = mirror_url(mirror, remote.name)
        try:
            data = _download_to(
                url, dest_dir / remote.name, remote, timeout=timeout, progress=progress, max_raw=max_raw
            )
        except urllib.error.HTTPError as err:
            attempts.append(f"{url}: HTTP {err.code} {err.reason}")
            network_only = False
        except ChecksumError as err:
            attempts.append(f"{url}: {err.message}")
            network_only = False
        except _IncompleteError as err:
            attempts.append(f"{url}: {err}")
            network_only = False
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", None) or err
            attempts.append(f"{url}: {type(reason).__name__}: {reason}")
            if getattr(err, "errno", None) in _LOCAL_ERRNOS:
                network_only = False  # writing the file failed here (a full disk): not a sign of being offline
        else:
            return data
    tried = "; ".join(attempts) or "no mirrors configured"
    error_type = NetworkUnavailableError if network_only and attempts else DatasetError
    raise error_type(
        f"could not download {remote.name}: {tried}",
        hint="check the internet connection, or place the file by hand in " + str(dest_dir),
    )


class _IncompleteError(Exception):
    """The server closed the connection before sending all the bytes it announced."""


def _download_to(
    url: str, dest: Path, remote: RemoteFile, *, timeout: float, progress: bool, max_raw: int | None
) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        with contextlib.ExitStack() as stack:
            # Only now, with a server answering, is the directory made: an offline attempt leaves nothing behind.
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                # the file lands under its real name only when this block finishes: complete and verified
                out = stack.enter_context(atomic_open(dest, "wb"))
            except OSError as err:
                raise DatasetError(
                    f"cannot write into the download directory {dest.parent} ({err.strerror or err})",
                    hint="set ZEROGRAD_DATA (or --root / root=) to a writable directory",
                ) from None
            announced = response.headers.get("Content-Length")
            total = int(announced) if announced and announced.isdigit() else None
            chunks = []
            from tqdm.auto import tqdm  # lazily: only a real download needs it

            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=remote.name,
                disable=None if progress else True,
                leave=False,
            ) as bar:
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except http.client.IncompleteRead as err:
                        raise _IncompleteError(f"connection closed early ({err})") from None
                    if not chunk:
                        break
                    out.write(chunk)
                    chunks.append(chunk)
                    bar.update(len(chunk))
            data = b"".join(chunks)
            if total is not None and len(data) != total:
                raise _IncompleteError(f"transfer interrupted: got {len(data)} of {total} bytes")
            payload = verified_payload(data, remote, url, max_raw)
        return payload
