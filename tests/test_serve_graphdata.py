"""zerograd.serve.graphdata / graphs / netdata / pages: the JSON behind the pages, and the self-contained HTML."""

import json
import re

import numpy as np
import pytest

from zerograd.graph import Value, apple_orange_graph
from zerograd.graph.expression import parse_expression
from zerograd.serve.graphdata import GraphDataError, local_formula, value_graph_data
from zerograd.serve.graphs import GraphInputError, export_graph_html, expression_data, graph_data, graph_html
from zerograd.serve.netdata import NetInputError, net_page_data, net_view_data


def by_name(data):
    return {n["name"]: n for n in data["nodes"] if n["name"]}


def test_the_apple_graph_json_has_the_books_numbers():
    data = graph_data("apple")
    n = by_name(data)
    assert n["price"]["value"] == pytest.approx(220) and n["price"]["grad"] == 1
    assert (n["apple"]["grad"], n["apple_num"]["grad"], n["tax"]["grad"]) == pytest.approx((2.2, 110, 200))
    assert [n[k]["editable"] for k in ("apple", "apple_num", "tax", "price")] == [True, True, True, False]
    # backward visits price's × before apple_price's ×: reverse topological order
    ids = {v["id"]: k for k, v in n.items()}
    assert [ids[i] for i in data["backward"]] == ["price", "apple_price"]
    tax_edge = next(e for e in data["edges"] if e["source"] == n["tax"]["id"])
    assert tax_edge["local"] == "∂(apple_price·tax)/∂tax = apple_price"
    assert tax_edge["local_value"] == pytest.approx(200) and tax_edge["grad"] == pytest.approx(200)


def test_changed_inputs_change_values_and_gradients():
    n = by_name(graph_data("apple", {"apple": 150}))
    assert n["price"]["value"] == pytest.approx(330) and n["tax"]["grad"] == pytest.approx(300)


@pytest.mark.parametrize(
    "make",
    [
        lambda: apple_orange_graph(backward=False).price,
        lambda: parse_expression("x*y + x + exp(-x)/2 - sigmoid(y)**2", {"x": 0.7, "y": -1.2}),
    ],
)
def test_every_edge_gradient_is_the_arriving_gradient_times_the_local_derivative(make):
    out = make()
    data = value_graph_data(out)
    nodes = {n["id"]: n for n in data["nodes"]}
    for e in data["edges"]:
        assert e["grad"] == pytest.approx(nodes[e["target"]]["grad"] * e["local_value"], rel=1e-12)
        assert e["value"] == nodes[e["source"]]["value"]
    # a node's gradient is the sum over the edges leaving it (a node used twice adds two contributions)
    for node in data["nodes"]:
        leaving = [e["grad"] for e in data["edges"] if e["source"] == node["id"]]
        if leaving:
            assert node["grad"] == pytest.approx(sum(leaving), rel=1e-12)


def test_local_formulas_name_the_arguments():
    assert local_formula("mul", ["x", "y"], 0) == "∂(x·y)/∂x = y"
    assert local_formula("div", ["a", "x·y"], 1) == "∂(a/(x·y))/∂(x·y) = −a/(x·y)²"
    assert local_formula("powc", ["x"], 0, 3.0) == "∂(x^3)/∂x = 3·x^2"
    assert local_formula("exp", ["−x"], 0) == "∂exp(−x)/∂(−x) = exp(−x)"


def test_graphs_the_page_cannot_show_are_refused():
    with pytest.raises(GraphDataError, match="scalar graphs"):
        value_graph_data((Value(np.ones(3), name="v") * 2).sum())
    with pytest.raises(GraphDataError, match="share a name"):
        value_graph_data(Value(1.0, name="a") * Value(2.0, name="a"))
    with pytest.raises(GraphInputError, match="unknown input 'pear'"):
        graph_data("apple", {"pear": 1})
    with pytest.raises(GraphInputError, match="finite"):
        graph_data("apple", {"apple": float("nan")})
    with pytest.raises(GraphInputError, match="no graph"):
        graph_data("banana")
    with pytest.raises(GraphInputError, match="only the functions"):
        expression_data("open('x')")


