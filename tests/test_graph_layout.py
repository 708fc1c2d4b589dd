"""zerograd.graph.layout: columns by topological depth, rows without overlaps, waypoints for long edges."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerograd.graph import Value, apple_graph, apple_orange_graph
from zerograd.graph.layout import MIN_ROW_GAP, layout, layout_dag


def places_by_name(out):
    nodes, result = layout(out)
    return {node.name: result.places[i] for i, node in enumerate(nodes) if node.name}, result


def test_the_apple_graph_is_laid_out_as_figure_5_16():
    p, result = places_by_name(apple_graph().price)
    # apple and apple_num enter the first ×, tax enters the second, just before it (not back in column 0)
    assert (p["apple"].column, p["apple_num"].column, p["apple_price"].column) == (0, 0, 1)
    assert (p["tax"].column, p["price"].column) == (1, 2)
    assert p["apple"].row < p["apple_num"].row  # argument order, top to bottom
    assert p["apple_price"].row == (p["apple"].row + p["apple_num"].row) / 2  # between its inputs
    assert result.waypoints == {}


def test_the_apple_orange_graph_keeps_each_purchase_together():
    p, _ = places_by_name(apple_orange_graph().price)
    assert [p[k].column for k in ("apple", "orange", "apple_price", "all_price", "tax", "price")] == [0, 0, 1, 2, 2, 3]
    assert p["apple"].row < p["apple_num"].row < p["orange"].row < p["orange_num"].row
    assert p["apple_price"].row < p["orange_price"].row


def test_an_edge_that_skips_columns_gets_a_waypoint_in_each():
    x, y = Value(2.0, name="x"), Value(3.0, name="y")
    f = ((x * y).exp() + x).named("f")  # x → + skips the columns of × and exp
    nodes, result = layout(f)
    index = {node.name or node.op: i for i, node in enumerate(nodes)}
    plus = index["f"]
    edge = (index["x"], plus, 1)
    assert [w.column for w in result.waypoints[edge]] == [1, 2]
    # in each column, the waypoint keeps its distance from the nodes there
    for w in result.waypoints[edge]:
        for place in result.places.values():
            if place.column == w.column:
                assert abs(place.row - w.row) >= MIN_ROW_GAP - 1e-12


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10**6), max_size=3), min_size=1, max_size=14))
def test_random_dags_columns_increase_along_edges_and_nodes_never_overlap(raw):
    # node k reads up to 3 earlier nodes (chosen by the drawn integers)
    inputs = {k: sorted({r % k for r in reads}) if k else [] for k, reads in enumerate(raw)}
    result = layout_dag(list(range(len(raw))), inputs)
    for k, srcs in inputs.items():
        for s in srcs:
            assert result.places[s].column < result.places[k].column
            gap = result.places[k].column - result.places[s].column
            assert len(result.waypoints.get((s, k, srcs.index(s)), [])) == gap - 1
    points = [(p.column, p.row) for p in result.places.values()]
    points += [(w.column, w.row) for ws in result.waypoints.values() for w in ws]
    for (c1, r1), (c2, r2) in itertools.combinations(points, 2):
        if c1 == c2:
            assert abs(r1 - r2) >= MIN_ROW_GAP - 1e-9


def test_bad_orders_are_refused():
    with pytest.raises(ValueError, match="not topological"):
        layout_dag(["b", "a"], {"b": ["a"]})
    with pytest.raises(ValueError, match="not in the order"):
        layout_dag(["a"], {"a": ["z"]})
    with pytest.raises(ValueError, match="twice"):
        layout_dag(["a", "a"], {})
    with pytest.raises(TypeError, match="output Value"):
        layout(3.0)
