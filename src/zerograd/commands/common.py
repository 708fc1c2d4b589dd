"""What the subcommands share: the one-line error, output-path checks, the run lock (``zerograd.io.runlock``, its
refusals as one-line errors), and loading checkpoints and datasets with their problems turned into one-line errors
(the argument validators are ``zerograd.validators``).

Imports at the top stay light (the standard library): ``zerograd --help`` imports every command module, and they
import this.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..io import runlock

# one validator per kind of argument: zerograd.validators, shared with RunSpec; their OptionError is a one-line
# usage error in the CLI, as a CommandError is
from ..validators import SEED_MAX as SEED_MAX
from ..validators import fraction as fraction
from ..validators import init_scale as init_scale
from ..validators import non_negative_float as non_negative_float
from ..validators import parse_hidden as parse_hidden
from ..validators import positive_float as positive_float
from ..validators import positive_int as positive_int
from ..validators import seed as seed

LOCK_NAME = runlock.LOCK_NAME
MIN_FREE_BYTES = 1 << 20  # refuse to start a run on a disk with less than 1 MiB free: the first save would fail


def __getattr__(name: str) -> Any:
    """``net_sizes`` and ``number_of_classes`` live in ``zerograd.run`` (NumPy and the nets): imported when asked
    for, so ``zerograd --help`` stays light."""
    if name in ("net_sizes", "number_of_classes", "resolved_spec"):
        from .. import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class CommandError(Exception):
    """A user mistake or a data problem: printed as one line, no traceback.

    exit_code: 2 for a usage error (bad argument, missing file; the default), 1 for a problem found while working
    (a full disk, a damaged file met half-way).
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def check_environment() -> None:
    """The environment variables that tune zerograd (``ZEROGRAD_THREADS``, ``ZEROGRAD_MALLOC``), checked before any
    work: a bad value is a one-line error here, not a traceback from inside a layer."""
    from ..engine import memory, parallel

    try:
        parallel.threads()
        memory.wanted()
    except ValueError as err:
        raise CommandError(str(err)) from None


def check_net_fits(sizes: dict[str, Any], flags: dict[str, str], dtype: str) -> None:
    """``zerograd.engine.capacity.check_mlp`` as a ``CommandError``: an MLP of ``sizes`` (input_size, hidden, classes,
    batch_size) must fit in the memory available before its weights are drawn; flags names the options given."""
    import numpy as np

    from ..engine.capacity import CapacityError, check_mlp

    try:
        check_mlp(sizes, flags, np.dtype(dtype).itemsize)
    except CapacityError as err:
        raise CommandError(str(err)) from None


# -- output paths: checked before any work starts --------------------------------------------------------------


def check_out_dir(out: Path, files: Sequence[str], flag: str = "--out", need_bytes: int = 0) -> None:
    """Refuse now what would fail at the first save: ``out`` a file, under a file, not writable, the disk full,
    or one of ``files`` inside it a folder. Creates nothing."""
    try:
        _check_out_dir(out, files, flag, need_bytes)
    except OSError as err:  # a folder on the way we may not even look into
        raise CommandError(f"{flag} {out}: {err.strerror or err}") from None


def check_out_file(path: Path, flag: str = "--out", need_bytes: int = 0) -> None:
    """The same checks for one output file: its folder must exist and be writable, the path not be a folder."""
    try:
        _check_out_file(path, flag, need_bytes)
    except OSError as err:
        raise CommandError(f"{flag} {path}: {err.strerror or err}") from None


def _check_out_dir(out: Path, files: Sequence[str], flag: str, need_bytes: int) -> None:
    if out.exists() and not out.is_dir():
        raise CommandError(f"{flag} {out}: is a file, not a folder")
    existing = _first_existing(out, flag)
    _check_writable(existing, f"{flag} {out}", need_bytes)
    for name in files:
        target = out / name
        if target.is_dir():
            raise CommandError(f"{flag} {out}: {target} is a folder; it must be free for a file")


def _check_out_file(path: Path, flag: str, need_bytes: int) -> None:
    if path.is_dir():
        raise CommandError(f"{flag} {path}: is a folder, not a file name")
    parent = path.parent
    if _first_existing(parent, flag) != parent:
        raise CommandError(f"{flag} {path}: cannot write it, the folder {parent} does not exist")
    _check_writable(parent, f"{flag} {path}", need_bytes)


