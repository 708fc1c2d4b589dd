"""Drawing a ``Value`` graph the way chapter 5 draws its figures, with graphviz.

Left to right; each operation a circle (×, +, exp, ...); every arrow carries the value flowing forward above it
and, in red under it, the gradient flowing back along it — as in figures 5-16 and 5-17. An input is its name
(or, for an unnamed constant, its value); the output arrow ends at the output's name.

``draw(out)`` returns a ``graphviz.Digraph``: ``.source`` is the DOT text, which needs nothing installed.
``render(graph, "figure.svg")`` (or ``.png`` / ``.dot``) writes a file; SVG and PNG need graphviz's ``dot``
program. Without it, ``render`` still writes the DOT source beside the requested file and raises
``GraphvizNotFoundError`` saying how to install graphviz.

How the book's "value above, gradient below" is drawn: see ``add_arrow``.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..io.fileio import write_bytes
from .value import Value, topological_order

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "BACKWARD_COLOR",
    "GraphvizNotFoundError",
    "INSTALL_HINT",
    "add_arrow",
    "draw",
    "format_array",
    "format_number",
    "format_shape",
    "render",
    "to_png",
    "to_svg",
]

BACKWARD_COLOR = "red"  # the book prints its backward numbers in a second colour under the arrows
FONT = "Helvetica"
INSTALL_HINT = (
    "HINT: install graphviz, which provides `dot`: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), or see https://graphviz.org/download/"
)
FORMATS = ("dot", "svg", "png")


class GraphvizNotFoundError(RuntimeError):
    """graphviz's ``dot`` program is not installed (not on ``PATH``), so no SVG or PNG can be drawn."""


class GraphvizFailedError(RuntimeError):
    """``dot`` ran but could not draw the graph (it exited with an error, or before reading all of it)."""


def format_number(x: float, digits: int = 6) -> str:
    """A number as a figure shows it: ``digits`` significant digits, no float noise, no trailing zeros.

    ``3.3000000000000003 -> "3.3"``, ``110.00000000000001 -> "110"``, ``220.0 -> "220"``, ``1e-08 -> "1e-8"``,
    ``123456789 -> "1.23457e+8"``.
    """
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"  # also for -0.0
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent):+d}"
    return text


def format_array(a: np.ndarray, kind: str = "value", digits: int = 4) -> str:
    """One short label for an array: the number itself when it has one element; otherwise its shape
    (``kind="value"``) or its Euclidean norm ``‖g‖ = ...`` (``kind="grad"``)."""
    a = np.asarray(a)
    if a.size == 1:
        return format_number(float(a.reshape(())), digits=max(digits, 6))
    if kind == "grad":
        return f"‖g‖ = {format_number(float(np.linalg.norm(a)), digits)}"
    return format_shape(a.shape)


def format_shape(shape: tuple[int, ...]) -> str:
    """A shape as Python writes it: ``(3, 784)``, ``(50,)``, ``()``."""
    return repr(tuple(int(n) for n in shape))


def draw(out: Value, forward: bool = True, backward: bool = True, title: str | None = None) -> graphviz.Digraph:
    """The graph that computes ``out``, as a left-to-right ``graphviz.Digraph`` in the book's style.

    forward: write each arrow's forward value above it; backward: write each arrow's gradient under it in red
    (needs ``out.backward()`` first). Array values show as shapes and array gradients as norms. title: an
    optional caption under the figure.
    """
    import graphviz

    if not isinstance(out, Value):
        raise TypeError(f"draw needs the output Value of a graph, got {type(out).__name__}")
    order = topological_order(out)
    if backward and out.grad is None:
        raise ValueError("draw(backward=True) needs gradients: call out.backward() first, or pass backward=False")
    ids = {id(node): i for i, node in enumerate(order)}

    g = graphviz.Digraph("computational_graph")
    # ordering="in" keeps each operation's inputs in argument order, top to bottom (apple above apple_num)
    g.attr(rankdir="LR", ordering="in", nodesep="0.25", ranksep="0.15", fontname=FONT, bgcolor="white")
    if title:
        g.attr(label=title, labelloc="b", fontsize="12")
    g.attr("node", fontname=FONT)
    g.attr("edge", arrowsize="0.7")

    for node in order:
        i = ids[id(node)]
        if node.is_leaf:
            text = node.name if node.name else format_array(node.data)
            g.node(f"v{i}", label=html.escape(text), shape="plaintext", fontsize="14")
        else:
            g.node(f"v{i}", **_op_attrs(node))
    root = ids[id(out)]
    g.node("output", label=html.escape(out.name or "output"), shape="plaintext", fontsize="14")

    edge_number = 0

    def arrow(tail: str, head: str, value: np.ndarray, grad: np.ndarray | None) -> None:
        nonlocal edge_number
        if not (forward or backward):
            g.edge(tail, head)
            return
        add_arrow(
            g,
            f"e{edge_number}",
            tail,
            head,
            format_array(value) if forward else None,
            format_array(grad, kind="grad") if backward and grad is not None else None,
        )
        edge_number += 1

    for node in order:
        if node.is_leaf:
            continue
        for k, inp in enumerate(node.inputs):
            grad = node.input_grads[k] if node.input_grads is not None else None
            if backward and grad is None:
                raise ValueError(
                    "draw(backward=True): part of the graph has no gradients; call backward() on its output"
                )
            arrow(f"v{ids[id(inp)]}", f"v{ids[id(node)]}", inp.data, grad)
    arrow(f"v{root}", "output", out.data, out.grad)
    return g


