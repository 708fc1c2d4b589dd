"""The layers of chapter 5: each node of the computational graph with its ``forward`` and ``backward``.

A layer remembers what its backward pass needs during ``forward`` and returns ``dL/dinput`` from ``backward``,
given ``dout = dL/doutput``. Local derivatives are written beside each backward. No layer writes into the arrays
it is given, and every layer keeps the floating dtype of its input (float32 in, float32 out).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .engine.parallel import elementwise, matmul
from .functions import _as_label_indices, sigmoid

__all__ = [
    "LAYER_TYPES",
    "Affine",
    "AddLayer",
    "BatchNorm",
    "BatchNormalization",
    "Dropout",
    "Layer",
    "MulLayer",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "layer_from_spec",
    "register_layer",
]

# Layer classes by name, for rebuilding a net from the layer specs in a checkpoint's header.
LAYER_TYPES: dict[str, type[Layer]] = {}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make ``cls`` rebuildable from its ``spec()`` (``layer_from_spec``, checkpoints)."""
    LAYER_TYPES[cls.__name__] = cls
    return cls


def layer_from_spec(spec: dict[str, Any], dtype: DTypeLike = np.float64) -> Layer:
    """A layer of the kind and size ``spec`` describes (``layer.spec()``), its arrays zero until loaded."""
    if not isinstance(spec, dict) or spec.get("type") not in LAYER_TYPES:
        kind = spec.get("type") if isinstance(spec, dict) else spec
        raise ValueError(f"unknown layer type {kind!r}; zerograd can rebuild {sorted(LAYER_TYPES)}")
    return LAYER_TYPES[spec["type"]].from_spec(spec, dtype)


class Layer:
    """Base of every layer: ``forward(*inputs) -> out`` and ``backward(dout) -> d_inputs``.

    A layer with parameters lists their attribute names in ``param_names``; after ``backward`` the gradient of
    parameter ``W`` is the attribute ``dW`` (the book's convention), and ``params`` / ``grads`` gather them.
    What a net (``zerograd.nets.Sequential``) reads from a layer class:

    - ``buffer_names``: arrays that are state but not trained (BatchNorm's running statistics), saved in checkpoints;
    - ``weight_decay_names``: the parameters an L2 penalty applies to (``("W",)`` for Affine: weights, not biases);
    - ``mode_dependent``: ``forward(x, train_flg)`` behaves differently while training (Dropout, BatchNorm);
    - ``samplewise``: each sample's output depends on that sample alone (so a batched gradient check may stack
      perturbed copies of a batch along the batch axis; BatchNorm mixes samples, Dropout draws per-sample masks);
    - ``name_prefix``: the layer's name in a net is this and a count (``Affine1``, ``BatchNorm2``);
    - ``spec()`` / ``from_spec()``: a JSON description without the arrays, and a layer rebuilt from it.
    """

    param_names: tuple[str, ...] = ()
    buffer_names: tuple[str, ...] = ()
    weight_decay_names: tuple[str, ...] = ()
    mode_dependent: bool = False
    samplewise: bool = True
    is_loss: bool = False  # True for a loss layer, forward(x, t) -> scalar: it ends a net
    name_prefix: str | None = None  # None: the class name

    def spec(self) -> dict[str, Any] | None:
        """What rebuilds this layer, as JSON (``{"type": "Relu"}``); ``None`` when it cannot be rebuilt by name."""
        if type(self).__name__ not in LAYER_TYPES:
            return None
        return {"type": type(self).__name__}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], dtype: DTypeLike = np.float64) -> Layer:
        """The layer ``spec()`` described (parameters zero until loaded)."""
        return cls()

    def infer(self, x: Any) -> Any:
        """The inference-mode output for ``x`` (running statistics, no dropout), keeping nothing for
        ``backward``: what a net's evaluation walks through. This default runs ``forward`` in inference mode;
        layers whose ``forward`` stores arrays for backward override it with the same arithmetic, unstored."""
        layer: Any = self  # every concrete layer has a forward; Layer itself declares no signature for it
        return layer.forward(x, False) if self.mode_dependent else layer.forward(x)

    def hold_mask(self, hold: bool) -> None:
        """Reuse the last random draw on the following forward passes (Dropout); nothing for other layers.

        A gradient check perturbs the input many times and must see the same function each time.
        """

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
        if self.x_shape is None or self.y_shape is None:
            raise self._not_forwarded()
        # d(x+y)/dx = d(x+y)/dy = 1: the gradient passes through unchanged to both inputs.
        return _sum_to_shape(dout, self.x_shape), _sum_to_shape(dout, self.y_shape)


