"""Drawing graphs: the DOT text names every node and arrow with its labels; SVG and PNG come out valid; the net view
has the right shapes; the ``zerograd graph`` command; and what happens without graphviz's ``dot``."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from zerograd.cli import build_parser, main
from zerograd.functions import softmax
from zerograd.graph import (
    GraphvizNotFoundError,
    Value,
    apple_graph,
    apple_orange_graph,
    draw,
    draw_net,
    format_number,
    render,
    to_png,
    to_svg,
    topological_order,
    trace_net,
)
from zerograd.nets import MultiLayerNet, TwoLayerNet

# Rendering needs graphviz's `dot`: without it the rendering tests skip (and fail in CI, see conftest.py).
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's `dot` is not installed (apt-get install graphviz / brew install graphviz)",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


# -- reading DOT back -------------------------------------------------------------------------------------------------

NODE = re.compile(r"^\t(\w+) \[label=(<<table.*?</table>>|\"[^\"]*\"|[^ \]]+)", re.M)
EDGE = re.compile(r"^\t(\S+) -> (\S+)(?: \[|$)", re.M)


def parse_dot(source: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node labels by id (HTML labels kept as HTML) and the edges (tail, head) with ports removed."""
    nodes = {name: label.strip('"') for name, label in NODE.findall(source)}
    edges = [(tail.split(":")[0], head.split(":")[0]) for tail, head in EDGE.findall(source)]
    return nodes, edges


def arrows(source: str) -> set[tuple[str, str | None, str | None, str]]:
    """The drawn arrows as (from, value above, gradient below, to): each runs tail -> label node -> head."""
    nodes, edges = parse_dot(source)
    into = {head: tail for tail, head in edges if head.startswith("e")}
    found = set()
    for tail, head in edges:
        if not tail.startswith("e") or tail not in into:
            continue
        label = nodes[tail]
        cells = re.findall(r"<td[^>]*>(.*?)</td>", label)
        value = html.unescape(cells[0]) if cells[0].strip() else None
        red = re.search(r'<font color="red">(.*?)</font>', label)
        grad = html.unescape(red.group(1)) if red else None
        found.add((html.unescape(nodes[into[tail]]), value, grad, html.unescape(nodes[head])))
    return found


def test_apple_dot_has_every_node_and_arrow_with_forward_and_backward_labels():
    source = draw(apple_graph().price).source
    nodes, _ = parse_dot(source)
    assert {"apple", "apple_num", "tax", "price"} <= set(nodes.values())
    assert list(nodes.values()).count("×") == 2
    # figure 5-16: values above the arrows, gradients below
    assert arrows(source) == {
        ("apple", "100", "2.2", "×"),
        ("apple_num", "2", "110", "×"),
        ("×", "200", "1.1", "×"),
        ("tax", "1.1", "200", "×"),
        ("×", "220", "1", "price"),
    }
    assert "rankdir=LR" in source


def test_apple_orange_dot_has_the_books_labels():
    found = arrows(draw(apple_orange_graph().price).source)
    assert found == {
        ("apple", "100", "2.2", "×"),
        ("apple_num", "2", "110", "×"),
        ("orange", "150", "3.3", "×"),
        ("orange_num", "3", "165", "×"),
        ("×", "200", "1.1", "+"),
        ("×", "450", "1.1", "+"),
        ("+", "650", "1.1", "×"),
        ("tax", "1.1", "650", "×"),
        ("×", "715", "1", "price"),
    }