def _op_attrs(node: Value) -> dict[str, str]:
    symbol = node.op
    attrs = {"label": html.escape(symbol), "tooltip": html.escape(node.name or symbol)}
    if node.name:
        attrs["comment"] = node.name
    if len(symbol) <= 2:  # ×, +, ÷, **: a round node like the book's
        attrs.update(shape="circle", width="0.5", fixedsize="true", fontsize="20")
    else:
        attrs.update(shape="ellipse", fontsize="13", margin="0.05,0.02")
    return attrs


def add_arrow(
    g: graphviz.Digraph,
    key: str,
    tail: str,
    head: str,
    above: str | None,
    below: str | None,
    min_width: int = 44,
) -> None:
    """Draw ``tail -> head`` as the book does: ``above`` over the arrow, ``below`` under it in red.

    The arrow runs through a label node ``key``: a two-row table split by a rule. The edge into the node has no
    head and meets the rule's left end; the edge out leaves from its right end. Read together they are one arrow
    whose shaft is the rule.
    """
    upper = html.escape(above) if above is not None else " "
    lower = f'<font color="{BACKWARD_COLOR}">{html.escape(below)}</font>' if below is not None else " "
    # NOTE: width/height 0 let the node shrink to its table; by default a node is at least 0.75 x 0.5 inch and
    # the table would float in it, leaving gaps in the arrow. A minimum cell width keeps "2" from being a stub.
    g.node(
        key,
        shape="plaintext",
        margin="0",
        width="0",
        height="0",
        label=(
            '<<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'
            f'<tr><td width="{min_width}" cellpadding="2">{upper}</td></tr><hr/>'
            f'<tr><td cellpadding="2">{lower}</td></tr></table>>'
        ),
    )
    g.edge(tail, f"{key}:w", arrowhead="none")
    g.edge(f"{key}:e", head)


# -- rendering ----------------------------------------------------------------------------------------------------


def to_svg(graph: graphviz.Digraph) -> str:
    """The drawing as SVG text (runs ``dot``)."""
    return _pipe(graph, "svg").decode("utf-8")


def to_png(graph: graphviz.Digraph, dpi: int = 150) -> bytes:
    """The drawing as PNG bytes at ``dpi`` dots per inch (runs ``dot``)."""
    graph = graph.copy()
    graph.attr(dpi=str(dpi))
    return _pipe(graph, "png")


def _pipe(graph: graphviz.Digraph, fmt: str) -> bytes:
    import graphviz

    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            f"graphviz's `dot` program is not on PATH, so no {fmt.upper()} can be drawn. {INSTALL_HINT}"
        ) from None
    except (graphviz.CalledProcessError, BrokenPipeError) as err:
        # NOTE: dot stops reading at its first error, so the error can reach Python as a broken pipe (EPIPE)
        stderr = getattr(err, "stderr", b"") or b""
        said = " ".join(line.strip() for line in stderr.decode("utf-8", "replace").splitlines()[:3] if line.strip())
        raise GraphvizFailedError(
            f"graphviz's `dot` could not draw this graph of {len(graph.body)} statements"
            f"{': ' + said[:240] if said else ''}; write a .dot file instead"
        ) from None


def render(graph: graphviz.Digraph, path: str | os.PathLike, fmt: str | None = None) -> Path:
    """Write ``graph`` to ``path`` as DOT, SVG or PNG (chosen by ``fmt`` or by the file's suffix); returns the path.

    The file is written atomically (a temporary file, then a rename). When ``dot`` is missing, the DOT source is
    written to ``path`` with the suffix ``.dot`` instead and ``GraphvizNotFoundError`` names that file.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "gv":
        fmt = "dot"
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the format of {str(path)!r}: use a .dot, .svg or .png file name")
    if fmt == "dot":
        _write_atomic(path, graph.source.encode("utf-8"))
        return path
    try:
        data = to_svg(graph).encode("utf-8") if fmt == "svg" else to_png(graph)
    except GraphvizNotFoundError as err:
        fallback = path.with_suffix(".dot")
        _write_atomic(fallback, graph.source.encode("utf-8"))
        raise GraphvizNotFoundError(
            f"graphviz's `dot` program is not on PATH, so {str(path)!r} could not be drawn; its DOT source is in "
            f"{str(fallback)!r} (turn it into a picture with `dot -T{fmt} {fallback} -o {path}`). {INSTALL_HINT}"
        ) from err
    _write_atomic(path, data)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    if path.parent and not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: the directory {str(path.parent)!r} does not exist")
    write_bytes(path, data)
