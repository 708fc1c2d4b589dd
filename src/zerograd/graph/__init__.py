"""Computational graphs you can see: a define-by-run ``Value`` graph and the chapter's figures drawn from code.

- ``Value`` (``value.py``): ``+ - * / **``, ``exp``, ``log``, ``sum``, ``@``, ``relu``, ``sigmoid`` and ``backward()``.
- ``draw``/``render`` (``drawing.py``): the book's figures — values above the arrows, gradients under them in red.
- ``apple_graph``/``apple_orange_graph`` (``shopping.py``): the chapter's shopping examples.
- ``trace_net``/``net_view`` (``netview.py``): a net's layers with array shapes and gradient norms.

Drawing needs the ``graphviz`` Python package, imported only when a drawing is made.
"""

from .drawing import GraphvizNotFoundError, draw, format_number, render, to_png, to_svg
from .netview import NetTrace, draw_net, net_view, trace_net
from .shopping import ShoppingGraph, apple_graph, apple_orange_graph
from .value import Value, as_value, topological_order

__all__ = [
    "GraphvizNotFoundError",
    "NetTrace",
    "ShoppingGraph",
    "Value",
    "apple_graph",
    "apple_orange_graph",
    "as_value",
    "draw",
    "draw_net",
    "format_number",
    "net_view",
    "render",
    "to_png",
    "to_svg",
    "topological_order",
    "trace_net",
]