@register_layer
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
        # NOTE: elementwise(np.greater, x, 0) is `x > 0`, with arrays of half a million elements or more split over
        # the cores while a training step holds BLAS to one thread (zerograd.engine.parallel): (100, 30, 24, 24)
        # activations take 0.95 ms instead of 1.46 on 2 cores. Smaller ones run as they are.
        self.active = elementwise(np.greater, x, 0)
        return elementwise(np.maximum, x, 0)

    def infer(self, x: NDArray) -> NDArray:
        return elementwise(np.maximum, x, 0)  # no mask: a pass over x saved

    def backward(self, dout: NDArray) -> NDArray:
        if self.active is None:
            raise self._not_forwarded()
        # d max(0,x)/dx = 1 if x > 0 else 0.
        # NOTE: at exactly x = 0 the derivative is undefined; like the book we take 0 there (the subgradient the
        # mask gives). A finite-difference check straddling 0 sees 0.5 instead, so checks keep inputs off 0.
        # NOTE: a product makes a new array; the book's `dout[self.mask] = 0` overwrote the caller's gradient
        # (and a masked write or np.where is ~10x slower than this multiply on a random mask).
        return elementwise(np.multiply, dout, self.active)


@register_layer
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

    def infer(self, x: NDArray) -> NDArray:
        return sigmoid(x)

    def backward(self, dout: NDArray) -> NDArray:
        if self.out is None:
            raise self._not_forwarded()
        # d sigmoid(x)/dx = y * (1 - y), with y = sigmoid(x) kept from forward.
        return dout * (1.0 - self.out) * self.out


@register_layer
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
    weight_decay_names = ("W",)

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

    @classmethod
    def new(
        cls,
        in_features: int,
        out_features: int,
        init: float | str = "he",
        rng: np.random.Generator | int | None = None,
        dtype: DTypeLike = np.float64,
    ) -> Affine:
        """A fresh layer: ``W`` normal with standard deviation ``init`` (a number) or ``sqrt(2/in_features)``
        (``"he"``, for ReLU) or ``sqrt(1/in_features)`` (``"xavier"``, for sigmoid); ``b`` zero."""
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Affine.new: {name} must be a positive integer, got {n!r}")
        scale = init_scale(init, in_features, "Affine.new")
        gen: Any = rng if hasattr(rng, "standard_normal") else np.random.default_rng(rng)
        W = (scale * gen.standard_normal((in_features, out_features))).astype(dtype)  # noqa: N806
        return cls(W, np.zeros(out_features, dtype=W.dtype))

    def spec(self) -> dict[str, Any]:
        return {"type": "Affine", "in_features": self.in_features, "out_features": self.out_features}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], dtype: DTypeLike = np.float64) -> Affine:
        d, m = _positive_ints(spec, ("in_features", "out_features"))
        return cls(np.zeros((d, m), dtype=dtype), np.zeros(m, dtype=dtype))

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
            # x @ W + b. NOTE: while a training step holds BLAS to one thread (a convolutional net's), matmul
            # splits a large product into blocks of rows on the cores (zerograd.engine.parallel): SimpleConvNet's
            # (100, 4320) @ (4320, 100) 0.80 → 0.72 ms. Otherwise, and for small products, it is just x @ W + b.
            out = matmul(x, self.W, add=self.b)
        except ValueError:
            raise ValueError(
                f"Affine expects x with {self.in_features} features per sample, shaped (N, {self.in_features})"
                f" or (N, ...) with {self.in_features} elements after N; got {self.original_x_shape!r}"
            ) from None
        self.x = x
        return out

    def infer(self, x: NDArray) -> NDArray:
        """``forward``'s ``x @ W + b`` (the same call, so the same bits), without keeping x for dW."""
        flat = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
        if flat.shape[1] != self.in_features:
            return self.forward(x)  # forward's own error message
        return matmul(flat, self.W, add=self.b)

    def backward(self, dout: NDArray, need_dx: bool = True) -> NDArray | None:
        """dout: ``(N, M)``; returns dx in ``x``'s shape, or ``None`` with ``need_dx=False``.

        Shape: dout (N, M) → dx (N, D) or x's original (N, d1, d2, ...); sets dW (D, M) and db (M,).

        A net's first layer passes ``need_dx=False``: nothing needs the gradient of the input images, and
        ``dout W^T`` is a third of the layer's arithmetic.
        """
        if self.x is None:
            raise self._not_forwarded()
        # out = x W + b  =>  dL/dx = dout W^T,  dL/dW = x^T dout,  dL/db = sum of dout over the batch.
        self.dW = matmul(self.x.T, dout)
        self.db = dout.sum(axis=0)
        if not need_dx:
            return None
        return matmul(dout, self.W.T).reshape(self.original_x_shape)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, dtype={self.W.dtype}"


