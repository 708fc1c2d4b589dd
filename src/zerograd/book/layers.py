"""The book's ``common/layers.py`` names: the chapter-5 layers and chapter 6's, with the book's slips fixed, and
chapter 7's ``Convolution`` and ``Pooling`` written the book's way, on ``im2col``/``col2im``.

Same constructors, methods and attributes as the book (``Affine(W, b)`` with ``dW``/``db``, ``Relu.mask``,
``Sigmoid.out``, ``SoftmaxWithLoss.loss/y/t``, ``BatchNormalization(gamma, beta, momentum=0.9, running_mean=None,
running_var=None)``, ``Dropout(dropout_ratio=0.5)``, ``forward(x, train_flg=True)``), but ``backward`` never writes
into ``dout``, dtypes are kept, and ``SoftmaxWithLoss`` computes its loss exactly from the logits (no ``1e-7``).
A star import gives what the book's module gives: the layers, the functions of ``common/functions.py`` and ``np``.
``Convolution`` (``col``, ``col_W``) and ``Pooling`` (``arg_max``) here are for reading; ``zerograd.convolution``
has the fast ones (the same numbers; the book's nets in ``zerograd.book.simple_convnet``/``deep_convnet`` use those).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import layers as _layers
from ..layers import AddLayer, Affine, MulLayer, Relu, Sigmoid
from ._compat import book_labels
from .functions import *  # noqa: F403  (the book's layers module star-imports its functions)
from .functions import __all__ as _function_names
from .util import col2im, im2col

__all__ = [
    "Affine",
    "AddLayer",
    "BatchNormalization",
    "Convolution",
    "Dropout",
    "MulLayer",
    "Pooling",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "np",
    *_function_names,
]


class SoftmaxWithLoss(_layers.SoftmaxWithLoss):
    """``SoftmaxWithLoss()``: ``forward(x, t)`` takes the book's three label forms, integers ``(N,)``, one-hot
    ``(N, C)`` and integers ``(N, 1)`` (chapter 7's gradient check passes ``np.array([1]).reshape((1, 1))``);
    ``self.t`` holds ``t`` as given, as in the book. ``zerograd.layers.SoftmaxWithLoss`` takes the first two only."""

    def forward(self, x: NDArray, t: ArrayLike) -> float:
        t = np.asarray(t)
        if x.ndim == 2 and t.shape not in ((len(x),), (len(x), 1), x.shape):
            raise ValueError(
                f"SoftmaxWithLoss: labels must be integers (N,) = ({len(x)},) or (N, 1) = ({len(x)}, 1), "
                f"or one-hot (N, C) = {x.shape!r}, got shape {t.shape!r}"
            )
        if t.shape == (len(x), 1) != x.shape and t.dtype.kind not in "iu":
            raise TypeError(f"SoftmaxWithLoss: labels (N, 1) must be integers, got dtype {t.dtype}")
        loss = super().forward(x, book_labels(t))
        self.t = t
        return loss


class BatchNormalization(_layers.BatchNormalization):
    """``BatchNormalization(gamma, beta, momentum=0.9, running_mean=None, running_var=None)``: forward's
    ``train_flg`` defaults to True, as in the book."""

    def __init__(
        self,
        gamma: NDArray,
        beta: NDArray,
        momentum: float = 0.9,
        running_mean: NDArray | None = None,
        running_var: NDArray | None = None,
    ) -> None:
        super().__init__(gamma, beta, momentum=momentum, running_mean=running_mean, running_var=running_var)

    def forward(self, x: NDArray, train_flg: bool | None = True) -> NDArray:
        return super().forward(x, train_flg)


class Dropout(_layers.Dropout):
    """``Dropout(dropout_ratio=0.5)``: masks drawn from the global ``np.random`` (``np.random.seed`` applies);
    forward's ``train_flg`` defaults to True, as in the book."""

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        super().__init__(dropout_ratio, rng=np.random)

    def forward(self, x: NDArray, train_flg: bool | None = True) -> NDArray:
        return super().forward(x, train_flg)


class Convolution:
    """``Convolution(W, b, stride=1, pad=0)``: filters W ``(FN, C, FH, FW)``, b ``(FN,)``.

    Shape: x ``(N, C, H, W)`` → out ``(N, FN, OH, OW)``. forward unrolls the windows with ``im2col`` and makes the
    convolution one matrix product; backward is the ``Affine`` backward on those matrices, then ``col2im``.
    """

    def __init__(self, W: NDArray, b: NDArray, stride: int = 1, pad: int = 0) -> None:  # noqa: N803
        self.W, self.b = W, b
        self.stride, self.pad = stride, pad
        self.x: NDArray | None = None
        self.col: NDArray | None = None  # (N*OH*OW, C*FH*FW): one window per row
        self.col_W: NDArray | None = None  # (C*FH*FW, FN): one filter per column  # noqa: N815
        self.dW: NDArray | None = None
        self.db: NDArray | None = None

    def forward(self, x: NDArray) -> NDArray:
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        out_h = (h + 2 * self.pad - fh) // self.stride + 1
        out_w = (w + 2 * self.pad - fw) // self.stride + 1
        self.x = x
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        self.col_W = self.W.reshape(fn, -1).T
        out = self.col @ self.col_W + self.b  # (N*OH*OW, FN): row = output pixel, column = filter
        return out.reshape(n, out_h, out_w, fn).transpose(0, 3, 1, 2)

    def backward(self, dout: NDArray) -> NDArray:
        if self.col is None or self.col_W is None or self.x is None:
            raise RuntimeError("Convolution.backward called before forward")
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)  # (N*OH*OW, FN), the layout of the product above
        # out = col W_col + b: the Affine derivatives, dW_col = colᵀ dout, db = Σ dout, dcol = dout W_colᵀ;
        # then col2im sums each window's gradient back onto the pixels it was copied from.
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).T.reshape(fn, c, fh, fw)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad)


