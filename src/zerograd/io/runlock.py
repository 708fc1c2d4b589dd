"""One run per folder at a time: ``folder/.zerograd.lock``, held with the kernel's file lock (``flock``).

    with RunLock(Path("runs/train")):
        ...  # a second RunLock on the same folder, in any process, raises LockHeldError until this block ends

Why a kernel lock rather than a pid file alone: the kernel drops an ``flock`` the moment its process dies, however
it dies (Ctrl-C, SIGKILL, a crash), so no lock is ever stale and none needs judging. Judging one is where two holders
came from: a lock file created but not yet holding its pid read as stale, and a stale lock unlinked after the check
could by then be another process's fresh one (8 processes released together: 2 holders in 11 of 40 trials).

The file also holds the holder's pid, for people and for the error message; nothing is decided from it. Where there
is no ``fcntl`` (Windows), the file is created with its pid in one step (written to a temporary file, then
``link()``-ed into place, which fails if the name exists), and a lock left by a crashed run is reported, not taken.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "LockHeldError", "RunLock"]

LOCK_NAME = ".zerograd.lock"
_ATTEMPTS = 100  # each failed attempt means another process released the lock between our open and our flock


class LockHeldError(RuntimeError):
    """Another process holds the folder's lock (``pid``: its process id, when the lock file says)."""

    def __init__(self, path: Path, pid: int | None, message: str | None = None) -> None:
        self.path, self.pid = path, pid
        owner = f"pid {pid}, " if pid is not None else ""
        super().__init__(
            message
            or f"{path.parent} is in use by another zerograd run ({owner}lock file {path}); "
            "wait for it or choose another --out"
        )


class RunLock:
    """``folder/.zerograd.lock``: ``acquire`` (or ``with``) takes it or raises ``LockHeldError``; ``release`` gives it
    back and removes the file. ``OSError`` when the folder cannot be created or the file opened."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            self._acquire_by_link()
            self.held = True
            return
        for _ in range(_ATTEMPTS):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # EWOULDBLOCK: held
                pid = _read_pid(fd)
                os.close(fd)
                raise LockHeldError(self.path, pid) from None
            # NOTE: a holder removes the file on release while still holding its lock; if that happened between our
            # open and our flock, we hold the lock of a file no longer in the folder, which guards nothing: only the
            # file the path names now counts
            if _same_file(fd, self.path):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd, self.held = fd, True
                return
            os.close(fd)
        raise LockHeldError(self.path, None, f"could not take the lock file {self.path}: other runs keep taking it")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._fd is None:  # the link() lock: ours while it holds our pid
            if _read_pid_at(self.path) == os.getpid():
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            return
        # NOTE: unlinked while still locked, so no other process can have locked this file meanwhile
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def _acquire_by_link(self) -> None:
        temp = self.path.with_name(f"{LOCK_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
            os.close(fd)
            try:
                os.link(temp, self.path)  # fails if the name exists: creation and content in one step
            except FileExistsError:
                pid = _read_pid_at(self.path)
                raise LockHeldError(
                    self.path,
                    pid,
                    f"{self.path.parent} is locked by {self.path} (pid {pid}); if no "
                    "zerograd run is using that folder, delete the file",
                ) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def owner(folder: str | os.PathLike[str]) -> int | None:
    """The pid written in ``folder``'s lock file, if any: for messages only (the lock may be free)."""
    return _read_pid_at(Path(folder) / LOCK_NAME)


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and len(text) < 20 else None


def _read_pid_at(path: Path) -> int | None:
    try:
        text = path.read_bytes()[:32].decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and len(text) < 20 else None