@register_layer
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

    is_loss = True  # a net's last layer: forward(x, t) -> scalar

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: NDArray | None = None  # softmax(x), (N, C)
        self.t: NDArray | None = None  # the labels as given
        self._labels: NDArray | None = None  # integer labels (N,), or None for one-hot t
        # where each sample's label logit lies in the flattened (C, N) buffer below: row t_n, column n
        self._label_at: NDArray[np.intp] | None = None
        self._columns = np.arange(0)  # 0, 1, ..., N-1, kept between batches of the same size
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
        self._labels = labels = None if one_hot else _as_label_indices(t, c, "SoftmaxWithLoss")
        if labels is not None:
            if len(self._columns) != n:
                self._columns = np.arange(n)
            self._label_at = labels.astype(np.intp) * n + self._columns

        # NOTE: the arithmetic runs on the transposed logits zt: (C, N). NumPy reduces and broadcasts along a
        # long contiguous batch axis several times faster than along 10 classes per row (measured: the row max
        # of a (100, 10) array costs 4x that of its (10, 100) transpose), and the result is the same.
        zt = x.T.copy()  # a copy even when x.T is contiguous already (N = 1): x itself stays untouched
        zt -= zt.max(axis=0)  # shift each sample: softmax and the loss are unchanged, exp cannot overflow
        # loss = mean over samples of  -sum_k t_k log y_k,  with  log y_k = z_k - log s,  s = sum_k exp(z_k)
        if one_hot:
            label_term = float(np.vdot(t.T, zt))  # taken before zt turns into y
        else:
            label_term = float(zt.reshape(-1)[self._label_at].sum())  # the logits z[n, t_n]
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
            assert self.t is not None  # set by forward, with y
            dx = np.subtract(self.y, self.t, dtype=self.y.dtype)
            dx *= dout / n
            return dx.reshape(self._x_shape)
        dxt = self.y.T.copy()  # (C, N), the transposed layout of forward
        dxt.reshape(-1)[self._label_at] -= 1  # y - onehot(t): 1 off each sample's label entry
        dxt *= dout / n
        return dxt.T.reshape(self._x_shape)


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape!r} and dtype {a.dtype}"
    return f"{type(a).__name__}"


