"""``zerograd graph``: draw the chapter's computational graphs — the shopping examples or a net's layers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..cli import CommandError

GRAPHS = ("apple", "apple-orange", "net")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "graph", help="draw a computational graph (the apple examples, or a net's layers)",
        description="Draw a computational graph as chapter 5 does: left to right, the forward values above the "
                    "arrows and the gradients under them in red. apple and apple-orange are figures 5-16 and "
                    "5-17; net is a TwoLayerNet/MultiLayerNet after one forward and backward pass on a random "
                    "batch, with array shapes and gradient norms. Without --out the DOT source goes to stdout.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("graph", choices=GRAPHS, help="which graph to draw")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="write FILE.svg, FILE.png or FILE.dot (by its suffix) instead of printing DOT; SVG and "
                        "PNG need graphviz's `dot` program")
    p.add_argument("--no-backward", action="store_true",
                   help="forward values only, no gradients (the book's forward-pass figures)")
    p.add_argument("--dpi", type=int, default=150, help="resolution of a PNG, in dots per inch")
    p.add_argument("--hidden", default="50",
                   help="net only: hidden widths, 50 for the chapter's TwoLayerNet, 100,100 for a MultiLayerNet")
    p.add_argument("--activation", default="relu", choices=["relu", "sigmoid"], help="net only: hidden activation")
    p.add_argument("--input-size", type=int, default=784, help="net only: features per sample (784 for MNIST)")
    p.add_argument("--classes", type=int, default=10, help="net only: output classes")
    p.add_argument("--batch-size", type=int, default=100,
                   help="net only: samples in the batch (random pixels in [0, 1) and random labels)")
    p.add_argument("--seed", type=int, default=0, help="net only: seed of the weights and the random batch")


def run(args: argparse.Namespace) -> int:
    from ..graph import drawing

    if args.out is not None:
        suffix = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else ""
        if suffix not in drawing.FORMATS:
            raise CommandError(f"--out {args.out!r}: the file name must end in .svg, .png or .dot")
    if args.dpi < 1:
        raise CommandError(f"--dpi must be a positive integer, got {args.dpi}")
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
    except (FileNotFoundError, PermissionError, IsADirectoryError) as err:
        raise CommandError(f"cannot write {args.out!r}: {err.strerror}" if err.strerror else str(err)) from None
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
    from ..nets import MultiLayerNet, TwoLayerNet

    try:
        hidden = [int(part) for part in args.hidden.split(",")]
    except ValueError:
        raise CommandError(f"--hidden must be widths separated by commas, like 50 or 100,100; got {args.hidden!r}")\
            from None
    for flag, value in (("--input-size", args.input_size), ("--classes", args.classes),
                        ("--batch-size", args.batch_size), *(("--hidden", h) for h in hidden)):
        if value < 1:
            raise CommandError(f"{flag} must be positive, got {value}")
    rng = np.random.default_rng(args.seed)
    if len(hidden) == 1 and args.activation == "relu":
        net: MultiLayerNet = TwoLayerNet(args.input_size, hidden[0], args.classes, rng=rng)
    else:
        net = MultiLayerNet(args.input_size, hidden, args.classes, activation=args.activation,
                            weight_init_std=args.activation, rng=rng)
    x = rng.random((args.batch_size, args.input_size))
    t = rng.integers(0, args.classes, size=args.batch_size)
    trace = trace_net(net, x, t)
    return draw_net(trace, backward=backward), f"{net!r}, loss {format_number(trace.loss)}"
