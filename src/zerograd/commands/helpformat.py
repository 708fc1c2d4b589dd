"""One help format for every subcommand, in argparse's ``ArgumentDefaultsHelpFormatter`` style: each option's
help ends with ``(default: X)``, fixed choices are listed as ``{a,b}``.

An option whose default is a real value gets ``(default: value)`` appended here; an option whose default is None
(meaning "decided later": the checkpoint's, the net's) says what that is in its own words, in the same form.
``tests/test_cli_help.py`` walks every subcommand's help and holds all of them to this.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["HelpFormatter", "Parser"]


class HelpFormatter(argparse.HelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "(default" in text or action.default in (None, argparse.SUPPRESS) or action.nargs == 0:
            return text  # says its own default, has none, or is an on/off flag
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """A subcommand's parser: ``HelpFormatter`` unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
