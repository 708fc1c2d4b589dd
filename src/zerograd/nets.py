"""The chapter's networks: ``TwoLayerNet`` and its generalisation to any depth, ``MultiLayerNet``.

A net is an ordered dict of layers (``Affine1, Relu1, Affine2, ...``) ending in ``SoftmaxWithLoss``.
``params`` holds the weights by name (``W1, b1, W2, b2, ...``) and the layers hold *the same arrays*, so the
chapter's in-place update ``net.params[key] -= lr * grads[key]`` trains the net.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .gradcheck import numerical_gradient
from .layers import Affine, Layer, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["MultiLayerNet", "TwoLayerNet", "net_from_config"]

ACTIVATIONS: dict[str, type[Layer]] = {"relu": Relu, "sigmoid": Sigmoid}
# Named initial scales: He (sqrt(2/n), suits ReLU) and Xavier (sqrt(1/n), suits sigmoid), with the book's
# aliases "relu" and "sigmoid".
INIT_SCALES = {"he": 2.0, "relu": 2.0, "xavier": 1.0, "sigmoid": 1.0}


class NormalSource(Protocol):
    """Anything that draws standard normals: a ``np.random.Generator``, or the ``np.random`` module itself."""

    def standard_normal(self, size: Any = ...) -> Any: ...


class MultiLayerNet:
    """Fully connected net ``Affine → act → ... → Affine → SoftmaxWithLoss`` of any depth.

    Shape: x (N, D) or (N, ...) with D elements per sample, t (N,) or (N, C) → predict (N, C) logits, loss a
    float, gradient ``{"W1": (D, H1), "b1": (H1,), ..., "Wk": (Hk-1, C), "bk": (C,)}``.

    input_size: features per sample ``D`` (784 for MNIST); hidden_size_list: the hidden widths, e.g. ``[100, 100]``;
    output_size: classes ``C``. activation: ``"relu"`` or ``"sigmoid"``. weight_init_std: a number (the standard
    deviation of every weight, 0.01 in the book's TwoLayerNet) or ``"he"``/``"relu"`` (``sqrt(2/n_in)``) or
    ``"xavier"``/``"sigmoid"`` (``sqrt(1/n_in)``). weight_decay_lambda: L2 penalty ``λ/2 · Σ‖W‖²`` added to the
    loss (and ``λW`` to each weight gradient). dtype: of every parameter and computation (float64 as in the book,
    float32 for speed). rng: a ``np.random.Generator``, a seed, or ``None`` for a fresh one.

    Inputs ``x``: ``(N, D)`` or ``(N, ...)`` with ``D`` elements per sample; labels ``t``: integers ``(N,)`` or
    one-hot ``(N, C)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = 0.01,
        weight_decay_lambda: float = 0.0,
        dtype: DTypeLike = np.float64,
        rng: np.random.Generator | int | NormalSource | None = None,
    ) -> None:
        name = type(self).__name__
        sizes = [input_size, *hidden_size_list, output_size]
        if any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1 for s in sizes):
            raise ValueError(f"{name}: layer sizes must be positive integers, got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"{name}: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if isinstance(weight_init_std, str) and weight_init_std.lower() not in INIT_SCALES:
            raise ValueError(
                f"{name}: weight_init_std must be a number or one of {sorted(INIT_SCALES)}, got {weight_init_std!r}"
            )
        if not isinstance(weight_init_std, str) and not weight_init_std > 0:
            raise ValueError(f"{name}: weight_init_std must be positive, got {weight_init_std!r}")
        if not weight_decay_lambda >= 0:
            raise ValueError(f"{name}: weight_decay_lambda must be >= 0, got {weight_decay_lambda!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"{name}: dtype must be a floating type such as float32 or float64, got {self.dtype}")

        self.input_size = int(input_size)
        self.hidden_size_list = [int(s) for s in hidden_size_list]
        self.output_size = int(output_size)
        self.activation = activation
        self.weight_init_std = weight_init_std.lower() if isinstance(weight_init_std, str) else weight_init_std
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.hidden_layer_num = len(self.hidden_size_list)

        if rng is None or isinstance(rng, (int, np.integer)):
            rng = np.random.default_rng(rng)
        self.params: dict[str, NDArray] = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
            scale = self._init_scale(n_in)
            self.params[f"W{i}"] = (scale * rng.standard_normal((n_in, n_out))).astype(self.dtype)
            self.params[f"b{i}"] = np.zeros(n_out, dtype=self.dtype)
        self._build_layers()

    def _init_scale(self, n_in: int) -> float:
        if isinstance(self.weight_init_std, str):
            return float(np.sqrt(INIT_SCALES[self.weight_init_std] / n_in))
        return float(self.weight_init_std)

    def _build_layers(self) -> None:
        act = ACTIVATIONS[self.activation]
        self.layers: OrderedDict[str, Layer] = OrderedDict()
        n_affine = self.hidden_layer_num + 1
        for i in range(1, n_affine + 1):
            self.layers[f"Affine{i}"] = Affine(self.params[f"W{i}"], self.params[f"b{i}"])
            if i < n_affine:
                self.layers[f"{act.__name__}{i}"] = act()
        self.last_layer = SoftmaxWithLoss()

    # -- the chapter's interface -------------------------------------------------------------------------------

    def predict(self, x: ArrayLike) -> NDArray:
        """Logits (scores before softmax) ``(N, C)`` for x ``(N, D)``.

        Shape: x (N, D) or (N, ...) → (N, C).
        """
        x = self._check_input(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: ArrayLike, t: ArrayLike) -> float:
        """Mean cross-entropy of the predictions, plus the L2 penalty ``λ/2 · Σ‖W‖²`` when ``λ > 0``.

        Shape: x (N, D), t (N,) or (N, C) → a float.
        """
        y = self.predict(x)
        return self.last_layer.forward(y, t) + self._weight_decay()

    def _weight_decay(self) -> float:
        if self.weight_decay_lambda == 0:
            return 0.0
        squares = sum(float(np.sum(np.square(self.params[f"W{i}"]))) for i in range(1, self.hidden_layer_num + 2))
        return 0.5 * self.weight_decay_lambda * squares

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int | None = None) -> float:
        """Fraction of samples whose largest logit is the label. ``batch_size`` bounds memory on large sets.

        Shape: x (N, D), t (N,) or (N, C) → a float in [0, 1].
        """
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        x = np.asarray(x)
        if len(x) != len(t):
            raise ValueError(f"{type(self).__name__}.accuracy: {len(x)} samples but {len(t)} labels")
        if len(x) == 0:
            raise ValueError(f"{type(self).__name__}.accuracy: no samples")
        step = batch_size or len(x)
        correct = 0
        for start in range(0, len(x), step):
            y = self.predict(x[start : start + step])
            correct += int(np.sum(np.argmax(y, axis=1) == t[start : start + step]))
        return correct / len(x)

    def gradient(self, x: ArrayLike, t: ArrayLike) -> dict[str, NDArray]:
        """Gradients of ``loss(x, t)`` for every parameter by backpropagation: ``{"W1": dW1, "b1": db1, ...}``.

        Shape: x (N, D), t (N,) or (N, C) → a dict with one array per parameter, each of its parameter's shape.
        """
        self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        first, *rest = self.layers.values()
        for layer in reversed(rest):
            dout = layer.backward(dout)
        first.backward(dout, need_dx=False)  # the input needs no gradient: skip its dx
        grads = {}
        lam = self.weight_decay_lambda
        for i in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{i}"]
            grads[f"W{i}"] = affine.dW + lam * affine.W if lam else affine.dW
            grads[f"b{i}"] = affine.db
        return grads

    def numerical_gradient(self, x: ArrayLike, t: ArrayLike, h: float = 1e-4) -> dict[str, NDArray]:
        """The same gradients by central differences (slow: two forward passes per parameter element).

        Shape: x (N, D), t (N,) or (N, C) → a dict with one array per parameter, each of its parameter's shape.
        """
        return {key: numerical_gradient(lambda _: self.loss(x, t), param, h=h) for key, param in self.params.items()}

    # -- beyond the book ---------------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this architecture (JSON-serialisable)."""
        return {
            "class": "MultiLayerNet",
            "input_size": self.input_size,
            "hidden_size_list": list(self.hidden_size_list),
            "output_size": self.output_size,
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "weight_decay_lambda": self.weight_decay_lambda,
            "dtype": self.dtype.name,
        }

    def astype(self, dtype: DTypeLike) -> MultiLayerNet:
        """A copy of this net whose parameters and computations use ``dtype``."""
        clone = MultiLayerNet.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.dtype = np.dtype(dtype)
        clone.params = {key: value.astype(clone.dtype, copy=True) for key, value in self.params.items()}
        clone._build_layers()
        return clone

    def _check_input(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        features = math.prod(x.shape[1:]) if x.ndim >= 2 else -1
        if features != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects x of shape (N, {self.input_size}) (or (N, ...) with "
                f"{self.input_size} elements per sample), got {x.shape!r}"
                + ("; for one sample use x[None]" if x.ndim == 1 and x.size == self.input_size else "")
            )
        if x.dtype != self.dtype:
            if x.dtype.kind not in "fiub":
                raise TypeError(f"{type(self).__name__} expects numeric input, got dtype {x.dtype}")
            x = x.astype(self.dtype)
        return x

    def __repr__(self) -> str:
        sizes = " → ".join(str(s) for s in [self.input_size, *self.hidden_size_list, self.output_size])
        return f"{type(self).__name__}({sizes}, activation={self.activation}, dtype={self.dtype.name})"


class TwoLayerNet(MultiLayerNet):
    """The chapter's ``Affine1 → Relu1 → Affine2 → SoftmaxWithLoss``.

    Shape: x (N, D), t (N,) or (N, C) → predict (N, C), loss a float, gradient
    ``{"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}``.

    input_size ``D`` → hidden_size ``H`` → output_size ``C``; weights drawn with standard deviation
    ``weight_init_std`` (0.01, as in the book), biases zero. Parameters ``W1: (D, H)``, ``b1: (H,)``,
    ``W2: (H, C)``, ``b2: (C,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float | str = 0.01,
        dtype: DTypeLike = np.float64,
        rng: np.random.Generator | int | NormalSource | None = None,
    ) -> None:
        super().__init__(
            input_size, [hidden_size], output_size, activation="relu", weight_init_std=weight_init_std,
            dtype=dtype, rng=rng,
        )

    def config(self) -> dict[str, Any]:
        return {
            "class": "TwoLayerNet",
            "input_size": self.input_size,
            "hidden_size": self.hidden_size_list[0],
            "output_size": self.output_size,
            "weight_init_std": self.weight_init_std,
            "dtype": self.dtype.name,
        }


NET_CLASSES: dict[str, type[MultiLayerNet]] = {"MultiLayerNet": MultiLayerNet, "TwoLayerNet": TwoLayerNet}


def net_from_config(config: dict[str, Any], rng: np.random.Generator | int | None = None) -> MultiLayerNet:
    """A freshly initialised net of the architecture ``config`` describes (the dict ``net.config()`` returns)."""
    config = dict(config)
    name = config.pop("class", None)
    if name not in NET_CLASSES:
        raise ValueError(f"unknown net class {name!r} in config; expected one of {sorted(NET_CLASSES)}")
    try:
        return NET_CLASSES[name](**config, rng=rng)
    except TypeError as err:
        raise ValueError(f"config does not describe a {name}: {err}") from None
