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
from .outputs import Outputs

GRAPHS = ("apple", "apple-orange", "expr", "net")
HTML_NET_STEPS = 5  # SGD steps an exported net page holds, precomputed for each digit (it has no server to ask)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "graph",
        help="draw a computational graph (the apple examples, or a net's layers)",
        description="Draw a computational graph as chapter 5 does: left to right, the forward values above the "
        "arrows and the gradients under them in red. apple and apple-orange are figures 5-16 and "
        "5-17; expr is a formula of your own (--expr); net is a TwoLayerNet/MultiLayerNet after one "
        "forward and backward pass on a random batch, with array shapes and gradient norms. Without "
        "--out the DOT source goes to stdout. --html writes a page you step through in a browser "
        "instead (one file, no server, no network, no graphviz).",
    )
    p.add_argument("graph", choices=GRAPHS, help="which graph to draw")
    p.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="write FILE.svg, FILE.png or FILE.dot (by its suffix) instead of printing DOT; SVG and "
        "PNG need graphviz's `dot` program (default: none, DOT to stdout)",
    )
    p.add_argument(
        "--html",
        metavar="FILE",
        default=None,
        help="write a self-contained step-through HTML page instead: edit the inputs, step forward and "
        "backward node by node (net: TwoLayerNet(784, 50, 10) on real digits of the bundled "
        f"sample, with {HTML_NET_STEPS} SGD steps precomputed) (default: none)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out or --html file")
    p.add_argument(
        "--expr",
        default=None,
        metavar="FORMULA",
        help="expr only: the formula, e.g. 'x*y + x' or '1 / (1 + exp(-x))' (+ - * / **, exp, log, "
        "relu, sigmoid) (default: 'x*y + x')",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="values",
        help="expr: a variable's value; apple graphs: an input, e.g. --set apple=150 (default: 1 for "
        "each expr variable, the book's prices for the apple graphs)",
    )
    p.add_argument(
        "--no-backward", action="store_true", help="forward values only, no gradients (the book's forward-pass figures)"
    )
    p.add_argument("--dpi", type=int, default=150, help="resolution of a PNG, in dots per inch (default: %(default)s)")
    p.add_argument(
        "--hidden",
        default="50",
        help="net only: hidden widths, 50 for the chapter's TwoLayerNet, 100,100 for a MultiLayerNet "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--activation",
        default="relu",
        choices=tuple(ACTIVATIONS),
        help="net only: hidden activation (default: %(default)s)",
    )
    p.add_argument(
        "--input-size", type=int, default=784, help="net only: features per sample (default: %(default)s, MNIST's)"
    )
    p.add_argument("--classes", type=int, default=10, help="net only: output classes (default: %(default)s)")
    p.add_argument(
        "--batch-size",
        type=int,
        default=TrainConfig.batch_size,
        help="net only: samples in the batch (random pixels in [0, 1) and random labels) (default: %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="net only: seed of the weights and the random batch (default: %(default)s)"
    )
    p.add_argument(
        "--steps",
        type=int,
        default=HTML_NET_STEPS,
        help="net --html only: SGD steps the page holds for each digit, 0 to 50 (default: %(default)s)",
    )
    p.add_argument(
        "--checkpoint",
        metavar="CKPT",
        default=None,
        help="net --html only: the page shows this checkpoint's net (any MLP, BatchNorm, Dropout, conv "
        "net taking 28×28 images) instead of a fresh TwoLayerNet (default: none, the chapter's "
        "TwoLayerNet)",
    )


def run(args: argparse.Namespace) -> int:
    from ..graph import drawing

    if args.expr is not None and args.graph != "expr":
        raise CommandError(f"--expr is for the expr graph, not {args.graph}")
    values = _values(args.values)
    if values and args.graph == "net":
        raise CommandError("--set is for the apple and expr graphs; the net takes --hidden, --seed, ...")
    common.positive_int(args.dpi, "--dpi")
    if args.graph == "net":
        for flag, value in (
            ("--input-size", args.input_size),
            ("--classes", args.classes),
            ("--batch-size", args.batch_size),
        ):
            common.positive_int(value, flag)
        common.seed(args.seed)
        common.check_net_fits(
            dict(
                input_size=args.input_size,
                hidden=common.parse_hidden(args.hidden),
                classes=args.classes,
                batch_size=args.batch_size,
            ),
            dict(input_size="--input-size", hidden="--hidden", classes="--classes", batch_size="--batch-size"),
            "float64",
        )
    if args.graph != "net" or args.html is None:
        for flag, given in (("--steps", args.steps != HTML_NET_STEPS), ("--checkpoint", args.checkpoint is not None)):
            if given:
                raise CommandError(f"{flag} is for the net's page: zerograd graph net --html FILE {flag} ...")
    if args.html is not None:
        if args.out is not None:
            raise CommandError("give --out (a drawing) or --html (a page), not both")
        Outputs(overwrite=args.overwrite).file(Path(args.html), "--html")
        return _html(args, values)
    if args.out is not None:
        suffix = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else ""
        if suffix not in drawing.FORMATS:
            raise CommandError(f"--out {args.out!r}: the file name must end in .svg, .png or .dot")
        Outputs(overwrite=args.overwrite).file(Path(args.out))
    backward = not args.no_backward

    if args.graph == "net":
        graph, summary = _net(args, backward)
    elif args.graph == "expr":
        graph, summary = _expression(args.expr, values, backward)
    else:
        graph, summary = _shopping(args.graph, backward, values)

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
    except drawing.GraphvizFailedError as err:
        raise CommandError(str(err), exit_code=1) from None
    except OSError as err:
        raise common.write_error(err, args.out) from None
    print(f"wrote {path}: {summary}")
    return 0


