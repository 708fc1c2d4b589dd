"""The one exception every data problem raises."""

from __future__ import annotations


class DatasetError(Exception):
    """A data problem: which file or dataset, what is wrong, and a ``HINT:`` line on how to fix it.

    ``str(err)`` is the message followed by ``HINT: ...`` on its own line when a hint is given; ``err.hint`` holds
    the hint alone so that callers (the CLI) can print it differently.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\nHINT: {hint}" if hint else message)


class ChecksumError(DatasetError):
    """A file's bytes are not the published ones (corrupted, truncated or a different file)."""
