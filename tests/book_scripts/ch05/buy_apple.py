# The apple graph, calling the layers the way the book's ch05/buy_apple.py does.
from layer_naive import *  # noqa: F403

apple = 100
apple_num = 2
tax = 1.1

mul_apple_layer = MulLayer()  # noqa: F405
mul_tax_layer = MulLayer()  # noqa: F405

apple_price = mul_apple_layer.forward(apple, apple_num)
price = mul_tax_layer.forward(apple_price, tax)

dprice = 1
dapple_price, dtax = mul_tax_layer.backward(dprice)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)

print("price:", int(price))
print("dApple:", dapple)
print("dApple_num:", int(dapple_num))
print("dTax:", dtax)
