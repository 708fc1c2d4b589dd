"""Chapter 5's apple graph built with zerograd.graph.Value, back-propagated and drawn as in figure 5-16.

Each ``*`` records a node; ``price.backward()`` walks the nodes in reverse order, so every input ends up with
d price / d input: d apple = 2.2, d apple_num = 110, d tax = 200. The figure shows the forward values above the
arrows and the gradients under them in red.

Run: python examples/graph_apple.py [apple.svg]     (SVG and PNG need graphviz's `dot`; .dot needs nothing)
"""

import sys

from zerograd.graph import Value, draw, format_number, render

apple = Value(100, name="apple")
apple_num = Value(2, name="apple_num")
tax = Value(1.1, name="tax")

apple_price = (apple * apple_num).named("apple_price")  # forward: 100 × 2 = 200
price = (apple_price * tax).named("price")  # forward: 200 × 1.1 = 220
price.backward()  # backward from d price = 1

for node in (price, apple, apple_num, tax):
    print(f"{node.name}: value {format_number(node.item())}, gradient {format_number(float(node.grad))}")

out = sys.argv[1] if len(sys.argv) > 1 else "apple.svg"
print("wrote", render(draw(price), out))
