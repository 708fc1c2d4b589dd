"""The ``zerograd`` command line: one module per subcommand in ``zerograd.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from .commands.common import CommandError, check_environment
from .commands.helpformat import HelpFormatter, Parser, UsageError
from .validators import RunError

# Each name is a module zerograd.commands.<name> with `add_parser(subparsers)` and `run(args) -> int`.
# Keep those modules' top-level imports light: `zerograd --help` imports all of them.
COMMANDS: tuple[str, ...] = (
    "train",
    "evaluate",
    "predict",
    "sample-image",
    "gradcheck",
    "graph",
    "compare",
    "serve",
    "tune",
    "filters",
    "export",
)

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="zerograd",
        formatter_class=HelpFormatter,
        description="Deep learning from scratch, chapters 5-8: backpropagation through computational graphs and "
        "layers (5), optimizers, initialisation, batch norm and regularisation (6), convolutional nets "
        "(7) and a deeper one (8); train, evaluate, predict, check gradients, draw graphs, search "
        "hyperparameters, export.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    # every subcommand's parser is a Parser: one help format for all (zerograd.commands.helpformat)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        _module(name).add_parser(subparsers)
    return parser


def _module(command: str) -> Any:
    """``zerograd.commands.<command>``, a dash in the command's name an underscore in the module's."""
    return importlib.import_module(f"zerograd.commands.{command.replace('-', '_')}")


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as err:  # one line, as every other mistake
        print(err, file=sys.stderr)
        return 2
    if args.command is None:
        parser.print_help()
        return 0
    module = _module(args.command)
    try:
        check_environment()
        return module.run(args)
    except CommandError as err:
        print(f"zerograd {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except RunError as err:  # a bad option or run, found below the commands: a usage error too
        print(f"zerograd {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # a command with something to save handles Ctrl-C itself; anywhere else (loading data, drawing) it is this
        print(f"\nzerograd {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