def test_every_node_and_edge_of_an_expression_is_drawn():
    x, w = Value(np.array([[1.0, -2.0]]), name="x"), Value(np.array([[0.5], [0.25]]), name="W")
    y = ((x @ w).sigmoid() * 3.0 + x.exp().sum()).named("y")
    y = (y.log() ** 2).sum().named("loss")
    y.backward()
    source = draw(y).source
    nodes, edges = parse_dot(source)
    graph = topological_order(y)
    n_edges = sum(len(node.inputs) for node in graph)
    labels = [n for n in nodes if re.fullmatch(r"e\d+", n)]
    assert len(labels) == n_edges + 1  # one label per edge, and one for the output arrow
    assert len(edges) == 2 * len(labels)
    ops = sorted(v for k, v in nodes.items() if k.startswith("v") and v not in ("x", "W", "3"))
    assert ops == sorted(node.op for node in graph if not node.is_leaf)
    found = arrows(source)
    # arrays show their shape going forward and the norm of the gradient along that arrow coming back; x feeds
    # two operations, and each of its arrows carries only its own share of x.grad
    product = next(node for node in graph if node.op == "dot")
    times_three = next(node for node in graph if node.op == "×")
    exp = next(node for node in graph if node.op == "exp")
    edge_norm = format_number(float(np.linalg.norm(product.input_grads[0])), 4)
    assert ("x", "(1, 2)", f"‖g‖ = {edge_norm}", "dot") in found
    np.testing.assert_allclose(product.input_grads[0] + exp.input_grads[0], x.grad)
    assert ("3", "3", format_number(float(times_three.input_grads[1])), "×") in found


def test_forward_only_backward_only_and_plain():
    shop = apple_graph()
    forward_only = arrows(draw(shop.price, backward=False).source)
    assert ("apple", "100", None, "×") in forward_only
    assert all(grad is None for _, _, grad, _ in forward_only)
    backward_only = arrows(draw(shop.price, forward=False).source)
    assert ("apple", None, "2.2", "×") in backward_only
    plain = draw(shop.price, forward=False, backward=False).source
    assert "<table" not in plain and "v0 -> v2" in plain


def test_drawing_gradients_before_backward_is_an_error():
    with pytest.raises(ValueError, match=r"call out.backward\(\) first"):
        draw(apple_graph(backward=False).price)
    assert "100" in draw(apple_graph(backward=False).price, backward=False).source
    with pytest.raises(TypeError, match="output Value"):
        draw(3.0)


def test_format_number():
    assert format_number(1.1 * 3) == "3.3"
    assert format_number(1.1 * 100) == "110"
    assert format_number(100 * 2 * 1.1) == "220"
    assert format_number(-0.0) == "0"
    assert format_number(1e-8) == "1e-8"
    assert format_number(123456789.0) == "1.23457e+8"
    assert format_number(-2.5e-12) == "-2.5e-12"
    assert format_number(float("nan")) == "nan"


# -- rendering --------------------------------------------------------------------------------------------------------


@needs_dot
def test_svg_is_valid_with_values_above_and_red_gradients_below():
    shop = apple_orange_graph()
    root = ET.fromstring(to_svg(draw(shop.price)))
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for name in shop.leaves:
        assert name in texts
    label_groups = [
        g
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "node" and re.fullmatch(r"e\d+", g.find(f"{SVG}title").text)
    ]
    assert len(label_groups) == 9
    red = set()
    for g in label_groups:
        value, grad = g.findall(f"{SVG}text")
        assert value.get("fill") in (None, "black") and grad.get("fill") == "red"
        assert float(value.get("y")) < float(grad.get("y"))  # SVG's y grows downwards: the value is above
        red.add(grad.text)
    assert red == {"2.2", "110", "3.3", "165", "1.1", "650", "1"}


@needs_dot
def test_png_is_a_valid_image_with_red_gradients():
    data = to_png(draw(apple_graph().price), dpi=100)
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG" and 400 < image.width < 2000 and 100 < image.height < 1000
    pixels = np.asarray(image.convert("RGB")).astype(int)
    reddish = (pixels[..., 0] > 200) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    assert reddish.sum() > 50  # the gradients are drawn in red
    bigger = Image.open(io.BytesIO(to_png(draw(apple_graph().price), dpi=200)))
    assert bigger.width > 1.8 * image.width


