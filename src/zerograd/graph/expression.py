"""A formula typed as text — ``x*y + x``, ``1 / (1 + exp(-x))`` — built into a ``Value`` graph, safely.

``parse_expression(text, values)`` reads the formula with Python's own parser (``ast``) and walks the tree,
allowing only numbers, variable names, ``+ - * / **``, unary ``-``/``+`` and the calls ``exp``, ``log``,
``relu`` and ``sigmoid`` of one argument. Nothing is ever evaluated by Python (no ``eval``): each allowed piece
becomes the matching ``Value`` operation, so a formula from a web page or a command line cannot run code.

Each variable is one leaf ``Value`` named after it; a variable written twice (``x*y + x``) is the same node used
twice, which is how a graph comes to add two gradients into one node.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from typing import Any

from .value import Value

__all__ = ["FUNCTIONS", "MAX_EXPRESSION_LENGTH", "ExpressionError", "expression_variables", "parse_expression"]

MAX_EXPRESSION_LENGTH = 200  # characters: a formula for a figure, not a program
MAX_NODES = 60  # syntax-tree nodes; keeps the drawing readable and the work bounded
FUNCTIONS = ("exp", "log", "relu", "sigmoid")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,19}$")
_BINARY = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__", ast.Pow: "__pow__"}


class ExpressionError(ValueError):
    """The text is not a formula this module builds (syntax, a disallowed construct, a missing value)."""


def expression_variables(text: str) -> list[str]:
    """The variable names of ``text`` in the order they first appear (``"x*y + x"`` → ``["x", "y"]``)."""
    tree = _parse(text)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    first: dict[str, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in FUNCTIONS:
            position = (node.lineno, node.col_offset)
            first[node.id] = min(first.get(node.id, position), position)
    return sorted(first, key=first.__getitem__)


def parse_expression(text: str, values: Mapping[str, float], output_name: str = "f") -> Value:
    """The ``Value`` graph of ``text``, with each variable a scalar leaf holding ``values[name]``.

    The output node is named ``output_name``. Raises ``ExpressionError`` (one line) for anything else.
    """
    tree = _parse(text)
    names = expression_variables(text)
    missing = [name for name in names if name not in values]
    if missing:
        raise ExpressionError(f"no value given for {', '.join(missing)}")
    if output_name in names:
        raise ExpressionError(f"{output_name!r} names the result; call the variable something else")
    leaves: dict[str, Value] = {}
    for name in names:
        number = _number(values[name], name)
        leaves[name] = Value(number, name=name)
    out = _build(tree.body, leaves)
    if not isinstance(out, Value) or out.is_leaf:
        raise ExpressionError("the formula must compute something from its variables, e.g. x*y + x")
    return out.named(output_name)


def _parse(text: str) -> ast.Expression:
    if not isinstance(text, str):
        raise ExpressionError(f"the formula must be text, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the formula is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the formula is {len(text)} characters long; at most {MAX_EXPRESSION_LENGTH}")
    bad = next((c for c in text if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:
        # NOTE: a lone surrogate (JSON's "\ud800", or a byte that is not UTF-8 in a command-line argument, which
        # Python keeps as \udcXX) cannot be encoded, and ast.parse would raise UnicodeEncodeError on it
        raise ExpressionError(
            f"the formula holds {bad!r} at column {text.index(bad) + 1}, which is not a "
            f"character; write it in plain text (UTF-8)"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"not a formula: {err.msg} at column {err.offset}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExpressionError(f"the formula has {count} parts; at most {MAX_NODES}")
    return tree


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"the value of {name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ExpressionError(f"the value of {name} must be finite, got {value!r}")
    return number


def _build(node: ast.AST, leaves: dict[str, Value]) -> Value | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _number(node.value, "a constant")
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function: write {node.id}(x)")
        if not _NAME.match(node.id):
            raise ExpressionError(f"variable names are at most 20 letters, digits or _, got {node.id!r}")
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, leaves)
        if isinstance(node.op, ast.UAdd):
            return operand
        return -operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _build(node.left, leaves), _build(node.right, leaves)
        if not isinstance(left, Value) and not isinstance(right, Value):
            raise ExpressionError("work out constant arithmetic yourself (write 6, not 2*3)")
        if not isinstance(left, Value):
            left = Value(left)
        try:
            with _errstate():
                result = getattr(left, _BINARY[type(node.op)])(right)
        except (ValueError, TypeError, FloatingPointError, ZeroDivisionError) as err:
            raise ExpressionError(f"cannot compute the formula at these inputs: {err}") from None
        return _finite(result)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{node.func.id} takes one argument")
        arg = _build(node.args[0], leaves)
        if not isinstance(arg, Value):
            raise ExpressionError(f"{node.func.id} of a constant: apply it to a variable")
        try:
            with _errstate():
                result = getattr(arg, node.func.id)()
        except (ValueError, FloatingPointError) as err:
            raise ExpressionError(f"cannot compute the formula at these inputs: {err}") from None
        return _finite(result)
    if isinstance(node, ast.Call):
        raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} may be called")
    raise ExpressionError(
        f"{type(node).__name__} is not allowed: use numbers, variables, + - * / ** and {', '.join(FUNCTIONS)}"
    )


def _finite(v: Value) -> Value:
    if not math.isfinite(float(v.data.reshape(-1)[0])):
        raise ExpressionError("the formula's value is not finite at these inputs (a division by 0, an overflow?)")
    return v


def _errstate() -> Any:  # a numpy context manager
    import numpy as np

    return np.errstate(all="raise")
