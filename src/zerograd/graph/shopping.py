"""The chapter's two shopping examples (5.2 and 5.4) as define-by-run graphs.

``apple_graph()``: 2 apples at 100 each, 10 % tax. Forward: 100 × 2 = 200, 200 × 1.1 = 220. Backward from
d price = 1: d apple = 2.2, d apple_num = 110, d tax = 200 (figure 5-16).

``apple_orange_graph()``: 2 apples at 100 and 3 oranges at 150, 10 % tax. Forward: 200 + 450 = 650, × 1.1 = 715.
Backward: d apple_num = 110, d apple = 2.2, d orange = 3.3, d orange_num = 165, d tax = 650 (figure 5-17).

Both return a ``ShoppingGraph``: the output node ``price`` (every node named as in the book's code, after
``backward()``) and the leaves by name, ``graph["apple"].grad``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .value import Value

__all__ = ["ShoppingGraph", "apple_graph", "apple_orange_graph"]


@dataclass(frozen=True)
class ShoppingGraph:
    """The output node ``price`` and the named leaves (``{"apple": Value, ...}``) of a shopping graph."""

    price: Value
    leaves: dict[str, Value]

    def __getitem__(self, name: str) -> Value:
        return self.leaves[name]


def apple_graph(apple: float = 100, apple_num: float = 2, tax: float = 1.1, backward: bool = True) -> ShoppingGraph:
    """Figure 5-16: ``price = apple × apple_num × tax``, back-propagated from d price = 1 unless ``backward=False``."""
    a, n, t = Value(apple, name="apple"), Value(apple_num, name="apple_num"), Value(tax, name="tax")
    apple_price = (a * n).named("apple_price")
    price = (apple_price * t).named("price")
    if backward:
        price.backward()
    return ShoppingGraph(price, {"apple": a, "apple_num": n, "tax": t})


def apple_orange_graph(
    apple: float = 100,
    apple_num: float = 2,
    orange: float = 150,
    orange_num: float = 3,
    tax: float = 1.1,
    backward: bool = True,
) -> ShoppingGraph:
    """Figure 5-17: ``price = (apple × apple_num + orange × orange_num) × tax``, back-propagated from 1."""
    a, an = Value(apple, name="apple"), Value(apple_num, name="apple_num")
    o, on = Value(orange, name="orange"), Value(orange_num, name="orange_num")
    t = Value(tax, name="tax")
    apple_price = (a * an).named("apple_price")
    orange_price = (o * on).named("orange_price")
    all_price = (apple_price + orange_price).named("all_price")
    price = (all_price * t).named("price")
    if backward:
        price.backward()
    return ShoppingGraph(price, {"apple": a, "apple_num": an, "orange": o, "orange_num": on, "tax": t})