@needs_dot
@pytest.mark.parametrize("suffix", ["svg", "png", "dot"])
def test_render_writes_each_format_atomically(tmp_path, suffix):
    graph = draw(apple_graph().price)
    path = render(graph, tmp_path / f"apple.{suffix}")
    assert path.exists() and os.listdir(tmp_path) == [f"apple.{suffix}"]  # no temporary file left behind
    data = path.read_bytes()
    if suffix == "svg":
        assert ET.fromstring(data).tag == f"{SVG}svg"
    elif suffix == "png":
        assert data.startswith(PNG_SIGNATURE)
    else:
        assert data.decode() == graph.source


def test_render_rejects_unknown_formats_and_missing_directories(tmp_path):
    graph = draw(apple_graph().price)
    with pytest.raises(ValueError, match=r"\.dot, \.svg or \.png"):
        render(graph, tmp_path / "apple.jpg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render(graph, tmp_path / "missing" / "apple.dot")


def test_without_dot_the_source_is_still_written_and_the_error_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    graph = draw(apple_graph().price)
    with pytest.raises(GraphvizNotFoundError) as err:
        render(graph, tmp_path / "apple.svg")
    message = str(err.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert "apple.dot" in message
    assert (tmp_path / "apple.dot").read_text() == graph.source
    assert not (tmp_path / "apple.svg").exists()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        to_png(graph)


# -- the net view -----------------------------------------------------------------------------------------------------


def test_net_view_of_784_50_10_has_the_right_shapes_and_the_nets_gradients():
    net = TwoLayerNet(784, 50, 10, rng=0)
    rng = np.random.default_rng(1)
    x, t = rng.random((5, 784)), rng.integers(0, 10, size=5)
    trace = trace_net(net, x, t)
    shapes = {(a.source, a.target): a.shape for a in trace.arrows}
    assert shapes == {
        ("x", "Affine1"): (5, 784),
        ("Affine1", "Relu1"): (5, 50),
        ("Relu1", "Affine2"): (5, 50),
        ("Affine2", "SoftmaxWithLoss"): (5, 10),
        ("t", "SoftmaxWithLoss"): (5,),
        ("SoftmaxWithLoss", "loss"): (),
    }
    assert [info.name for info in trace.layers] == ["Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"]
    params = {p.name: p for info in trace.layers for p in info.params}
    assert {k: p.shape for k, p in params.items()} == {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    for key, grad in net.gradient(x, t).items():
        np.testing.assert_allclose(params[key].grad_norm, np.linalg.norm(grad), rtol=1e-12)
    np.testing.assert_allclose(trace.loss, net.loss(x, t), rtol=1e-12)
    # the gradient reaching the logits is (softmax - one-hot) / N
    logits = net.predict(x)
    expected = np.linalg.norm((softmax(logits) - np.eye(10)[t]) / 5)
    arrow = next(a for a in trace.arrows if a.source == "Affine2")
    np.testing.assert_allclose(arrow.grad_norm, expected, rtol=1e-12)

    source = draw_net(trace).source
    for text in (
        "(5, 784)",
        "(5, 50)",
        "(5, 10)",
        "(5,)",
        "W1 (784, 50)",
        "b1 (50,)",
        "W2 (50, 10)",
        "b2 (10,)",
        "Affine1",
        "Relu1",
        "Affine2",
        "SoftmaxWithLoss",
        format_number(trace.loss),
        f"‖dW1‖ = {format_number(params['W1'].grad_norm, 4)}",
    ):
        assert html.escape(text) in source, text


def test_net_view_of_a_deeper_sigmoid_net_with_weight_decay():
    net = MultiLayerNet(12, [8, 6], 4, activation="sigmoid", weight_init_std="xavier", weight_decay_lambda=0.3, rng=2)
    rng = np.random.default_rng(3)
    x, t = rng.random((7, 12)), np.eye(4)[rng.integers(0, 4, size=7)]
    trace = trace_net(net, x, t)
    assert [info.name for info in trace.layers] == [
        "Affine1",
        "Sigmoid1",
        "Affine2",
        "Sigmoid2",
        "Affine3",
        "SoftmaxWithLoss",
    ]
    params = {p.name: p for info in trace.layers for p in info.params}
    for key, grad in net.gradient(x, t).items():  # weight decay included, as net.gradient returns it
        np.testing.assert_allclose(params[key].grad_norm, np.linalg.norm(grad), rtol=1e-12, err_msg=key)
    np.testing.assert_allclose(trace.loss, net.loss(x, t), rtol=1e-12)
    assert ("t", "SoftmaxWithLoss", (7, 4)) in {(a.source, a.target, a.shape) for a in trace.arrows}


def test_net_view_rejects_what_is_not_a_net():
    with pytest.raises(TypeError, match="TwoLayerNet or MultiLayerNet"):
        trace_net(object(), np.zeros((1, 2)), [0])
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        trace_net(TwoLayerNet(784, 5, 10, rng=0), np.zeros((2, 783)), [0, 1])


@needs_dot
def test_net_view_renders_to_svg():
    net = TwoLayerNet(784, 50, 10, rng=0)
    x, t = np.random.default_rng(0).random((3, 784)), np.array([1, 2, 3])
    root = ET.fromstring(to_svg(draw_net(trace_net(net, x, t))))
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"(3, 784)", "(3, 50)", "(3, 10)", "Affine1", "Relu1", "Affine2", "SoftmaxWithLoss"} <= texts


# -- the command ------------------------------------------------------------------------------------------------------


def test_every_graph_flag_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["graph"]
    for action in sub._actions:
        assert action.help, action.dest


def test_graph_command_prints_dot_without_out(capsys):
    assert main(["graph", "apple"]) == 0
    assert ("tax", "1.1", "200", "×") in arrows(capsys.readouterr().out)


@needs_dot
def test_graph_command_writes_svg_and_png(tmp_path, capsys):
    assert main(["graph", "apple-orange", "--out", str(tmp_path / "ao.svg")]) == 0
    assert "price 715" in capsys.readouterr().out
    root = ET.fromstring((tmp_path / "ao.svg").read_bytes())
    assert "3.3" in {t.text for t in root.iter(f"{SVG}text")}
    assert main(["graph", "apple", "--out", str(tmp_path / "apple.png"), "--dpi", "72"]) == 0
    with Image.open(tmp_path / "apple.png") as image:
        assert image.format == "PNG"


def test_graph_command_net_view_dot(tmp_path):
    out = tmp_path / "net.dot"
    assert main(["graph", "net", "--hidden", "30,20", "--batch-size", "4", "--out", str(out)]) == 0
    source = out.read_text()
    for text in ("(4, 784)", "(4, 30)", "(4, 20)", "(4, 10)", "W3 (20, 10)", "Relu2"):
        assert html.escape(text) in source, text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["graph", "apple", "--out", "apple.jpg"], "must end in .svg, .png or .dot"),
        (["graph", "net", "--hidden", "50,x"], "--hidden must be comma-separated positive integers"),
        (["graph", "net", "--batch-size", "0"], "--batch-size must be a positive integer"),
        (["graph", "apple", "--dpi", "0"], "--dpi must be a positive integer"),
    ],
)
def test_graph_command_user_mistakes_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_graph_command_without_dot_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["graph", "apple", "--out", str(tmp_path / "apple.png")]) == 2
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "brew install graphviz" in err
    assert (tmp_path / "apple.dot").exists()


def test_checked_in_figures_are_pngs():
    here = os.path.dirname(__file__)
    for name in ("apple.png", "apple_orange.png"):
        with Image.open(os.path.join(here, "..", "docs", "images", name)) as image:
            assert image.format == "PNG" and image.width > image.height


def test_the_example_script_prints_the_books_numbers(tmp_path):
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(__file__), "..", "examples", "graph_apple.py")
    out = tmp_path / "apple.dot"
    result = subprocess.run([sys.executable, script, str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "price: value 220, gradient 1" in result.stdout
    assert "apple: value 100, gradient 2.2" in result.stdout and "tax: value 1.1, gradient 200" in result.stdout
    assert ("apple_num", "2", "110", "×") in arrows(out.read_text())
