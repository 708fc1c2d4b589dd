"""``zerograd graph``: draw the chapter's computational graphs — the shopping examples or a net's layers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..nets import ACTIVATIONS
from ..train import TrainConfig
from . import common
from .common import CommandError

GRAPHS = ("apple", "apple-orange", "net")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "graph", help="draw a computational graph (the apple examples, or a net's layers)",
        description="Draw a computational graph as chapter 5 does: left to right, the forward values above the "
                    "arrows and the gradients under them in red. apple and apple-orange are figures 5-16 and "
                    "5-17; net is a TwoLayerNet/MultiLayerNet after one forward and backward pass on a random "
                    "batch, with array shapes and gradient norms. Without --out the DOT source goes to stdout.",
    )
    p.add_argument("graph", choices=GRAPHS, help="which graph to draw")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="write FILE.svg, FILE.png or FILE.dot (by its suffix) instead of printing DOT; SVG and "
                        "PNG need graphviz's `dot` program")
    p.add_argument("--no-backward", action="store_true",
                   help="forward values only, no gradients (the book's forward-pass figures)")
    p.add_argument("--dpi", type=int, default=150, help="resolution of a PNG, in dots per inch (default: %(default)s)")
    p.add_argument("--hidden", default="50",
                   help="net only: hidden widths, 50 for the chapter's TwoLayerNet, 100,100 for a MultiLayerNet "
                        "(default: %(default)s)")
    p.add_argument("--activation", default="relu", choices=tuple(ACTIVATIONS),
                   help="net only: hidden activation (default: %(default)s)")
    p.add_argument("--input-size", type=int, default=784,
                   help="net only: features per sample (default: %(default)s, MNIST's)")
    p.add_argument("--classes", type=int, default=10, help="net only: output classes (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size,
                   help="net only: samples in the batch (random pixels in [0, 1) and random labels) "
                        "(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0,
                   help="net only: seed of the weights and the random batch (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from ..graph import drawing

    if args.out is not None:
        suffix = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else ""
        if suffix not in drawing.FORMATS:
            raise CommandError(f"--out {args.out!r}: the file name must end in .svg, .png or .dot")
    common.positive_int(args.dpi, "--dpi")
    if args.graph == "net":
        for flag, value in (("--input-size", args.input_size), ("--classes", args.classes),
                            ("--batch-size", args.batch_size)):
            common.positive_int(value, flag)
        common.seed(args.seed)
        common.parse_hidden(args.hidden)
    if args.out is not None:
        common.check_out_file(Path(args.out))
    backward = not args.no_backward

    if args.graph == "net":
        graph, summary = _net(args, backward)
    else:
        graph, summary = _shopping(args.graph, backward)

    if args.out is None:
        sys.stdout.write(graph.source)
        return 0
    try:
        if args.out.lower().endswith(".png"):
            graph = graph.copy()
            graph.attr(dpi=str(args.dpi))
            path = drawing.render(graph, args.out, fmt="png")
        else:
            path = drawing.render(graph, args.out)
    except drawing.GraphvizNotFoundError as err:
        raise CommandError(str(err)) from None
    except OSError as err:
        raise common.write_error(err, args.out) from None
    print(f"wrote {path}: {summary}")
    return 0


def _shopping(name: str, backward: bool) -> tuple[Any, str]:
    from ..graph import draw, format_number
    from ..graph.shopping import apple_graph, apple_orange_graph

    shop = apple_graph() if name == "apple" else apple_orange_graph()
    summary = f"price {format_number(shop.price.item())}"
    if backward:
        summary += "; " + ", ".join(f"d {key} {format_number(float(leaf.grad))}"
                                    for key, leaf in shop.leaves.items())
    return draw(shop.price, backward=backward), summary


def _net(args: argparse.Namespace, backward: bool) -> tuple[Any, str]:
    import numpy as np

    from ..graph import draw_net, format_number, trace_net

    net = common.build_net(common.parse_hidden(args.hidden), args.activation, None, 0.0, "float64",
                           input_size=args.input_size, output_size=args.classes, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    x = rng.random((args.batch_size, args.input_size))
    t = rng.integers(0, args.classes, size=args.batch_size)
    trace = trace_net(net, x, t)
    return draw_net(trace, backward=backward), f"{net!r}, loss {format_number(trace.loss)}"
