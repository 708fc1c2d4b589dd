# Chapter 4's two-layer net: sigmoid, softmax, a numerical gradient and a hand-written backward pass, as the book's
# ch04/two_layer_net.py writes them (the backward names of the repository's commit 64bd16e, 2016-11-19).
import os
import sys

sys.path.append(os.pardir)
import numpy as np  # noqa: E402
from common.functions import *  # noqa: E402,F403
from common.gradient import numerical_gradient  # noqa: E402


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x):
        a1 = np.dot(x, self.params["W1"]) + self.params["b1"]
        z1 = sigmoid(a1)  # noqa: F405
        a2 = np.dot(z1, self.params["W2"]) + self.params["b2"]
        return softmax(a2)  # noqa: F405

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)  # noqa: F405

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        def loss_W(W):  # noqa: N802,N803
            return self.loss(x, t)

        return {key: numerical_gradient(loss_W, self.params[key]) for key in ("W1", "b1", "W2", "b2")}

    def gradient(self, x, t):
        W1, W2 = self.params["W1"], self.params["W2"]  # noqa: N806
        b1, b2 = self.params["b1"], self.params["b2"]
        batch_num = x.shape[0]

        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)  # noqa: F405
        y = softmax(np.dot(z1, W2) + b2)  # noqa: F405

        grads = {}
        dy = (y - t) / batch_num
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)
        dz1 = np.dot(dy, W2.T)
        da1 = sigmoid_grad(a1) * dz1  # noqa: F405
        grads["W1"] = np.dot(x.T, da1)
        grads["b1"] = np.sum(da1, axis=0)
        return grads
