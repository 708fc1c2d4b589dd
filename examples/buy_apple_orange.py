"""Chapter 5.4.2: 2 apples at 100 yen and 3 oranges at 150 yen, added, then 10 % tax, as a computational graph.

Forward: 100 * 2 = 200, 150 * 3 = 450, 200 + 450 = 650, 650 * 1.1 = 715. Backward from d price = 1: the
addition node passes 1.1 unchanged to both branches, so d apple_num = 110, d apple = 2.2, d orange = 3.3,
d orange_num = 165, d tax = 650.

Run: python examples/buy_apple_orange.py
"""

from zerograd.layers import AddLayer, MulLayer

apple, apple_num = 100, 2
orange, orange_num = 150, 3
tax = 1.1

mul_apple_layer = MulLayer()
mul_orange_layer = MulLayer()
add_apple_orange_layer = AddLayer()
mul_tax_layer = MulLayer()

# forward
apple_price = mul_apple_layer.forward(apple, apple_num)
orange_price = mul_orange_layer.forward(orange, orange_num)
all_price = add_apple_orange_layer.forward(apple_price, orange_price)
price = mul_tax_layer.forward(all_price, tax)

# backward, in the reverse order of forward
dprice = 1
dall_price, dtax = mul_tax_layer.backward(dprice)
dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
dorange, dorange_num = mul_orange_layer.backward(dorange_price)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)

print(f"price: {price:g}")
print(f"dApple_num: {dapple_num:g}")
print(f"dApple: {dapple:g}")
print(f"dOrange: {dorange:g}")
print(f"dOrange_num: {dorange_num:g}")
print(f"dTax: {dtax:g}")
