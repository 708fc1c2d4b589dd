"""The one guard every command's outputs go through, before any work: no output replaces an input, and no
existing file is replaced without ``--overwrite``.

    outputs = Outputs(inputs=[ckpt_path], overwrite=args.overwrite)
    out = outputs.file(Path(args.out))          # refused now, not after a minute of work
    outputs.folder(run_dir, ["checkpoint.npz", "metrics.csv"])

"Is an input" means the same file on disk: the same path, a symbolic link to it, or a hard link to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..runs import CHECKPOINT
from . import common
from .common import CommandError

__all__ = ["RUN_FILES", "Outputs", "dataset_file"]

RUN_FILES = (CHECKPOINT, "metrics.csv", "curves.png")  # what zerograd train writes in a run folder


class Outputs:
    """The output paths of one command, checked against its ``inputs`` (files it reads; None and missing paths
    are ignored)."""

    def __init__(self, inputs: Iterable[str | os.PathLike[str] | None] = (), overwrite: bool = False) -> None:
        self.inputs = [Path(p) for p in inputs if p is not None and str(p) != ""]
        self.overwrite = overwrite

    def file(self, path: str | os.PathLike[str], flag: str = "--out", need_bytes: int = 0) -> Path:
        """One output file: not an input, not an existing file (unless ``overwrite``), its folder writable."""
        out = Path(path)
        common.check_out_file(out, flag, need_bytes)
        self._not_an_input(out, flag)
        self._not_a_runs_file(out, flag)
        self._not_existing(out, flag)
        return out

    def folder(
        self,
        out: str | os.PathLike[str],
        names: Sequence[str],
        flag: str = "--out",
        need_bytes: int = 0,
        replaces: bool = True,
    ) -> Path:
        """A folder for output files ``names``: none of them an input. ``replaces=False``: none of them an
        existing file either (unless ``overwrite``); a run folder says itself whose run it holds (True)."""
        folder = Path(out)
        common.check_out_dir(folder, names, flag, need_bytes)
        for name in names:
            self._not_an_input(folder / name, flag)
            if not replaces:
                self._not_existing(folder / name, flag)
        return folder

    def _not_a_runs_file(self, out: Path, flag: str) -> None:
        # a run's own files are the run: no other command replaces them, --overwrite or not
        folder = out.parent
        if out.name in RUN_FILES and (folder / RUN_FILES[0]).is_file() and (out.exists() or out.is_symlink()):
            raise CommandError(f"{flag} {out} belongs to the run in {folder}; choose another {flag}")

    def _not_existing(self, out: Path, flag: str) -> None:
        if not self.overwrite and (out.exists() or out.is_symlink()):
            raise CommandError(f"{out} already exists; pass --overwrite to replace it, or choose another {flag}")

    def _not_an_input(self, out: Path, flag: str) -> None:
        for source in self.inputs:
            if _same_file(out, source):
                raise CommandError(
                    f"{flag} {out} is the input {source}; writing there would replace it: choose another {flag}"
                )


def dataset_file(spec: str | None) -> str | None:
    """A ``--dataset`` value as an input file: its path when it names a file (a ``PATH.npz``), None for a
    dataset's name (``mnist``, ``fashion-mnist``, ``mnist-sample``)."""
    from ..datasets import DATASET_NAMES

    if spec is None or spec.lower().replace("_", "-") in DATASET_NAMES:
        return None
    return spec


def _same_file(a: Path, b: Path) -> bool:
    """One file on disk: the same path after links are followed, or the same inode (a hard link)."""
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False