@register_layer
class BatchNormalization(Layer):
    """Batch normalization (chapter 6.3): ``out = gamma * (x - mean) / sqrt(var + eps) + beta``, per feature.

    Shape: x ``(N, D)`` → ``(N, D)``; ``(N, C, H, W)`` is normalised as the book does, per each of the
    ``C*H*W`` features (flattened to ``(N, C*H*W)``), and returned in its own shape.
    gamma, beta: ``(D,)`` arrays, or ``gamma`` the feature count ``D`` for ones and zeros
    (``BatchNormalization(100)``). While training (``train_flg=True``) mean and (biased) variance are the batch's,
    and the running statistics move towards them: ``running = momentum * running + (1 - momentum) * batch``
    (momentum 0.9, as the book). At inference the running statistics are used.
    """

    param_names = ("gamma", "beta")
    buffer_names = ("running_mean", "running_var")
    mode_dependent = True
    samplewise = False  # a training batch's statistics mix its samples
    name_prefix = "BatchNorm"

    def __init__(
        self,
        gamma: NDArray | int,
        beta: NDArray | None = None,
        momentum: float = 0.9,
        running_mean: NDArray | None = None,
        running_var: NDArray | None = None,
        eps: float = 1e-6,
        dtype: DTypeLike = np.float64,
    ) -> None:
        if isinstance(gamma, (int, np.integer)) and not isinstance(gamma, bool):
            if gamma < 1:
                raise ValueError(f"BatchNormalization needs a positive feature count, got {gamma}")
            gamma = np.ones(int(gamma), dtype=dtype)
        if not isinstance(gamma, np.ndarray) or gamma.ndim != 1 or gamma.dtype.kind != "f":
            raise ValueError(f"BatchNormalization needs gamma as a 1-D floating array (D,), got {_describe(gamma)}")
        beta = np.zeros_like(gamma) if beta is None else beta
        if not isinstance(beta, np.ndarray) or beta.shape != gamma.shape or beta.dtype.kind != "f":
            raise ValueError(f"BatchNormalization needs beta of gamma's shape {gamma.shape!r}, got {_describe(beta)}")
        if not 0 <= momentum < 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1), got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"BatchNormalization: eps must be positive, got {eps!r}")
        self.gamma, self.beta = gamma, beta
        self.momentum, self.eps = float(momentum), float(eps)
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.zeros_like(gamma) if running_var is None else running_var
        # NOTE: running_var starts at 0 as in the book, so a net evaluated before any training step divides by
        # sqrt(eps): it is not trained yet either way.
        self.xn: NDArray | None = None  # normalised input (N, D)
        self.std: NDArray | None = None  # sqrt(var + eps) used by the last forward, (D,)
        self.train_flg: bool | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.dgamma: NDArray | None = None
        self.dbeta: NDArray | None = None

    @property
    def features(self) -> int:
        return self.gamma.shape[0]

    def forward(self, x: NDArray, train_flg: bool | None = None) -> NDArray:
        if train_flg is None:
            raise ValueError(
                "BatchNormalization.forward needs train_flg=True (batch statistics, training) or "
                "False (running statistics, inference)"
            )
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
        if x.shape[1] != self.features:
            raise ValueError(
                f"BatchNormalization expects x with {self.features} features per sample (N, "
                f"{self.features}), got {self.input_shape!r}"
            )
        if train_flg:
            mean = x.mean(axis=0)
            xc = x - mean
            var = np.mean(xc * xc, axis=0)  # biased: divided by N, as the book
            self.running_mean *= self.momentum
            self.running_mean += (1 - self.momentum) * mean
            self.running_var *= self.momentum
            self.running_var += (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            var = self.running_var
        self.std = np.sqrt(var + self.eps).astype(x.dtype, copy=False)
        self.xn = xc / self.std
        self.train_flg = bool(train_flg)
        return (self.gamma * self.xn + self.beta).reshape(self.input_shape)

    def infer(self, x: NDArray) -> NDArray:
        """``forward(x, False)``'s arithmetic, step for step (the same bits), keeping neither xn nor std."""
        flat = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
        if flat.shape[1] != self.features:
            return self.forward(x, False)  # forward's own error message
        std = np.sqrt(self.running_var + self.eps).astype(flat.dtype, copy=False)
        return (self.gamma * ((flat - self.running_mean) / std) + self.beta).reshape(x.shape)

    def backward(self, dout: NDArray) -> NDArray:
        if self.xn is None:
            raise self._not_forwarded()
        dout = dout.reshape(dout.shape[0], -1) if dout.ndim != 2 else dout
        # out = gamma * xn + beta  =>  dbeta = sum of dout,  dgamma = sum of dout * xn,  dL/dxn = gamma * dout
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        if not self.train_flg:
            # inference: mean and std are constants, so xn = (x - mean) / std  =>  dx = dxn / std
            return (dxn / self.std).reshape(self.input_shape)
        # training: mean and var depend on every sample of the batch; through both,
        # dx = (dxn - mean(dxn) - xn * mean(dxn * xn)) / std
        # NOTE: the two means are the paths through the batch mean and variance that the book's step-by-step
        # backward (dxc, dstd, dvar, dmu) adds up one by one; this is the same sum, collected.
        n = dxn.shape[0]
        dx = dxn - dxn.sum(axis=0) / n - self.xn * (np.sum(dxn * self.xn, axis=0) / n)
        dx /= self.std
        return dx.reshape(self.input_shape)

    def spec(self) -> dict[str, Any]:
        return {"type": "BatchNormalization", "features": self.features, "momentum": self.momentum, "eps": self.eps}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], dtype: DTypeLike = np.float64) -> BatchNormalization:
        (d,) = _positive_ints(spec, ("features",))
        return cls(d, momentum=_number(spec, "momentum", 0.9), eps=_number(spec, "eps", 1e-6), dtype=dtype)

    def extra_repr(self) -> str:
        return f"features={self.features}, momentum={self.momentum:g}, dtype={self.gamma.dtype}"