def _values(items: list[str]) -> dict[str, float]:
    import math

    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not sep or not name.strip() or not math.isfinite(number):
            raise CommandError(f"--set {item!r}: write NAME=NUMBER, e.g. --set apple=150")
        values[name.strip()] = number
    return values


def _net_source(checkpoint: str | None) -> Any:
    """The net page's net: the checkpoint's (one line and exit 2 for a bad file), else the chapter's TwoLayerNet."""
    from ..serve.netdata import TWOLAYER, checkpoint_source

    if checkpoint is None:
        return TWOLAYER
    from ..checkpoint import CheckpointError, load

    try:
        return checkpoint_source(load(checkpoint).net, checkpoint)
    except CheckpointError as err:
        raise CommandError(str(err)) from None


def _html(args: argparse.Namespace, values: dict[str, float]) -> int:
    from ..io.fileio import write_bytes

    try:
        from ..serve.graphs import GraphInputError, expression_data, graph_data, graph_html
        from ..serve.netdata import MAX_STEPS, NetInputError, net_html, net_page_data

        if not 0 <= args.steps <= MAX_STEPS:
            raise CommandError(f"--steps must be from 0 to {MAX_STEPS}, got {args.steps}")

        if args.graph == "net":
            text = net_html(net_page_data(precompute_steps=args.steps, source=_net_source(args.checkpoint)))
        elif args.graph == "expr":
            text = graph_html(expression_data(args.expr or "x*y + x", values))
        else:
            text = graph_html(graph_data(args.graph, values))
    except (GraphInputError, NetInputError) as err:
        raise CommandError(str(err)) from None
    try:
        write_bytes(Path(args.html), text.encode("utf-8"))
    except OSError as err:
        raise common.write_error(err, args.html) from None
    print(f"wrote {args.html} ({len(text.encode('utf-8')) // 1024} KB): open it in a browser, no server needed")
    return 0


def _expression(text: str | None, values: dict[str, float], backward: bool) -> tuple[Any, str]:
    from ..graph import draw, format_number
    from ..graph.expression import ExpressionError, expression_variables, parse_expression

    text = text or "x*y + x"
    try:
        names = expression_variables(text)
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ExpressionError(f"--set {unknown[0]}: the formula has no variable {unknown[0]!r}")
        out = parse_expression(text, {name: values.get(name, 1.0) for name in names})
    except ExpressionError as err:
        raise CommandError(str(err)) from None
    if backward:
        out.backward()
    summary = f"f = {format_number(out.item())}"
    if backward:
        leaves = {}
        stack = [out]
        while stack:
            node = stack.pop()
            if node.is_leaf and node.name:
                leaves[node.name] = node
            stack.extend(node.inputs)
        summary += "; " + ", ".join(f"d {name} {format_number(_grad(leaves[name]))}" for name in names)
    return draw(out, backward=backward), summary


def _grad(leaf: Any) -> float:
    """A leaf's gradient after backward (NaN if it got none: not on the output's path)."""
    return float("nan") if leaf.grad is None else float(leaf.grad)


def _shopping(name: str, backward: bool, values: dict[str, float] | None = None) -> tuple[Any, str]:
    from ..graph import draw, format_number
    from ..graph.shopping import apple_graph, apple_orange_graph

    builder: Any = apple_graph if name == "apple" else apple_orange_graph
    try:
        shop = builder(**(values or {}))
    except TypeError:
        raise CommandError(
            f"--set: the {name} graph's inputs are apple, apple_num, "
            f"{'orange, orange_num, ' if name != 'apple' else ''}tax"
        ) from None
    summary = f"price {format_number(shop.price.item())}"
    if backward:
        summary += "; " + ", ".join(f"d {key} {format_number(_grad(leaf))}" for key, leaf in shop.leaves.items())
    return draw(shop.price, backward=backward), summary


def _net(args: argparse.Namespace, backward: bool) -> tuple[Any, str]:
    import numpy as np

    from ..graph import draw_net, format_number, trace_net
    from ..run import RunSpec

    spec = RunSpec(hidden=args.hidden, activation=args.activation, dtype="float64", seed=args.seed)
    net = spec.build_net(args.input_size, args.classes)
    rng = np.random.default_rng(args.seed)
    x = rng.random((args.batch_size, args.input_size))
    t = rng.integers(0, args.classes, size=args.batch_size)
    trace = trace_net(net, x, t)
    return draw_net(trace, backward=backward), f"{net!r}, loss {format_number(trace.loss)}"
