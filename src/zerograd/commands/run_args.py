"""A command's run argument (a run folder, a checkpoint file, or nothing for the latest run) as a checkpoint
path; the latest run is named in one line on stdout (stderr keeps to one line, an error's). ``zerograd.runs`` does
the finding."""

from __future__ import annotations

from pathlib import Path

from ..runs import RunFolderError, checkpoint_of, latest_run
from .common import CommandError

__all__ = ["LATEST", "checkpoint_path"]

LATEST = ""  # the value of a flag given without a run (train --resume, serve --checkpoint): the latest run


def checkpoint_path(run: str | None, command: str) -> Path:
    """The checkpoint ``run`` names; None or ``LATEST``: the latest run's, said on stdout."""
    try:
        if run is None or run == LATEST:
            folder = latest_run()
            print(f"zerograd {command}: using the latest run, {folder}")
            return checkpoint_of(folder)
        return checkpoint_of(run)
    except RunFolderError as err:
        raise CommandError(str(err)) from None
