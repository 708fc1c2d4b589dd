"""zerograd.graph.expression: formulas become Value graphs; anything else is refused with one line."""

import math

import numpy as np
import pytest

from zerograd.graph import Value
from zerograd.graph.expression import ExpressionError, expression_variables, parse_expression


def leaf(out, name):
    stack, seen = [out], set()
    while stack:
        node = stack.pop()
        if node.name == name and node.is_leaf:
            return node
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(node.inputs)
    raise KeyError(name)


def test_a_variable_written_twice_is_one_node_whose_gradients_add_up():
    f = parse_expression("x*y + x", {"x": 2, "y": 3})
    f.backward()
    assert f.name == "f" and f.item() == 8
    assert float(leaf(f, "x").grad) == 3 + 1  # d(xy)/dx + d(x)/dx
    assert float(leaf(f, "y").grad) == 2


@pytest.mark.parametrize(
    "text, fn",
    [
        ("1 / (1 + exp(-x))", lambda x, y: 1 / (1 + math.exp(-x))),
        ("sigmoid(x) * y - x ** 3", lambda x, y: 1 / (1 + math.exp(-x)) * y - x**3),
        ("log(x) + relu(y - 2) / x", lambda x, y: math.log(x) + max(y - 2, 0) / x),
        ("x ** y + 2 ** x", lambda x, y: x**y + 2**x),
        ("-x * +y", lambda x, y: -x * y),
    ],
)
def test_values_and_gradients_match_the_formula(text, fn):
    x0, y0, h = 1.3, 2.7, 1e-6
    f = parse_expression(text, {"x": x0, "y": y0})
    f.backward()
    assert f.item() == pytest.approx(fn(x0, y0), rel=1e-12)
    # central differences in float64; tolerance 1e-6 relative covers the O(h²) error of these smooth functions
    assert float(leaf(f, "x").grad) == pytest.approx((fn(x0 + h, y0) - fn(x0 - h, y0)) / (2 * h), rel=1e-6)
    if "y" in expression_variables(text):
        assert float(leaf(f, "y").grad) == pytest.approx((fn(x0, y0 + h) - fn(x0, y0 - h)) / (2 * h), rel=1e-6)


def test_variables_in_order_of_appearance():
    assert expression_variables("b*a + c*b") == ["b", "a", "c"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os').system('true')", "only the functions"),
        ("x.__class__", "Attribute is not allowed"),
        ("[x for x in y]", "ListComp is not allowed"),
        ("x if y else 2", "IfExp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("'text' + x", "Constant is not allowed"),
        ("x +", "not a formula"),
        ("", "empty"),
        ("x" + " + x" * 100, "characters long"),
        ("exp(x, y)", "one argument"),
        ("exp", "is a function"),
        ("2 * 3", "constant arithmetic"),
        ("x / (y - y)", "cannot compute the formula at these inputs: divide by zero"),
        ("log(x - x)", "cannot compute"),
        ("f * 2", "names the result"),
        ("x // y", "BinOp is not allowed"),
        ("x < y", "Compare is not allowed"),
    ],
)
def test_anything_else_is_refused_with_one_line(text, message):
    with pytest.raises(ExpressionError, match=message) as info:
        parse_expression(text, {"x": 1.0, "y": 1.0, "f": 1.0})
    assert "\n" not in str(info.value)


def test_values_must_be_given_and_finite():
    with pytest.raises(ExpressionError, match="no value given for y"):
        parse_expression("x*y", {"x": 1})
    with pytest.raises(ExpressionError, match="finite"):
        parse_expression("x*2", {"x": float("nan")})
    with pytest.raises(ExpressionError, match="must be a number"):
        parse_expression("x*2", {"x": "1"})
    assert isinstance(parse_expression("x*2", {"x": np.float64(1.5)}), Value)
