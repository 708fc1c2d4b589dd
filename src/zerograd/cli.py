"""The ``zerograd`` command line: one module per subcommand in ``zerograd.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .commands.common import CommandError, check_environment
from .validators import RunError

# Each name is a module zerograd.commands.<name> with `add_parser(subparsers)` and `run(args) -> int`.
# Keep those modules' top-level imports light: `zerograd --help` imports all of them.
COMMANDS: tuple[str, ...] = ("train", "evaluate", "predict", "gradcheck", "graph", "compare", "serve", "tune",
                             "filters", "export")

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zerograd",
        description="Backpropagation from scratch: the layers, nets and gradient check of chapter 5.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"zerograd.commands.{name}").add_parser(subparsers)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module(f"zerograd.commands.{args.command}")
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
