# The four update rules on f(x, y) = x²/20 + y², as the book's ch06/optimizer_compare_naive.py runs them: the
# parameters are plain Python floats in a dict, and `np` comes from the star import of common.optimizer.
import os
import sys

sys.path.append(os.pardir)
from collections import OrderedDict

import matplotlib.pyplot as plt

from common.optimizer import *


def f(x, y):
    return x**2 / 20.0 + y**2


def df(x, y):
    return x / 10.0, 2.0 * y


start = (-7.0, 2.0)
params = {}
grads = {}
grads["x"], grads["y"] = 0, 0

optimizers = OrderedDict()
optimizers["SGD"] = SGD(lr=0.95)
optimizers["Momentum"] = Momentum(lr=0.1)
optimizers["AdaGrad"] = AdaGrad(lr=1.5)
optimizers["Adam"] = Adam(lr=0.3)

for idx, key in enumerate(optimizers, start=1):
    optimizer = optimizers[key]
    params["x"], params["y"] = start[0], start[1]
    path_x, path_y = [], []
    for i in range(30):
        path_x.append(params["x"])
        path_y.append(params["y"])
        grads["x"], grads["y"] = df(params["x"], params["y"])
        optimizer.update(params, grads)

    X, Y = np.meshgrid(np.arange(-10, 10, 0.01), np.arange(-5, 5, 0.01))
    Z = f(X, Y)
    Z[Z > 7] = 0
    plt.subplot(2, 2, idx)
    plt.plot(path_x, path_y, "o-", color="red")
    plt.contour(X, Y, Z)
    plt.title(key)
    print(key + ":" + str(f(params["x"], params["y"])) + ":" + str(f(*start)))
plt.show()
