"""The step-through graph pages: the chapter's shopping graphs, a formula of your own, any scalar ``Value`` graph.

    from zerograd.graph import Value
    from zerograd.serve import export_graph_html

    x, y = Value(3.0, name="x"), Value(2.0, name="y")
    export_graph_html((x * y + x).named("f"), "f.html")      # one file: open it, step through backprop

``graph_data(name, values)`` is the JSON behind ``/graph/<name>`` and ``/api/graph/<name>``; ``graph_html`` the
page. Inputs arrive by name and are checked here (finite numbers, known names), so the web API and the command
line give the same one-line errors.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..graph.expression import ExpressionError, expression_variables, parse_expression
from ..graph.shopping import ShoppingGraph, apple_graph, apple_orange_graph
from ..graph.value import Value
from .graphdata import GraphDataError, value_graph_data
from .pages import page

__all__ = [
    "DEFAULT_EXPRESSION",
    "DEFAULT_EXPRESSION_VALUES",
    "SHOPPING",
    "GraphInputError",
    "export_graph_html",
    "expression_data",
    "graph_data",
    "graph_html",
]

# name → (builder, its inputs with the book's values, title)
SHOPPING: dict[str, tuple[Callable[..., ShoppingGraph], dict[str, float], str]] = {
    "apple": (
        apple_graph,
        {"apple": 100.0, "apple_num": 2.0, "tax": 1.1},
        "The apple graph (figure 5-16): price = apple × apple_num × tax",
    ),
    "apple-orange": (
        apple_orange_graph,
        {"apple": 100.0, "apple_num": 2.0, "orange": 150.0, "orange_num": 3.0, "tax": 1.1},
        "The apple and orange graph (figure 5-17)",
    ),
}
# x feeds two nodes, so its gradient is the sum of two contributions: the lesson of a node used twice
DEFAULT_EXPRESSION = "x*y + x"
DEFAULT_EXPRESSION_VALUES = {"x": 2.0, "y": 3.0}


class GraphInputError(ValueError):
    """An input of a graph page is unknown or not a finite number; the message is one line."""


def graph_data(name: str, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON of the shopping graph ``name`` (``"apple"``, ``"apple-orange"``) with some inputs changed."""
    if name not in SHOPPING:
        raise GraphInputError(f"no graph {name!r}; the graphs are {', '.join(SHOPPING)}, expr and net")
    builder, defaults, title = SHOPPING[name]
    inputs = {**defaults, **_check_values(values or {}, known=defaults)}
    shop = builder(**inputs, backward=False)
    return {**value_graph_data(shop.price, title=title), "graph": name}


def expression_data(text: str = DEFAULT_EXPRESSION, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON of the formula ``text``; variables without a value start at 1 (``x`` and ``y`` of the default
    formula at 2 and 3)."""
    try:
        names = expression_variables(text)
        given = _check_values(values or {}, known=None)
        defaults = DEFAULT_EXPRESSION_VALUES if text == DEFAULT_EXPRESSION else {}
        inputs = {name: given.get(name, defaults.get(name, 1.0)) for name in names}
        out = parse_expression(text, inputs)
        data = value_graph_data(out, title=f"f = {text.strip()}")
    except (ExpressionError, GraphDataError) as err:
        raise GraphInputError(str(err)) from None
    return {**data, "graph": "expr", "expression": text.strip()}


def graph_html(data: Mapping[str, Any], served: bool = False) -> str:
    """The step-through page of ``data`` (from ``graph_data``, ``expression_data`` or ``value_graph_data``)."""
    return page(
        data.get("title") or "Computational graph",
        "graph.html",
        ("lesson.js", "graph.js"),
        dict(data),
        served=served,
        here=f"/graph/{data.get('graph', '')}",
    )


def export_graph_html(out: Value, path: str | os.PathLike[str], title: str = "") -> Path:
    """Write the step-through page of the scalar graph that computes ``out`` to ``path`` (one file, no network
    needed to open it). Named inputs get an input box. Returns the path."""
    from ..graph.drawing import _write_atomic  # the graph floor's atomic writer (temporary file, then rename)

    path = Path(path)
    text = graph_html(value_graph_data(out, title=title or f"{out.name or 'output'}: a computational graph"))
    _write_atomic(path, text.encode("utf-8"))
    return path


def _check_values(values: Mapping[str, Any], known: Mapping[str, float] | None) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise GraphInputError(f"the inputs must be an object of name: number, got {type(values).__name__}")
    checked: dict[str, float] = {}
    for name, value in values.items():
        if known is not None and name not in known:
            raise GraphInputError(f"unknown input {str(name)[:40]!r}; this graph's inputs are {', '.join(known)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GraphInputError(f"input {str(name)[:40]!r} must be a number, got {type(value).__name__}")
        if not math.isfinite(value) or abs(value) > 1e12:
            raise GraphInputError(f"input {str(name)[:40]!r} must be a finite number of at most 1e12, got {value!r}")
        checked[str(name)] = float(value)
    return checked
