"""Reference: the chapter's training written as the book writes it, self-contained NumPy.

float64 weights, one-hot labels, `np.random.choice` batches (N / batch iterations an epoch), the book's layers
(including `dout[mask] = 0` and the `1e-7` inside the log) and its in-place SGD update.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from _common import load_data, parse_args, report, time_epochs


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b):  # noqa: N803
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        x = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
        return -np.sum(np.log(self.y[np.arange(len(t)), t.argmax(axis=1)] + 1e-7)) / len(t)

    def backward(self, dout=1):
        return (self.y - self.t) / len(self.t)


def main() -> None:
    args = parse_args()
    x_train, t_train, x_test, t_test = load_data(args.dataset)
    x_train, x_test = x_train.astype(np.float64), x_test.astype(np.float64)
    t_train_one_hot = np.eye(10)[t_train]
    np.random.seed(args.seed)
    params = {
        "W1": 0.01 * np.random.randn(784, args.hidden),
        "b1": np.zeros(args.hidden),
        "W2": 0.01 * np.random.randn(args.hidden, 10),
        "b2": np.zeros(10),
    }
    layers = OrderedDict(
        Affine1=Affine(params["W1"], params["b1"]), Relu1=Relu(), Affine2=Affine(params["W2"], params["b2"])
    )
    last = SoftmaxWithLoss()
    train_size = len(x_train)
    iterations = max(train_size // args.batch_size, 1)

    def run_epoch(_: int) -> None:
        for _ in range(iterations):
            mask = np.random.choice(train_size, args.batch_size)
            x, t = x_train[mask], t_train_one_hot[mask]
            for layer in layers.values():
                x = layer.forward(x)
            last.forward(x, t)
            dout = last.backward(1)
            for layer in reversed(layers.values()):
                dout = layer.backward(dout)
            grads = {
                "W1": layers["Affine1"].dW,
                "b1": layers["Affine1"].db,
                "W2": layers["Affine2"].dW,
                "b2": layers["Affine2"].db,
            }
            for key in params:
                params[key] -= args.lr * grads[key]

    seconds = time_epochs(run_epoch, args.epochs)
    x = x_test
    for layer in layers.values():
        x = layer.forward(x)
    report(seconds, float(np.mean(x.argmax(axis=1) == t_test)))


if __name__ == "__main__":
    main()
