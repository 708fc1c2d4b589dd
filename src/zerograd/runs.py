"""Run folders: where ``zerograd train`` writes when no ``--out`` is given, and which run "the latest" is.

Runs are numbered as Ultralytics numbers them: ``runs/train``, ``runs/train2``, ``runs/train3``, … in the current
folder. A new run's folder is made with one ``mkdir`` (atomic: of two trains started together, one gets
``train4`` and the other ``train5``), so runs never collide and a second run never needs a new flag.

Commands that read a run (``evaluate``, ``predict``, ``filters``, ``export``, ``serve --checkpoint``,
``train --resume``) take a run folder or a checkpoint file; given none, they take the latest run: the
highest-numbered folder that holds a ``checkpoint.npz``.

    >>> import tempfile
    >>> runs = Path(tempfile.mkdtemp()) / "runs"
    >>> [new_run_folder(runs).name for _ in range(3)]
    ['train', 'train2', 'train3']
    >>> (runs / "train2" / CHECKPOINT).touch()
    >>> latest_run(runs).name
    'train2'
"""

from __future__ import annotations

import os
import re
from pathlib import Path

RUNS_DIR = Path("runs")
PREFIX = "train"
CHECKPOINT = "checkpoint.npz"
MAX_TRIES = 1000  # folders taken by other processes while we look: more than this means something is wrong
_NUMBERED = re.compile(rf"{PREFIX}(\d*)")

__all__ = ["CHECKPOINT", "RUNS_DIR", "RunFolderError", "checkpoint_of", "latest_run", "new_run_folder", "run_number"]


class RunFolderError(ValueError):
    """No run where one was expected: a folder without a checkpoint, or no run at all."""


def run_number(name: str) -> int | None:
    """``train`` → 1, ``train7`` → 7; any other name → None (``train0``, ``train07`` are not ours)."""
    match = _NUMBERED.fullmatch(name)
    if match is None:
        return None
    digits = match.group(1)
    if not digits:
        return 1
    number = int(digits)
    return number if number >= 2 and str(number) == digits else None


def _folder_name(number: int) -> str:
    return PREFIX if number == 1 else f"{PREFIX}{number}"


def numbered_runs(runs_dir: Path = RUNS_DIR) -> list[tuple[int, Path]]:
    """``(number, folder)`` of every run folder in ``runs_dir``, lowest number first."""
    try:
        entries = list(os.scandir(runs_dir))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [(run_number(e.name), Path(runs_dir, e.name)) for e in entries if e.is_dir(follow_symlinks=False)]
    return sorted((n, p) for n, p in found if n is not None)


def new_run_folder(runs_dir: Path = RUNS_DIR) -> Path:
    """Create and return the next run folder: one past the highest number in ``runs_dir``.

    NOTE: the folder is created here, with ``mkdir`` (which fails if the name exists): looking for a free name and
    then creating it later would let two runs started together pick the same one.
    """
    runs_dir.mkdir(parents=True, exist_ok=True)
    existing = numbered_runs(runs_dir)
    number = existing[-1][0] + 1 if existing else 1
    for _ in range(MAX_TRIES):
        folder = runs_dir / _folder_name(number)
        try:
            folder.mkdir()
        except FileExistsError:
            number += 1  # another run took it (or a file has that name): the next one
            continue
        return folder
    raise RunFolderError(f"could not create a new run folder in {runs_dir}: {MAX_TRIES} names were taken")


def latest_run(runs_dir: Path = RUNS_DIR) -> Path:
    """The highest-numbered run folder in ``runs_dir`` that holds a checkpoint."""
    for _, folder in reversed(numbered_runs(runs_dir)):
        if (folder / CHECKPOINT).is_file():
            return folder
    where = f"{runs_dir}/" if runs_dir.is_dir() else f"{runs_dir}/ (there is no such folder here)"
    raise RunFolderError(
        f"no run with a {CHECKPOINT} in {where}; train one with zerograd train, or give a run "
        "folder or a checkpoint file"
    )


def checkpoint_of(run: str | os.PathLike[str]) -> Path:
    """The checkpoint file a run argument names: a run folder's ``checkpoint.npz``, or the file itself."""
    path = Path(run)
    if path.is_dir():
        ckpt = path / CHECKPOINT
        if not ckpt.is_file():
            raise RunFolderError(
                f"{path}: a run folder, but it holds no {CHECKPOINT} (a run that never finished "
                "an epoch?); give a run folder with a checkpoint, or a checkpoint file"
            )
        return ckpt
    if not path.exists():
        raise RunFolderError(f"{path}: no such checkpoint file or run folder")
    return path
