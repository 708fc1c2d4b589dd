"""Chapter 5.4.1: buying 2 apples at 100 yen each with 10 % consumption tax, as a computational graph.

Forward: 100 * 2 = 200, 200 * 1.1 = 220. Backward from d price = 1: each multiplication node sends back
``dout`` times the *other* input, so d apple = 1.1 * 2 = 2.2, d apple_num = 1.1 * 100 = 110, d tax = 200.

Run: python examples/buy_apple.py
"""

from zerograd.layers import MulLayer

apple, apple_num, tax = 100, 2, 1.1

mul_apple_layer = MulLayer()
mul_tax_layer = MulLayer()

# forward: left to right through the graph
apple_price = mul_apple_layer.forward(apple, apple_num)
price = mul_tax_layer.forward(apple_price, tax)

# backward: right to left, in the reverse order of forward
dprice = 1
dapple_price, dtax = mul_tax_layer.backward(dprice)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)

# `:g` prints the float 110.00000000000001 that 1.1 * 100 gives in binary as the book's 110.
print(f"price: {price:g}")
print(f"dApple: {dapple:g}")
print(f"dApple_num: {dapple_num:g}")
print(f"dTax: {dtax:g}")
