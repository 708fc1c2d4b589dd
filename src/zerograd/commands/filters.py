"""``zerograd filters [RUN [RUN2]]``: the first convolution layer's filters (figure 7-24)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import CommandError, load_checkpoint
from .outputs import Outputs
from .run_args import checkpoint_path


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "filters",
        help="draw the first convolution layer's filters (figure 7-24)",
        description="Draw the filters of a convolutional net's first layer as grey tiles. Given two checkpoints "
        "(say, after epoch 1 and after the last), draw them side by side: before and after.",
    )
    p.add_argument(
        "checkpoints",
        metavar="RUN",
        nargs="*",
        help="one or two run folders or checkpoints of a convolutional net (default: the latest run)",
    )
    p.add_argument("--out", default=None, help="PNG file to write (default: filters.png in the (last) run's folder)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--columns", type=int, default=None, help="tiles per row (default: 6 for up to 36 filters)")


def first_filters(path: str | Path) -> Any:
    """``(FN, C, FH, FW)`` filters of the first convolution in checkpoint ``path``, and the checkpoint's epoch."""
    ckpt = load_checkpoint(path)
    weights = [w for key, w in ckpt.net.params.items() if key.startswith("W") and w.ndim == 4]
    if not weights:
        raise CommandError(
            f"{path}: {type(ckpt.net).__name__} has no convolution layer, so no filters to draw "
            "(train one with zerograd train --net convnet)"
        )
    return weights[0], ckpt.epoch


def run(args: argparse.Namespace) -> int:
    if len(args.checkpoints) > 2:
        raise CommandError(f"give one or two checkpoints (before and after), got {len(args.checkpoints)}")
    if args.columns is not None and args.columns < 1:
        raise CommandError(f"--columns must be a positive integer, got {args.columns}")
    paths = [checkpoint_path(run, "filters") for run in args.checkpoints or [None]]
    out = Outputs(inputs=paths, overwrite=args.overwrite).file(Path(args.out or paths[-1].parent / "filters.png"))
    loaded = [first_filters(path) for path in paths]
    count = loaded[0][0].shape[0]
    if args.columns is not None and args.columns > count:  # a wider row is empty tiles: a figure of any width
        raise CommandError(f"--columns {args.columns} is more than the {count} filters to draw; give at most {count}")
    if len(loaded) == 2 and loaded[0][0].shape != loaded[1][0].shape:
        raise CommandError(
            f"the two checkpoints' filters differ in shape: {loaded[0][0].shape} and {loaded[1][0].shape}"
        )

    from ..filterplot import plot_filters
    from ..plot import save_figure

    titles = tuple(f"epoch {epoch}" for _, epoch in loaded) + ("",)
    fig = plot_filters(
        loaded[0][0], loaded[1][0] if len(loaded) == 2 else None, titles=(titles[0], titles[1]), columns=args.columns
    )
    path = save_figure(fig, out)
    shape = loaded[0][0].shape
    print(
        f"wrote {path}: {shape[0]} filters of {shape[2]}x{shape[3]} ({shape[1]} channel(s))"
        + (" before and after" if len(loaded) == 2 else "")
    )
    return 0
