"""The layers of chapter 5: each node of the computational graph with its ``forward`` and ``backward``.

A layer remembers what its backward pass needs during ``forward`` and returns ``dL/dinput`` from ``backward``,
given ``dout = dL/doutput``. Local derivatives are written beside each backward. No layer writes into the arrays
it is given, and every layer keeps the floating dtype of its input (float32 in, float32 out).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .functions import _as_label_indices, sigmoid

__all__ = ["Affine", "AddLayer", "Layer", "MulLayer", "Relu", "Sigmoid", "SoftmaxWithLoss"]


class Layer:
    """Base of every layer: ``forward(*inputs) -> out`` and ``backward(dout) -> d_inputs``.

    A layer with parameters lists their attribute names in ``param_names``; after ``backward`` the gradient of
    parameter ``W`` is the attribute ``dW`` (the book's convention), and ``params`` / ``grads`` gather them.
    """

    param_names: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, NDArray]:
        """The parameter arrays by name (the arrays themselves, not copies)."""
        return {name: getattr(self, name) for name in self.param_names}

    @property
    def grads(self) -> dict[str, NDArray | None]:
        """The parameter gradients of the last ``backward``, by parameter name (``None`` before one)."""
        return {name: getattr(self, "d" + name) for name in self.param_names}

    def _not_forwarded(self) -> RuntimeError:
        return RuntimeError(f"{type(self).__name__}.backward called before forward")

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _sum_to_shape(grad: Any, shape: tuple[int, ...]) -> Any:
    """Undo broadcasting: sum ``grad`` over the axes along which an input of ``shape`` was stretched."""
    if np.shape(grad) == shape:
        return grad
    grad = np.asarray(grad)
    leading = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(leading))) if leading > 0 else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


class MulLayer(Layer):
    """Multiplication node ``out = x * y`` for scalars or (broadcastable) arrays.

    Shape: x, y scalars or arrays that broadcast together → out of the broadcast shape; backward(dout) → (dx, dy)
    in the shapes of x and y (a gradient along a stretched axis is summed back).

    The apple of figure 5-16: 2 apples at 100 each, then a tax of 1.1.

    >>> mul_apple, mul_tax = MulLayer(), MulLayer()
    >>> price = mul_tax.forward(mul_apple.forward(100, 2), 1.1)  # (100 × 2) × 1.1
    >>> round(price, 6)
    220.0
    >>> d_apple_price, d_tax = mul_tax.backward(1.0)  # each input gets dout times the other input
    >>> d_apple, d_apple_num = mul_apple.backward(d_apple_price)
    >>> round(d_apple, 6), round(d_apple_num, 6), round(d_tax, 6)
    (2.2, 110.0, 200.0)
    """

    def __init__(self) -> None:
        self.x: Any = None
        self.y: Any = None

    def forward(self, x: Any, y: Any) -> Any:
        self.x, self.y = x, y
        return x * y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        if self.x is None:
            raise self._not_forwarded()
        # d(x*y)/dx = y,  d(x*y)/dy = x: each input gets dout times the *other* input.
        dx = _sum_to_shape(dout * self.y, np.shape(self.x))
        dy = _sum_to_shape(dout * self.x, np.shape(self.y))
        return dx, dy


class AddLayer(Layer):
    """Addition node ``out = x + y`` for scalars or (broadcastable) arrays.

    Shape: x, y scalars or arrays that broadcast together → out of the broadcast shape; backward(dout) → (dx, dy)
    in the shapes of x and y (a gradient along a stretched axis is summed back).

    >>> add = AddLayer()
    >>> add.forward(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([10.0, 20.0]))  # y: (2,) stretched over 2 rows
    array([[11., 22.],
           [13., 24.]])
    >>> dx, dy = add.backward(np.ones((2, 2)))  # d(x+y)/dx = d(x+y)/dy = 1
    >>> dx.shape, dy  # dy is summed over the rows y was stretched along
    ((2, 2), array([2., 2.]))
    """

    def __init__(self) -> None:
        self.x_shape: tuple[int, ...] | None = None
        self.y_shape: tuple[int, ...] | None = None

    def forward(self, x: Any, y: Any) -> Any:
        self.x_shape, self.y_shape = np.shape(x), np.shape(y)
        return x + y

    def backward(self, dout: Any) -> tuple[Any, Any]:
        if self.x_shape is None:
            raise self._not_forwarded()
        # d(x+y)/dx = d(x+y)/dy = 1: the gradient passes through unchanged to both inputs.
        return _sum_to_shape(dout, self.x_shape), _sum_to_shape(dout, self.y_shape)


class Relu(Layer):
    """Rectified linear unit ``out = max(0, x)``.

    Shape: x (*) → out (*), the same shape and dtype; backward(dout (*)) → dx (*).

    >>> relu = Relu()
    >>> relu.forward(np.array([[1.0, -0.5], [-2.0, 3.0]]))
    array([[1., 0.],
           [0., 3.]])
    >>> relu.backward(np.full((2, 2), 5.0))  # the gradient passes where x > 0 and stops elsewhere
    array([[5., 0.],
           [0., 5.]])
    """

    def __init__(self) -> None:
        self.active: NDArray[np.bool_] | None = None  # True where x > 0: where the gradient passes

    @property
    def mask(self) -> NDArray[np.bool_] | None:
        """The book's mask, True where ``x <= 0`` (where the gradient is stopped)."""
        return None if self.active is None else ~self.active

    def forward(self, x: NDArray) -> NDArray:
        self.active = x > 0
        return np.maximum(x, 0)

    def backward(self, dout: NDArray) -> NDArray:
        if self.active is None:
            raise self._not_forwarded()
        # d max(0,x)/dx = 1 if x > 0 else 0.
        # NOTE: at exactly x = 0 the derivative is undefined; like the book we take 0 there (the subgradient the
        # mask gives). A finite-difference check straddling 0 sees 0.5 instead, so checks keep inputs off 0.
        # NOTE: a product makes a new array; the book's `dout[self.mask] = 0` overwrote the caller's gradient
        # (and a masked write or np.where is ~10x slower than this multiply on a random mask).
        return dout * self.active


class Sigmoid(Layer):
    """Logistic unit ``out = 1 / (1 + exp(-x))``.

    Shape: x (*) → out (*), the same shape and dtype; backward(dout (*)) → dx (*).

    >>> sig = Sigmoid()
    >>> sig.forward(np.array([0.0, 2.0]))
    array([0.5       , 0.88079708])
    >>> sig.backward(np.array([1.0, 1.0]))  # y (1 - y), from the y kept by forward
    array([0.25      , 0.10499359])
    """

    def __init__(self) -> None:
        self.out: NDArray | None = None

    def forward(self, x: NDArray) -> NDArray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: NDArray) -> NDArray:
        if self.out is None:
            raise self._not_forwarded()
        # d sigmoid(x)/dx = y * (1 - y), with y = sigmoid(x) kept from forward.
        return dout * (1.0 - self.out) * self.out


