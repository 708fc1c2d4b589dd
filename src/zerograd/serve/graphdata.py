"""A scalar ``Value`` graph as JSON for the step-through page: nodes with places, edges, values, gradients, and the
backward pass as steps, each with the local derivative it uses.

The page (``static/graph.js``) redraws this as SVG and, when an input is edited, recomputes the values and
gradients itself from each node's ``kind`` (the same arithmetic, in the browser's float64) — so an exported page
needs no server. The numbers in the JSON are zerograd's own, computed here; the tests check that the page's
recomputation agrees with them.

    {"title": ..., "output": "n4",
     "nodes": [{"id": "n0", "name": "apple", "label": "apple", "kind": "leaf", "editable": true,
                "column": 0, "row": 0.0, "value": 100.0, "grad": 2.2}, ...,
               {"id": "n2", "name": "apple_price", "label": "×", "kind": "mul", "column": 1, "row": 0.5, ...}],
     "edges": [{"id": "e0", "source": "n0", "target": "n2", "arg": 0, "value": 100.0, "grad": 2.2,
                "local": "∂(x·y)/∂x = y", "local_value": 2.0}, ...],
     "forward": ["n2", "n4"],            # operations in topological order
     "backward": ["n4", "n2"]}           # the same, reversed: the order gradients are passed back

A node built with a backward of your own (``Value(x.data * y.data, op="×", inputs=(x, y), backward=mine)``)
whose local derivative disagrees with central differences of its forward gets ``"wrong": [{"arg": 0,
"explanation": ..., "evidence": ...}]`` (``zerograd.diagnose``): the page marks it and says what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..diagnose import diagnose_local
from ..graph.layout import layout
from ..graph.value import Value

__all__ = ["KINDS", "LOCAL_DERIVATIVES", "GraphDataError", "local_formula", "op_kind", "value_graph_data"]

# Value.op → the kind the page computes with; "**p" (a constant exponent) is handled by op_kind.
KINDS = {
    "+": "add",
    "-": "sub",
    "neg": "neg",
    "×": "mul",
    "÷": "div",
    "**": "pow",
    "exp": "exp",
    "log": "log",
    "sum": "sum",
    "relu": "relu",
    "sigmoid": "sigmoid",
}

# The local derivative of each kind with respect to each argument, as the book writes them: {x} and {y} are the
# arguments (their names in a graph, in parentheses when compound; {X} without), as in
# "∂(apple_price·tax)/∂tax = apple_price"; {p} is a constant exponent and {q} = p − 1.
LOCAL_DERIVATIVES: dict[str, tuple[str, ...]] = {
    "add": ("∂({x} + {y})/∂{x} = 1", "∂({x} + {y})/∂{y} = 1"),
    "sub": ("∂({x} − {y})/∂{x} = 1", "∂({x} − {y})/∂{y} = −1"),
    "neg": ("∂(−{x})/∂{x} = −1",),
    "mul": ("∂({x}·{y})/∂{x} = {y}", "∂({x}·{y})/∂{y} = {x}"),
    "div": ("∂({x}/{y})/∂{x} = 1/{y}", "∂({x}/{y})/∂{y} = −{x}/{y}²"),
    "powc": ("∂({x}^{p})/∂{x} = {p}·{x}^{q}",),
    "pow": ("∂({x}^{y})/∂{x} = {y}·{x}^({y} − 1)", "∂({x}^{y})/∂{y} = {x}^{y}·log {x}"),
    "exp": ("∂exp({X})/∂{x} = exp({X})",),
    "log": ("∂log({X})/∂{x} = 1/{x}",),
    "sum": ("∂sum({X})/∂{x} = 1",),
    "relu": ("∂relu({X})/∂{x} = 1 if {X} > 0 else 0",),
    "sigmoid": ("∂σ({X})/∂{x} = σ({X})·(1 − σ({X}))",),
}
# How an unnamed operation node is called in the page's text: the expression it computes.
EXPRESSIONS = {
    "add": "{x} + {y}",
    "sub": "{x} − {y}",
    "neg": "−{x}",
    "mul": "{x}·{y}",
    "div": "{x}/{y}",
    "powc": "{x}^{p}",
    "pow": "{x}^{y}",
    "exp": "exp({X})",
    "log": "log({X})",
    "sum": "sum({X})",
    "relu": "relu({X})",
    "sigmoid": "σ({X})",
}
# The forward computation of each kind, to difference a node's own backward against.
FORWARD: dict[str, Callable[[list[float], Any], float]] = {
    "add": lambda x, p: x[0] + x[1],
    "sub": lambda x, p: x[0] - x[1],
    "neg": lambda x, p: -x[0],
    "mul": lambda x, p: x[0] * x[1],
    "div": lambda x, p: x[0] / x[1],
    "powc": lambda x, p: x[0] ** p,
    "pow": lambda x, p: x[0] ** x[1],
    "exp": lambda x, p: math.exp(x[0]),
    "log": lambda x, p: math.log(x[0]),
    "sum": lambda x, p: x[0],
    "relu": lambda x, p: max(x[0], 0.0),
    "sigmoid": lambda x, p: 1.0 / (1.0 + math.exp(-x[0])),
}
MAX_DISPLAY = 32  # characters of a node's expression before it is called "node 7" instead

MAX_NODES = 200  # a figure to step through, not a net: larger graphs belong to the layer view


class GraphDataError(ValueError):
    """The graph cannot be shown on the step-through page (arrays, an unsupported operation, too large)."""


def op_kind(node: Value) -> tuple[str, float | None]:
    """``(kind, exponent)`` of an operation node: ``("mul", None)``, ``("powc", 2.0)`` for ``x ** 2``."""
    if node.op in KINDS:
        return KINDS[node.op], None
    if node.op.startswith("**"):
        return "powc", float(node.op[2:])
    raise GraphDataError(
        f"the step-through page cannot show the operation {node.op!r} (scalar +, −, ×, ÷, **, "
        f"exp, log, relu, sigmoid only)"
    )


def value_graph_data(out: Value, title: str = "", editable: bool = True) -> dict[str, Any]:
    """The JSON of the graph that computes ``out`` (a one-element ``Value``), back-propagated from 1.

    Runs ``out.backward()`` (so every gradient is zerograd's). editable: named leaves get an input box.
    """
    if not isinstance(out, Value):
        raise TypeError(f"value_graph_data needs the output Value of a graph, got {type(out).__name__}")
    nodes, placed = layout(out)
    places = placed.places
    if len(nodes) > MAX_NODES:
        raise GraphDataError(f"the graph has {len(nodes)} nodes; the step-through page shows at most {MAX_NODES}")
    for node in nodes:
        if node.data.size != 1:
            raise GraphDataError(
                f"the step-through page shows scalar graphs; node {node.name or node.op or 'input'} has shape "
                f"{node.shape!r} (draw array graphs with zerograd.graph.draw)"
            )
    names = [node.name for node in nodes if node.name]
    if len(names) != len(set(names)):
        raise GraphDataError(f"two nodes share a name in {names}: give each named node its own name")
    with np.errstate(all="ignore"):
        out.backward()
    index = {id(node): i for i, node in enumerate(nodes)}
    ids = {id(node): f"n{i}" for i, node in enumerate(nodes)}
    display: dict[int, str] = {}
    for i, node in enumerate(nodes):
        display[id(node)] = _display(node, i, display)

    node_rows: list[dict[str, Any]] = []
    for i, node in enumerate(nodes):
        row: dict[str, Any] = {
            "id": ids[id(node)],
            "name": node.name,
            "display": display[id(node)],
            "column": places[i].column,
            "row": places[i].row,
            "value": _number(node.data),
            "grad": _number(node.grad),
        }
        if node.is_leaf:
            row.update(kind="leaf", label=node.name or _short(node.data), editable=bool(editable and node.name))
        else:
            kind, exponent = op_kind(node)
            row.update(kind=kind, label=node.op, editable=False)
            if exponent is not None:
                row["p"] = exponent
        node_rows.append(row)

    edges: list[dict[str, Any]] = []
    for node in nodes:
        if node.is_leaf:
            continue
        kind, exponent = op_kind(node)
        # the local derivatives: what the node's backward sends for an arriving gradient of 1
        backward, sent = node._backward, node.input_grads
        if backward is None or sent is None:
            raise ValueError("graph data: call backward() on the graph's output first")
        with np.errstate(all="ignore"):
            local = backward(np.ones_like(node.data))
        names = [display[id(inp)] for inp in node.inputs]
        wrong = _wrong_locals(node, kind, exponent, names, local, display)
        if wrong:
            node_rows[index[id(node)]]["wrong"] = wrong
        for k, inp in enumerate(node.inputs):
            formula = local_formula(kind, names, k, exponent)
            waypoints = placed.waypoints.get((index[id(inp)], index[id(node)], k), [])
            edges.append(
                {
                    "id": f"e{len(edges)}",
                    "source": ids[id(inp)],
                    "target": ids[id(node)],
                    "arg": k,
                    "waypoints": [[w.column, w.row] for w in waypoints],
                    "value": _number(inp.data),
                    "grad": _number(sent[k]),
                    "local": formula,
                    "local_value": _number(local[k]),
                }
            )
    order = [ids[id(node)] for node in nodes if not node.is_leaf]
    return {
        "type": "value-graph",
        "title": title,
        "output": ids[id(out)],
        "output_label": out.name or "output",
        "nodes": node_rows,
        "edges": edges,
        "forward": order,
        "backward": order[::-1],
    }


def _wrong_locals(
    node: Value, kind: str, exponent: float | None, names: list[str], local: Any, display: dict[int, str]
) -> list[dict[str, Any]]:
    """Each input edge whose local derivative (as the node's backward computes it) disagrees with a central
    difference of the kind's forward: ``[{"arg", "explanation", "evidence"}]``, empty for a right node."""
    xs = [float(np.asarray(inp.data).reshape(())) for inp in node.inputs]
    variables = {names[k]: xs[k] for k in range(len(xs))}
    variables[f"the output {display[id(node)]}"] = float(np.asarray(node.data).reshape(()))
    wrong = []
    for k in range(len(xs)):
        h = 1e-6 * max(1.0, abs(xs[k]))
        try:
            with np.errstate(all="ignore"):
                plus = FORWARD[kind]([x + h if i == k else x for i, x in enumerate(xs)], exponent)
                here = FORWARD[kind](xs, exponent)
                minus = FORWARD[kind]([x - h if i == k else x for i, x in enumerate(xs)], exponent)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue  # outside the forward's domain: nothing to compare
        if abs((plus - here) - (here - minus)) > 1e-3 * max(abs(plus - here), abs(here - minus), 1e-300):
            continue  # a kink (relu at 0) or a sharp curvature: no difference can judge the node here
        given = _number(local[k])
        if given is None:
            continue
        found = diagnose_local(
            display[id(node)], local_formula(kind, names, k, exponent), given, (plus - minus) / (2 * h), variables
        )
        if found is not None:
            wrong.append({"arg": k, "explanation": found.explanation, "evidence": found.evidence})
    return wrong


def local_formula(kind: str, args: list[str], k: int, exponent: float | None = None) -> str:
    """The local derivative of a ``kind`` node with respect to argument ``k``, in the arguments' names:
    ``local_formula("mul", ["apple_price", "tax"], 1) == "∂(apple_price·tax)/∂tax = apple_price"``."""
    fields = _fields(args, exponent)
    return LOCAL_DERIVATIVES[kind][k].format(**fields)


def _fields(args: list[str], exponent: float | None) -> dict[str, str]:
    def paren(text: str) -> str:
        if text.replace("_", "").replace(".", "").isalnum() or _is_call(text):
            return text
        return f"({text})"

    fields = {"x": paren(args[0]), "y": paren(args[1]) if len(args) > 1 else "", "X": args[0]}
    if exponent is not None:
        fields.update(p=_short(exponent), q=_short(exponent - 1))
    return fields


def _is_call(text: str) -> bool:
    """``exp(−x)``, ``σ(x·y)``: a function applied to everything after it, needing no parentheses around it."""
    opening = text.find("(")
    if opening < 1 or not text.endswith(")") or not text[:opening].isalpha():
        return False
    depth = 0
    for i, char in enumerate(text[opening:], start=opening):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i != len(text) - 1:
            return False
    return True


def _display(node: Value, index: int, display: dict[int, str]) -> str:
    """What the page calls a node: its name; a constant's value; else the expression it computes."""
    if node.name:
        return node.name
    if node.is_leaf:
        return _short(node.data)
    kind, exponent = op_kind(node)
    text = EXPRESSIONS[kind].format(**_fields([display[id(inp)] for inp in node.inputs], exponent))
    return text if len(text) <= MAX_DISPLAY else f"node {index}"


def _number(a: Any) -> float | None:
    """A one-element array as a JSON number; NaN and ±inf (not JSON) as None."""
    if a is None:
        return None
    x = float(np.asarray(a).reshape(()))
    return x if math.isfinite(x) else None


def _short(a: Any) -> str:
    from ..graph.drawing import format_number

    return format_number(float(np.asarray(a).reshape(())))
