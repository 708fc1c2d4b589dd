"""Every file zerograd writes goes through here: a temporary file beside the target, fsync, then a rename.

A reader — or a crash, a Ctrl-C, a full disk — therefore sees either the old file or the whole new one, never half
of one; and a failed write leaves no temporary file behind. Files get mode ``0o644`` (``mkstemp`` would make them
private): checkpoints, figures and datasets are ordinary files meant to be shared.

    with atomic_open("run/metrics.csv", "w") as f:
        f.write("epoch,loss\\n")
    write_bytes("graph.svg", svg)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["FILE_MODE", "atomic_open", "temp_files", "write_bytes", "write_text"]

FILE_MODE = 0o644
TEMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    make_dirs: bool = False,
    file_mode: int = FILE_MODE,
    **open_kwargs: Any,
) -> Iterator[IO[Any]]:
    """A file object open for writing whose contents replace ``path`` only when the ``with`` block succeeds.

    mode: ``"wb"`` or ``"w"`` (text, UTF-8 unless ``encoding=`` says otherwise). make_dirs: create missing parent
    folders first. Any exception inside the block — or while flushing, e.g. ``ENOSPC`` — removes the temporary
    file and leaves ``path`` as it was, then propagates.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    if make_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "w":
        open_kwargs.setdefault("encoding", "utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, file_mode)
        with os.fdopen(fd, mode, **open_kwargs) as f:
            fd = -1  # the file object owns the descriptor now
            yield f
            f.flush()
            # NOTE: without fsync a power cut after the rename can leave an empty file under the real name
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_bytes(path: str | os.PathLike[str], data: bytes, **kwargs: Any) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_open``); returns the path."""
    with atomic_open(path, "wb", **kwargs) as f:
        f.write(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str, **kwargs: Any) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see ``atomic_open``); returns the path."""
    with atomic_open(path, "w", **kwargs) as f:
        f.write(text)
    return Path(path)


def temp_files(folder: str | os.PathLike[str], name: str) -> list[Path]:
    """The temporary files ``atomic_open`` would leave for ``folder/name`` (none, unless a process was killed)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f".{name}.*{TEMP_SUFFIX}"))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; not every system lets a folder be opened, so failure is ignored."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