class Affine(Layer):
    """Fully connected layer ``out = x @ W + b``.

    Shape: x (N, D) or (N, d1, d2, ...) → out (N, M); W (D, M), b (M,); backward(dout (N, M)) → dx in x's shape,
    with dW (D, M) and db (M,) kept on the layer.

    W: ``(D, M)``, b: ``(M,)``. x: ``(N, D)`` or ``(N, d1, d2, ...)`` with ``d1*d2*... = D`` (images
    ``(N, 1, 28, 28)`` for instance), flattened for the product; out: ``(N, M)``. ``backward`` returns ``dx`` in
    ``x``'s original shape and leaves ``dW: (D, M)`` and ``db: (M,)``. The layer uses ``W`` and ``b`` themselves,
    not copies, so updating them in place (``W -= lr * dW``) trains it.

    >>> affine = Affine(np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]]), np.array([0.5, 0.5, 0.5]))  # D = 2 → M = 3
    >>> affine.forward(np.array([[1.0, 2.0]]))  # x: (N, D) = (1, 2)
    array([[1.5, 2.5, 4.5]])
    >>> affine.backward(np.array([[1.0, 1.0, 1.0]]))  # dx = dout Wᵀ
    array([[3., 2.]])
    >>> affine.dW  # xᵀ dout
    array([[1., 1., 1.],
           [2., 2., 2.]])
    >>> affine.db  # dout summed over the batch
    array([1., 1., 1.])
    """

    param_names = ("W", "b")

    def __init__(self, W: NDArray, b: NDArray) -> None:  # noqa: N803 (the book's names)
        if not isinstance(W, np.ndarray) or W.ndim != 2 or W.dtype.kind != "f":
            raise ValueError(f"Affine needs W as a 2-D floating array (D, M), got {_describe(W)}")
        if not isinstance(b, np.ndarray) or b.shape != (W.shape[1],) or b.dtype.kind != "f":
            raise ValueError(f"Affine needs b as a floating array of shape ({W.shape[1]},), got {_describe(b)}")
        self.W, self.b = W, b
        self.x: NDArray | None = None  # the flattened input (N, D), kept for dW
        self.original_x_shape: tuple[int, ...] | None = None
        self.dW: NDArray | None = None
        self.db: NDArray | None = None

    @property
    def in_features(self) -> int:
        return self.W.shape[0]

    @property
    def out_features(self) -> int:
        return self.W.shape[1]

    def forward(self, x: NDArray) -> NDArray:
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
        try:
            out = x @ self.W
        except ValueError:
            raise ValueError(
                f"Affine expects x with {self.in_features} features per sample, shaped (N, {self.in_features})"
                f" or (N, ...) with {self.in_features} elements after N; got {self.original_x_shape!r}"
            ) from None
        self.x = x
        out += self.b
        return out

    def backward(self, dout: NDArray, need_dx: bool = True) -> NDArray | None:
        """dout: ``(N, M)``; returns dx in ``x``'s shape, or ``None`` with ``need_dx=False``.

        Shape: dout (N, M) → dx (N, D) or x's original (N, d1, d2, ...); sets dW (D, M) and db (M,).

        A net's first layer passes ``need_dx=False``: nothing needs the gradient of the input images, and
        ``dout W^T`` is a third of the layer's arithmetic.
        """
        if self.x is None:
            raise self._not_forwarded()
        # out = x W + b  =>  dL/dx = dout W^T,  dL/dW = x^T dout,  dL/db = sum of dout over the batch.
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        if not need_dx:
            return None
        return (dout @ self.W.T).reshape(self.original_x_shape)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, dtype={self.W.dtype}"


