# The gradient of a one-layer net's loss with respect to its weights, as the book's ch04/gradient_simplenet.py
# takes it (x = [0.6, 0.9], t = [0, 0, 1]: the repository's commit fde3a65, 2016-11-10).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from common.functions import cross_entropy_error, softmax  # noqa: E402
from common.gradient import numerical_gradient  # noqa: E402


class simpleNet:  # noqa: N801 (the book's name)
    def __init__(self):
        self.W = np.random.randn(2, 3)

    def predict(self, x):
        return np.dot(x, self.W)

    def loss(self, x, t):
        y = softmax(self.predict(x))
        return cross_entropy_error(y, t)


np.random.seed(0)  # the book leaves the run unseeded; a test wants it repeatable
x = np.array([0.6, 0.9])
t = np.array([0, 0, 1])

net = simpleNet()


def f(w):
    return net.loss(x, t)


dW = numerical_gradient(f, net.W)
print(dW)
# d loss / dW = outer(x, softmax(x W) - t) (the 1e-7 inside the log moves it by about 1e-7)
print("error:" + repr(float(np.abs(dW - np.outer(x, softmax(net.predict(x)) - t)).max())))