def _first_existing(path: Path, flag: str) -> Path:
    """The nearest existing ancestor of ``path`` (itself included); it must be a folder."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            if not candidate.is_dir():
                raise CommandError(f"{flag} {path}: {candidate} is a file, so nothing can be created under it")
            return candidate
    return Path(".")


def _check_writable(folder: Path, what: str, need_bytes: int) -> None:
    # NOTE: creating a file is the one test that sees everything: permissions (which root ignores), read-only
    # mounts, ACLs, quotas; os.access answers for some of these only
    try:
        fd, probe = tempfile.mkstemp(prefix=".zerograd-probe.", dir=folder)
    except OSError as err:
        raise CommandError(f"{what}: cannot write in {folder} ({err.strerror or err})") from None
    os.close(fd)
    os.unlink(probe)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < MIN_FREE_BYTES + need_bytes:
        raise CommandError(
            f"{what}: the disk holding {folder} is full ({free} bytes free, about {MIN_FREE_BYTES + need_bytes} needed)"
        )


def write_error(err: OSError, path: Path, kept: str = "") -> CommandError:
    """A failed write (``ENOSPC``, ``EROFS``, ...) as one line naming the file; ``kept`` says what survived."""
    reason = "the disk is full" if err.errno in (errno.ENOSPC, errno.EDQUOT) else (err.strerror or str(err))
    return CommandError(f"cannot write {path}: {reason}{kept}", exit_code=1)


class RunLock(runlock.RunLock):
    """``zerograd.io.runlock.RunLock`` (one run per folder; see there) with its refusals as one-line ``CommandError``s."""

    def acquire(self) -> None:
        try:
            super().acquire()
        except runlock.LockHeldError as err:
            raise CommandError(str(err)) from None
        except OSError as err:
            raise CommandError(f"cannot create the lock file {self.path} ({err.strerror or err})") from None


# -- loading -----------------------------------------------------------------------------------------------------


def load_checkpoint(path: Any) -> Any:
    """``zerograd.checkpoint.load`` with a bad or missing file turned into a one-line ``CommandError``."""
    from ..checkpoint import CheckpointError, load

    try:
        return load(path)
    except CheckpointError as err:
        raise CommandError(str(err)) from None


def one_line(err: Exception) -> str:
    """A multi-line error (a ``DatasetError`` with its ``HINT:``) joined into one line."""
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())


def check_root(root: str | None) -> None:
    """``--root`` must be a folder (or not exist yet: a download goes there)."""
    # NOTE: the loaders look in root first and then elsewhere (Debian's folder, the cache): a file given as --root
    # would be passed over without a word
    if root is not None and (Path(root).exists() or Path(root).is_symlink()) and not Path(root).is_dir():
        raise CommandError(f"--root {root}: is a file; give the folder holding the dataset's files")


def load_data(spec: str, root: str | None, dtype: str, max_classes: int | None = None) -> Any:
    """``zerograd.datasets.load_dataset`` with data problems turned into one-line ``CommandError``s.

    MNIST falls back to the bundled sample when it cannot be had, as the library does, but the line saying so
    names the CLI's ``--root`` rather than the library's ``root=``.
    """
    import numpy as np

    from ..datasets import MAX_CLASSES, DatasetError, DatasetNotFoundError, load_dataset, load_mnist_sample
    from ..datasets.locate import download_dir

    started = time.perf_counter()
    check_root(root)
    options: dict[str, Any] = {"dtype": np.dtype(dtype), "max_classes": max_classes or MAX_CLASSES}
    try:
        try:
            ds = load_dataset(spec, root=root, allow_sample_fallback=False, **options)
        except DatasetNotFoundError as err:
            if spec.lower() != "mnist":
                raise
            print(
                f"zerograd: using the bundled MNIST sample (8,000 train / 2,000 test digits), not full MNIST: "
                f"{err.reason}; to get all 70,000, go online once (cached in {download_dir('mnist', root)}) or "
                f"pass --root a folder holding the four .gz files",
                file=sys.stderr,
            )
            ds = load_mnist_sample(dtype=options["dtype"], source="bundled MNIST sample (offline fallback)")
    except DatasetError as err:
        raise CommandError(one_line(err)) from None
    print(
        f"dataset: {getattr(ds, 'name', spec)}, {len(ds.x_train)} training and {len(ds.x_test)} test samples, "
        f"from {getattr(ds, 'source', '?')} [{time.perf_counter() - started:.1f} s]"
    )
    return ds


def class_names(metadata: dict[str, Any], n_classes: int, fallback: Any = ()) -> list[str]:
    """The saved class names when there is one per output, else ``fallback``'s, else ``0 … n-1``."""
    for names in (metadata.get("classes"), fallback):
        if names and len(names) == n_classes:
            return [str(c) for c in names]
    return [str(i) for i in range(n_classes)]


@contextlib.contextmanager
def interrupts_as(message: str) -> Iterator[None]:
    """Ctrl-C inside the block becomes a one-line ``CommandError`` (exit code 130 via the CLI)."""
    try:
        yield
    except KeyboardInterrupt:
        raise CommandError(message, exit_code=130) from None