class SoftmaxWithLoss(Layer):
    """Softmax followed by the mean cross-entropy loss, the last layer of the chapter's nets.

    Shape: x (N, C) or (C,), t (N,) integer labels or (N, C) one-hot → loss, a float; backward(dout=1.0) → dx of
    x's shape.

    forward(x, t) -> loss: x ``(N, C)`` logits (or one sample ``(C,)``); t integer labels ``(N,)`` or one-hot
    ``(N, C)``. The loss ``mean(logsumexp(x) - x[t])`` is computed from the logits, so it is exact (no ``1e-7``
    inside a log). backward(dout=1) -> ``dout * (softmax(x) - onehot(t)) / N``, of ``x``'s shape and dtype.

    >>> layer = SoftmaxWithLoss()
    >>> x = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])  # logits (N, C) = (2, 3)
    >>> round(layer.forward(x, np.array([0, 2])), 4)  # mean of -log softmax(x)[n, t_n]
    0.7531
    >>> layer.backward().round(4)  # (softmax(x) - onehot(t)) / N
    array([[-0.1674,  0.1224,  0.045 ],
           [ 0.1667,  0.1667, -0.3333]])
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: NDArray | None = None  # softmax(x), (N, C)
        self.t: NDArray | None = None  # the labels as given
        self._labels: NDArray | None = None  # integer labels (N,), or None for one-hot t
        self._x_shape: tuple[int, ...] | None = None

    def forward(self, x: NDArray, t: ArrayLike) -> float:
        t = np.asarray(t)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        self._x_shape = x.shape
        if x.ndim == 1:  # one sample
            x = x.reshape(1, -1)
            t = t.reshape(1, -1) if t.size == x.size and t.size > 1 else t.reshape(1)
        if x.ndim != 2:
            raise ValueError(f"SoftmaxWithLoss expects logits of shape (N, C), got {x.shape!r}")
        n, c = x.shape
        one_hot = t.shape == x.shape
        if not one_hot and t.shape != (n,):
            raise ValueError(
                f"SoftmaxWithLoss: labels must be integers (N,) = ({n},) or one-hot (N, C) = {x.shape!r}, "
                f"got shape {t.shape!r}"
            )
        self.t = t
        self._labels = None if one_hot else _as_label_indices(t, c, "SoftmaxWithLoss")

        # NOTE: the arithmetic runs on the transposed logits zt: (C, N). NumPy reduces and broadcasts along a
        # long contiguous batch axis several times faster than along 10 classes per row (measured: the row max
        # of a (100, 10) array costs 4x that of its (10, 100) transpose), and the result is the same.
        zt = x.T.copy()  # a copy even when x.T is contiguous already (N = 1): x itself stays untouched
        zt -= zt.max(axis=0)  # shift each sample: softmax and the loss are unchanged, exp cannot overflow
        # loss = mean over samples of  -sum_k t_k log y_k,  with  log y_k = z_k - log s,  s = sum_k exp(z_k)
        if one_hot:
            label_term = float(np.vdot(t.T, zt))  # taken before zt turns into y
        else:
            label_term = float(zt[self._labels, np.arange(n)].sum())
        np.exp(zt, out=zt)
        s = zt.sum(axis=0)
        zt /= s
        self.y = zt.T  # (N, C), a view of the transposed buffer
        log_s = np.log(s)
        log_s_term = float(np.dot(log_s, t.sum(axis=1))) if one_hot else float(log_s.sum())
        self.loss = (log_s_term - label_term) / n
        return self.loss

    def backward(self, dout: float = 1.0) -> NDArray:
        if self.y is None:
            raise self._not_forwarded()
        n = self.y.shape[0]
        # dL/dx = (y - t) / N: softmax and cross-entropy together have this simple local derivative.
        # NOTE: the division by the batch size is here because the loss is a batch *mean*.
        if self._labels is None:
            dx = np.subtract(self.y, self.t, dtype=self.y.dtype)
        else:
            dx = self.y.copy(order="K")  # keeps the transposed layout: no reordering copy
            dx[np.arange(n), self._labels] -= 1
        dx *= dout / n
        return dx.reshape(self._x_shape)


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape!r} and dtype {a.dtype}"
    return f"{type(a).__name__}"