def test_the_page_is_one_file_with_its_data_and_no_outside_references(tmp_path):
    x = Value(2.0, name="x")
    path = export_graph_html((x * x + x).named("g"), tmp_path / "g.html", title="</script><b>")
    text = path.read_text(encoding="utf-8")
    assert len(text.encode()) < 300_000
    assert "</script><b>" not in text  # the title is escaped, in the head and in the JSON
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "Content-Security-Policy" in text and "connect-src 'self'" in text
    data = json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S)[1])
    assert by_name(data)["x"]["grad"] == 5  # 2x + 1


def test_graph_html_of_apple_is_small():
    assert len(graph_html(graph_data("apple")).encode()) < 300_000


def test_the_net_view_loss_drops_with_sgd_steps():
    v0, v1, v5 = (net_view_data(3, k) for k in (0, 1, 5))
    assert v0["loss"] == pytest.approx(np.log(10), abs=0.05)  # small initial weights: uniform probabilities
    assert v0["loss"] > v1["loss"] > v5["loss"]
    assert v5["predicted"] == v5["label"]
    w1 = lambda v: next(p for layer in v["layers"] for p in layer["params"] if p["name"] == "W1")  # noqa: E731
    assert w1(v0)["shape"] == [784, 50] and w1(v0)["norm"] != w1(v1)["norm"]  # the weights changed
    shapes = {(a["source"], a["target"]): a["shape"] for a in v0["arrows"]}
    assert shapes[("x", "Affine1")] == [1, 784] and shapes[("Relu1", "Affine2")] == [1, 50]
    assert net_view_data(3, 2) == net_view_data(3, 2)  # no hidden state between requests


def test_net_inputs_are_checked():
    for bad in (-1, 10**6, 1.5, True, "3"):
        with pytest.raises(NetInputError, match="digit must be an integer"):
            net_view_data(bad, 0)
    with pytest.raises(NetInputError, match="steps must be an integer from 0 to 50"):
        net_view_data(0, 51)


def test_an_exported_net_page_holds_every_view_it_offers():
    data = net_page_data(precompute_steps=1)
    assert len(data["digits"]) == 10 and sorted(d["label"] for d in data["digits"]) == list(range(10))
    assert set(data["views"]) == {f"{d['index']}:{k}" for d in data["digits"] for k in (0, 1)}
    assert data["places"]["x"][0] < data["places"]["Affine1"][0] < data["places"]["SoftmaxWithLoss"][0]


def run_cli(*args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "zerograd", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_zerograd_graph_html_writes_one_self_contained_page(tmp_path):
    result = run_cli("graph", "apple", "--html", tmp_path / "apple.html", "--set", "apple=150")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "apple.html").read_text(encoding="utf-8")
    assert len(text.encode()) < 300_000 and 'data-testid="step-backward"' in text
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', text, re.S)[1])
    assert by_name(data)["price"]["value"] == pytest.approx(330)
    result = run_cli(
        "graph", "expr", "--expr", "x*y + x", "--set", "x=2", "--set", "y=3", "--html", tmp_path / "f.html"
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("graph", "apple", "--html", "a.html", "--out", "a.svg"), "not both"),
        (("graph", "apple", "--html", "a.html", "--set", "pear=1"), "unknown input 'pear'"),
        (("graph", "apple", "--set", "apple"), "NAME=NUMBER"),
        (("graph", "expr", "--expr", "x.y"), "Attribute is not allowed"),
        (("graph", "expr", "--expr", "x*2", "--set", "z=1"), "no variable 'z'"),
        (("graph", "net", "--expr", "x"), "--expr is for the expr graph"),
        (("graph", "apple", "--html", "/no/such/dir/a.html"), "cannot write"),
    ],
)
def test_zerograd_graph_bad_arguments_are_one_line(tmp_path, args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_zerograd_graph_expr_draws_dot():
    result = run_cli("graph", "expr", "--expr", "x*y + x", "--set", "x=2", "--set", "y=3")
    assert result.returncode == 0 and result.stdout.startswith("digraph")
