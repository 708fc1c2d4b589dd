"""Reference: the chapter-7 SimpleConvNet trained as the book writes it, self-contained NumPy.

conv 30x5x5 → ReLU → max-pool 2x2 → Affine 100 → ReLU → Affine 10 → softmax loss; float64, one-hot labels,
`np.random.choice` batches (N / batch iterations an epoch), Adam as the book's optimizer.py has it. Convolution and
pooling go through im2col (a zeros array filled by one slice copy per filter offset, then a transposing reshape)
and back through col2im; pooling takes the argmax of each im2col row; the first layer computes its dx too. Written
for this benchmark (not the book's text), with the book's algorithm and its costs.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from _common import load_data, parse_args, report, time_epochs


def im2col(img, fh, fw, stride=1, pad=0):
    n, c, h, w = img.shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    img = np.pad(img, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((n, c, fh, fw, oh, ow))
    for i in range(fh):
        for j in range(fw):
            col[:, :, i, j, :, :] = img[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def col2im(col, shape, fh, fw, stride=1, pad=0):
    n, c, h, w = shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    col = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1))
    for i in range(fh):
        for j in range(fw):
            img[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += col[:, :, i, j, :, :]
    return img[:, :, pad : h + pad, pad : w + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):  # noqa: N803
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        oh, ow = (h + 2 * self.pad - fh) // self.stride + 1, (w + 2 * self.pad - fw) // self.stride + 1
        self.x = x
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        self.col_W = self.W.reshape(fn, -1).T
        out = np.dot(self.col, self.col_W) + self.b
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(fn, c, fh, fw)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad)


class Pooling:
    def __init__(self, ph, pw, stride=1, pad=0):
        self.ph, self.pw, self.stride, self.pad = ph, pw, stride, pad

    def forward(self, x):
        n, c, h, w = x.shape
        oh, ow = (h - self.ph) // self.stride + 1, (w - self.pw) // self.stride + 1
        col = im2col(x, self.ph, self.pw, self.stride, self.pad).reshape(-1, self.ph * self.pw)
        self.x, self.arg_max = x, np.argmax(col, axis=1)
        return np.max(col, axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        size = self.ph * self.pw
        dmax = np.zeros((dout.size, size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dcol = dmax.reshape(dout.shape + (size,)).reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)
        return col2im(dcol, self.x.shape, self.ph, self.pw, self.stride, self.pad)


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
        self.shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.shape)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        x = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
        return -np.sum(np.log(self.y[np.arange(len(t)), t.argmax(axis=1)] + 1e-7)) / len(t)

    def backward(self, dout=1):
        return (self.y - self.t) / len(self.t)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2, self.iter, self.m, self.v = lr, beta1, beta2, 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


def main() -> None:
    args = parse_args()
    x_train, t_train, x_test, t_test = load_data(args.dataset)
    x_train = x_train.astype(np.float64).reshape(-1, 1, 28, 28)
    x_test = x_test.astype(np.float64).reshape(-1, 1, 28, 28)
    t_train_one_hot = np.eye(10)[t_train]
    np.random.seed(args.seed)
    std = 0.01  # the book's SimpleConvNet weight_init_std
    params = {
        "W1": std * np.random.randn(30, 1, 5, 5),
        "b1": np.zeros(30),
        "W2": std * np.random.randn(30 * 12 * 12, args.hidden),
        "b2": np.zeros(args.hidden),
        "W3": std * np.random.randn(args.hidden, 10),
        "b3": np.zeros(10),
    }
    layers = OrderedDict(
        Conv1=Convolution(params["W1"], params["b1"]),
        Relu1=Relu(),
        Pool1=Pooling(2, 2, stride=2),
        Affine1=Affine(params["W2"], params["b2"]),
        Relu2=Relu(),
        Affine2=Affine(params["W3"], params["b3"]),
    )
    last = SoftmaxWithLoss()
    optimizer = Adam(lr=args.lr)
    train_size = len(x_train)
    iterations = max(train_size // args.batch_size, 1)

    def predict(x):
        for layer in layers.values():
            x = layer.forward(x)
        return x

    def run_epoch(_: int) -> None:
        for _ in range(iterations):
            mask = np.random.choice(train_size, args.batch_size)
            last.forward(predict(x_train[mask]), t_train_one_hot[mask])
            dout = last.backward(1)
            for layer in reversed(layers.values()):
                dout = layer.backward(dout)
            grads = {
                "W1": layers["Conv1"].dW,
                "b1": layers["Conv1"].db,
                "W2": layers["Affine1"].dW,
                "b2": layers["Affine1"].db,
                "W3": layers["Affine2"].dW,
                "b3": layers["Affine2"].db,
            }
            optimizer.update(params, grads)

    seconds = time_epochs(run_epoch, args.epochs)
    correct = sum(
        int(np.sum(predict(x_test[i : i + 100]).argmax(axis=1) == t_test[i : i + 100]))
        for i in range(0, len(x_test), 100)
    )
    report(seconds, correct / len(x_test))


if __name__ == "__main__":
    main()
