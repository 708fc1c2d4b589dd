"""Where each node of a graph goes on a page: left to right by topological depth, as the book draws its figures.

``layout_dag(order, inputs)`` places the nodes of any directed acyclic graph given in topological order (inputs
before the nodes that use them) with ``inputs[key]`` the keys each node reads, in argument order. Its
``Layout.places`` is ``{key: Place(column, row)}``:

- column: an operation sits one column right of its deepest input (longest path from the inputs); an input of
  the graph (a node with no inputs) sits one column left of the first node that uses it, so ``tax`` in figure 5-16
  stands just before the multiplication it enters, not far away at the start.
- row: inputs of the graph take rows 0, 1, 2, ... in the order a walk back from the output meets them (each
  node's arguments in order, so ``apple`` is above ``apple_num``); an operation sits at the mean row of its
  inputs, pushed down where it would overlap a node above it in its column (columns are settled left to right).

An edge that skips columns gets a waypoint in each column it crosses, placed like a node, so it is routed
around the nodes there rather than through them (``Layout.waypoints``).

``layout(out)`` does this for a ``Value`` graph (keys are the nodes' positions in ``topological_order(out)``).
Nothing here draws: the browser pages of ``zerograd.serve`` turn places into SVG coordinates.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .value import Value, topological_order

__all__ = ["Layout", "Place", "layout", "layout_dag"]

MIN_ROW_GAP = 1.0  # two nodes in one column are at least this many rows apart

Edge = tuple[Hashable, Hashable, int]  # (source, target, argument index)


@dataclass(frozen=True)
class Place:
    """A node's position: ``column`` 0, 1, 2, ... from the left; ``row`` from the top (may be fractional)."""

    column: int
    row: float


@dataclass(frozen=True)
class Layout:
    """``places[key]``: where each node goes. ``waypoints[(source, target, arg)]``: for an edge that skips columns,
    the point it passes in each column between, so it runs around the nodes there instead of through them."""

    places: dict[Hashable, Place]
    waypoints: dict[Edge, list[Place]]


def layout_dag(order: Sequence[Hashable], inputs: Mapping[Any, Sequence[Hashable]]) -> Layout:
    """Places for the nodes ``order`` (topological: every node after its inputs); ``inputs[k]`` lists the keys
    node ``k`` reads, in argument order (missing or empty for an input of the graph)."""
    _check_order(order, inputs)
    users: dict[Hashable, list[Hashable]] = {key: [] for key in order}
    for key in order:
        for src in inputs.get(key, ()):
            users[src].append(key)
    column = _columns(order, inputs, users)
    leaf_rank = _leaf_ranks([key for key in order if not users[key]], inputs)
    row, way = _rows(_column_items(order, inputs, column), inputs, leaf_rank)
    places = {key: Place(column[key], row[key]) for key in order}
    waypoints = {edge: [Place(column[edge[0]] + 1 + j, r) for j, r in enumerate(rows)] for edge, rows in way.items()}
    return Layout(places, waypoints)


def _check_order(order: Sequence[Hashable], inputs: Mapping[Hashable, Sequence[Hashable]]) -> None:
    position = {key: i for i, key in enumerate(order)}
    if len(position) != len(order):
        raise ValueError("layout_dag: a key appears twice in the order")
    for key in order:
        for src in inputs.get(key, ()):
            if src not in position:
                raise ValueError(f"layout_dag: {key!r} reads {src!r}, which is not in the order")
            if position[src] >= position[key]:
                raise ValueError(f"layout_dag: the order is not topological ({src!r} must come before {key!r})")


def _columns(
    order: Sequence[Hashable],
    inputs: Mapping[Hashable, Sequence[Hashable]],
    users: Mapping[Hashable, Sequence[Hashable]],
) -> dict[Hashable, int]:
    """Operations by longest path from the inputs; graph inputs just left of their first user."""
    column: dict[Hashable, int] = {}
    for key in order:
        srcs = inputs.get(key, ())
        column[key] = 1 + max(column[s] for s in srcs) if srcs else 0
    for key in order:
        if not inputs.get(key) and users[key]:
            column[key] = max(0, min(column[u] for u in users[key]) - 1)
    return column


def _leaf_ranks(outputs: Sequence[Hashable], inputs: Mapping[Hashable, Sequence[Hashable]]) -> dict[Hashable, int]:
    """Rows of the graph inputs: the order a walk back from the outputs (arguments in order) meets them."""
    leaf_rank: dict[Hashable, int] = {}
    seen: set[Hashable] = set()
    for out in outputs:
        stack = [out]
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            srcs = inputs.get(key, ())
            if not srcs:
                leaf_rank[key] = len(leaf_rank)
            stack.extend(reversed(srcs))  # first argument visited first
    return leaf_rank


def _column_items(
    order: Sequence[Hashable], inputs: Mapping[Hashable, Sequence[Hashable]], column: Mapping[Hashable, int]
) -> dict[int, list[tuple[str, Any]]]:
    """What each column holds: ``("node", key)``s, and ``("way", (edge, j))`` for every edge passing through it
    (``j``: the how-manieth column the edge crosses)."""
    items: dict[int, list[tuple[str, Any]]] = {}
    for key in order:
        items.setdefault(column[key], []).append(("node", key))
        for arg, src in enumerate(inputs.get(key, ())):
            for j, c in enumerate(range(column[src] + 1, column[key])):
                items.setdefault(c, []).append(("way", ((src, key, arg), j)))
    return items


def _rows(
    items: Mapping[int, list[tuple[str, Any]]],
    inputs: Mapping[Hashable, Sequence[Hashable]],
    leaf_rank: Mapping[Hashable, int],
) -> tuple[dict[Hashable, float], dict[Edge, list[float]]]:
    """Left to right: a node sits at the mean row of what reaches it, a waypoint level with the point before it;
    then no two items of the column closer than MIN_ROW_GAP, pushing the lower ones down."""
    row: dict[Hashable, float] = {}
    way: dict[Edge, list[float]] = {}

    def arriving_row(src: Hashable, key: Hashable, arg: int) -> float:
        points = way.get((src, key, arg))
        return points[-1] if points else row[src]

    for c in sorted(items):
        placed: list[tuple[float, int, tuple[str, Any]]] = []
        for n, item in enumerate(items[c]):
            if item[0] == "node":
                key = item[1]
                srcs = inputs.get(key, ())
                r = (
                    float(leaf_rank[key])
                    if not srcs
                    else (sum(arriving_row(s, key, a) for a, s in enumerate(srcs)) / len(srcs))
                )
            else:
                (src, key, arg), j = item[1]
                r = way[(src, key, arg)][-1] if j else row[src]
            placed.append((r, n, item))
        placed.sort(key=lambda p: (p[0], p[1]))
        previous = None
        for r, _, item in placed:
            if previous is not None and r < previous + MIN_ROW_GAP:
                r = previous + MIN_ROW_GAP
            previous = r
            if item[0] == "node":
                row[item[1]] = r
            else:
                way.setdefault(item[1][0], []).append(r)
    return row, way


def layout(out: Value) -> tuple[list[Value], Layout]:
    """The nodes of the graph that computes ``out`` in topological order, and their ``Layout`` (keys are the
    nodes' positions in that list)."""
    if not isinstance(out, Value):
        raise TypeError(f"layout needs the output Value of a graph, got {type(out).__name__}")
    nodes = topological_order(out)
    index = {id(node): i for i, node in enumerate(nodes)}
    inputs = {i: [index[id(inp)] for inp in node.inputs] for i, node in enumerate(nodes)}
    return nodes, layout_dag(list(range(len(nodes))), inputs)
