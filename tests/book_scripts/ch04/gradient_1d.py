# A numerical derivative and the tangent it gives (figure 4-7), as the book's ch04/gradient_1d.py draws them.
import matplotlib.pylab as plt
import numpy as np


def numerical_diff(f, x):
    h = 1e-4  # a central difference: (f(x+h) - f(x-h)) / 2h
    return (f(x + h) - f(x - h)) / (2 * h)


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def tangent_line(f, x):
    d = numerical_diff(f, x)
    print("slope:" + repr(d))
    y = f(x) - d * x
    return lambda t: d * t + y


x = np.arange(0.0, 20.0, 0.1)
y = function_1(x)
plt.xlabel("x")
plt.ylabel("f(x)")

tf = tangent_line(function_1, 5)
y2 = tf(x)

plt.plot(x, y)
plt.plot(x, y2)
plt.show()
print("touches:" + repr(float(tf(5) - function_1(5))))