BatchNorm = BatchNormalization


@register_layer
class Dropout(Layer):
    """Dropout (chapter 6.4.3): while training, each unit is kept with probability ``1 - dropout_ratio``.

    Shape: x any shape → the same shape and dtype. ``train_flg=True``: ``out = x * mask`` with a fresh random
    mask drawn from ``rng`` (a ``np.random.Generator``, a seed, or ``None``); ``train_flg=False``:
    ``out = x * (1 - dropout_ratio)``, the book's scaling (the expected value of the training output).
    """

    mode_dependent = True
    samplewise = False  # masks are drawn per sample: a stack of copies would draw different ones

    def __init__(self, dropout_ratio: float = 0.5, rng: Any = None) -> None:
        if isinstance(dropout_ratio, bool) or not isinstance(dropout_ratio, (int, float)) or not 0 <= dropout_ratio < 1:
            raise ValueError(f"Dropout: dropout_ratio must be in [0, 1), got {dropout_ratio!r}")
        self.dropout_ratio = float(dropout_ratio)
        self.rng: Any = rng if hasattr(rng, "random") else np.random.default_rng(rng)
        self.mask: NDArray[np.bool_] | None = None  # True where a unit is kept
        self.train_flg: bool | None = None
        self._hold = False

    def hold_mask(self, hold: bool) -> None:
        self._hold = bool(hold)

    def forward(self, x: NDArray, train_flg: bool | None = None) -> NDArray:
        if train_flg is None:
            raise ValueError("Dropout.forward needs train_flg=True (drop units, training) or False (scale, inference)")
        self.train_flg = bool(train_flg)
        if not train_flg:
            return self.infer(x)
        if not (self._hold and self.mask is not None and self.mask.shape == x.shape):
            self.mask = self.rng.random(x.shape) > self.dropout_ratio
        return x * self.mask

    def infer(self, x: NDArray) -> NDArray:
        return x * x.dtype.type(1.0 - self.dropout_ratio)  # the book's scaling: the training output's mean

    def backward(self, dout: NDArray) -> NDArray:
        if self.train_flg is None:
            raise self._not_forwarded()
        # out = x * mask  =>  dx = dout * mask (training);  out = x * (1 - r)  =>  dx = dout * (1 - r) (inference)
        if not self.train_flg:
            return dout * dout.dtype.type(1.0 - self.dropout_ratio)
        return dout * self.mask

    def spec(self) -> dict[str, Any]:
        return {"type": "Dropout", "dropout_ratio": self.dropout_ratio}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], dtype: DTypeLike = np.float64) -> Dropout:
        ratio = _number(spec, "dropout_ratio", 0.5)
        if not 0 <= ratio < 1:
            raise ValueError(f"Dropout spec: dropout_ratio must be in [0, 1), got {ratio!r}")
        return cls(ratio)

    def extra_repr(self) -> str:
        return f"dropout_ratio={self.dropout_ratio:g}"


# Named initial scales: He (sqrt(2/n), suits ReLU) and Xavier (sqrt(1/n), suits sigmoid), with the book's
# aliases "relu" and "sigmoid".
INIT_SCALES = {"he": 2.0, "relu": 2.0, "xavier": 1.0, "sigmoid": 1.0}


def init_scale(init: float | str, fan_in: int, who: str) -> float:
    """The standard deviation of initial weights: ``init`` itself, or ``sqrt(k / fan_in)`` for a named scale."""
    if isinstance(init, str):
        if init.lower() not in INIT_SCALES:
            raise ValueError(f"{who}: weight init must be a number or one of {sorted(INIT_SCALES)}, got {init!r}")
        return float(np.sqrt(INIT_SCALES[init.lower()] / fan_in))
    if isinstance(init, bool) or not isinstance(init, (int, float, np.floating)) or not (0 < init < np.inf):
        raise ValueError(f"{who}: weight init std must be a positive finite number, got {init!r}")
    return float(init)


def _positive_ints(spec: dict[str, Any], names: tuple[str, ...]) -> list[int]:
    values = []
    for name in names:
        value = spec.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1 << 24:
            raise ValueError(f"{spec.get('type')} spec: {name} must be a positive integer, got {value!r}")
        values.append(value)
    return values


def _number(spec: dict[str, Any], name: str, default: float) -> float:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{spec.get('type')} spec: {name} must be a finite number, got {value!r}")
    return float(value)
