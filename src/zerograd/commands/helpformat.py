"""One help format for every subcommand, in argparse's ``ArgumentDefaultsHelpFormatter`` style: each option's
help ends with ``(default: X)``, fixed choices are listed as ``{a,b}``; and one form for a usage mistake, the
CLI's: one line (``zerograd export: error: argument --format: invalid choice: ...``), exit code 2.

An option whose default is a real value gets ``(default: value)`` appended here; an option whose default is None
(meaning "decided later": the checkpoint's, the net's) says what that is in its own words, in the same form.
``tests/test_cli_help.py`` walks every subcommand's help and holds all of them to this.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

__all__ = ["HelpFormatter", "Parser", "UsageError"]


class UsageError(Exception):
    """argparse's complaint about the command line, for ``zerograd.cli.main`` to print as one line."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: error: {message} (see {prog} --help)")


class HelpFormatter(argparse.HelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "(default" in text or action.default in (None, argparse.SUPPRESS) or action.nargs == 0:
            return text  # says its own default, has none, or is an on/off flag
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """zerograd's parsers: ``HelpFormatter`` unless told otherwise; a mistake raises ``UsageError`` rather than
    printing the usage block and exiting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)