class Pooling:
    """``Pooling(pool_h, pool_w, stride=2, pad=0)``: max pooling. x ``(N, C, H, W)`` → out ``(N, C, OH, OW)``.

    The default stride is 2, as in the repository since commit 77a0807 (2020-09-14, "Change Pooling's stride 2
    from 1"); printings of the book made before then show ``stride=1``. The book's nets pass ``stride=2`` anyway.

    Like the book, padding counts as 0 (``zerograd.convolution.Pooling`` uses ``-inf``, as PyTorch); the two agree
    whenever ``pad=0`` or the inputs are >= 0, as after a ReLU.
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0) -> None:
        self.pool_h, self.pool_w = pool_h, pool_w
        self.stride, self.pad = stride, pad
        self.x: NDArray | None = None
        self.arg_max: NDArray | None = None  # (N*OH*OW*C,): which element of each window was the largest

    def forward(self, x: NDArray) -> NDArray:
        n, c, h, w = x.shape
        out_h = (h + 2 * self.pad - self.pool_h) // self.stride + 1
        out_w = (w + 2 * self.pad - self.pool_w) // self.stride + 1
        # im2col gives rows of C*pool_h*pool_w; one row per (window, channel) lets max run along each row
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad).reshape(-1, self.pool_h * self.pool_w)
        self.x = x
        self.arg_max = np.argmax(col, axis=1)
        out = col[np.arange(len(col)), self.arg_max]
        return out.reshape(n, out_h, out_w, c).transpose(0, 3, 1, 2)

    def backward(self, dout: NDArray) -> NDArray:
        if self.arg_max is None or self.x is None:
            raise RuntimeError("Pooling.backward called before forward")
        # d max(x_1..x_k)/dx_i = 1 for the largest x_i, 0 for the others: each window's gradient goes to its argmax.
        size = self.pool_h * self.pool_w
        dout = dout.transpose(0, 2, 3, 1)  # (N, OH, OW, C): the order of the rows of col
        dmax = np.zeros((dout.size, size), dtype=dout.dtype)
        dmax[np.arange(dout.size), self.arg_max] = dout.reshape(-1)
        dcol = dmax.reshape(-1, self.x.shape[1] * size)  # back to im2col's rows: one per window, all channels
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
