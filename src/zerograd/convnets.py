"""The convolutional nets of chapters 7 and 8, as ``Sequential`` builders: ``SimpleConvNet`` and ``DeepConvNet``.

Both take images ``x: (N, C, H, W)`` (or the same images flattened, ``(N, C*H*W)``, as the datasets load them:
reshaped, not copied) and give logits ``(N, output_size)``. Parameter names are the book's: ``W1..W3, b1..b3``
for SimpleConvNet, ``W1..W8, b1..b8`` for DeepConvNet (the convolutions first, then the Affine layers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .convolution import Convolution, Pooling, _output_shape
from .layers import Affine, Dropout, Layer, Relu, init_scale
from .nets import Sequential, _child_generator, _generator, register_net

__all__ = ["DeepConvNet", "SimpleConvNet"]

SIMPLE_CONV_PARAM = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}
# DeepConvNet's six 3x3 convolutions (the book's defaults); the fourth pads by 2 so that 14x14 becomes 16x16 and
# the three 2x2 poolings tile: 28 → 14 → 8 → 4.
DEEP_CONV_PARAMS = (
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
)


def _conv_param(param: Mapping[str, Any], name: str) -> dict[str, int]:
    """``{"filter_num", "filter_size", "pad", "stride"}`` as ints (pad 0 and stride 1 when missing)."""
    if not isinstance(param, Mapping) or not {"filter_num", "filter_size"} <= set(param):
        raise ValueError(
            f"{name}: a conv_param needs filter_num and filter_size (and optionally pad, stride), got {param!r}"
        )
    out = {
        "filter_num": param["filter_num"],
        "filter_size": param["filter_size"],
        "pad": param.get("pad", 0),
        "stride": param.get("stride", 1),
    }
    for key, value in out.items():
        low = 0 if key == "pad" else 1
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}: conv_param {key} must be an integer >= {low}, got {value!r}")
    return {key: int(value) for key, value in out.items()}


def _input_dim(input_dim: Sequence[int], name: str) -> tuple[int, int, int]:
    dims = tuple(input_dim) if isinstance(input_dim, (list, tuple)) else ()
    if len(dims) != 3 or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims):
        raise ValueError(f"{name}: input_dim must be (C, H, W), three positive integers, got {input_dim!r}")
    return int(dims[0]), int(dims[1]), int(dims[2])


def _size(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 1 << 24:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class _ConvNet(Sequential):
    """What both nets share: images in, flattened images accepted, the book's ``input_dim`` and sizes."""

    input_dim: tuple[int, int, int]
    output_size: int

    @property
    def input_size(self) -> int:
        """Elements per sample, ``C*H*W`` (what ``zerograd evaluate`` checks a dataset against)."""
        return math.prod(self.input_dim)

    def _trace_shapes(self, layers: list[Layer], name: str) -> tuple[int, ...]:
        """Run the shape of one sample through the layers, so a misfit fails here, naming the net, not later."""
        shape: tuple[int, ...] = (1, *self.input_dim)
        for layer in layers:
            if isinstance(layer, (Convolution, Pooling)):
                try:
                    shape = layer.output_shape(shape)
                except ValueError as err:
                    raise ValueError(f"{name} with input_dim {self.input_dim}: {err}") from None
            elif isinstance(layer, Affine):
                shape = (1, layer.out_features)
        return shape

    def _check_input(self, x: ArrayLike) -> NDArray:
        x = np.asarray(x)
        c, h, w = self.input_dim
        if x.ndim == 2 and x.shape[1] == c * h * w:
            x = x.reshape(len(x), c, h, w)  # flattened images, as the datasets load them: a view, not a copy
        elif x.ndim != 4 or x.shape[1:] != (c, h, w):
            raise ValueError(
                f"{type(self).__name__} expects images x of shape (N, {c}, {h}, {w}) or (N, {c * h * w}),"
                f" got {x.shape!r}"
            )
        return super()._check_input(x)


@register_net
class SimpleConvNet(_ConvNet):
    """Chapter 7's net: ``Conv1 → Pool1 → Relu1 → Affine1 → Relu2 → Affine2 → SoftmaxWithLoss``.

    Shape: x ``(N, C, H, W)`` (or ``(N, C*H*W)``) → logits ``(N, output_size)``.
    input_dim: ``(C, H, W)``; conv_param: ``filter_num`` (FN), ``filter_size`` (F), ``pad``, ``stride`` of the
    convolution; the pooling is 2x2 with stride 2. Parameters: ``W1 (FN, C, F, F)``, ``b1 (FN,)``,
    ``W2 (FN*OH/2*OW/2, hidden_size)``, ``b2``, ``W3 (hidden_size, output_size)``, ``b3``. weight_init_std: the
    book's 0.01 for every weight, or "he"/"xavier" (scaled by each layer's fan-in). rng: a Generator, a seed, or
    ``np.random`` (the book's global generator); weights are drawn in the order W1, W2, W3.

    pool_before_relu: the book's order is ``Conv1 → Relu1 → Pool1``; this net pools first (``False`` restores the
    book's order, as ``zerograd.book.simple_convnet`` does). NOTE: the two give the same outputs and the same
    gradients, exactly: ReLU never lowers a larger value below a smaller one, so ``max(relu(x)) = relu(max(x))``,
    and in both orders ``dout`` reaches the window's first maximum when that maximum is positive and nothing
    otherwise. Pooling first leaves the ReLU a quarter of the elements: measured here, a training step (batch 100,
    float32) took 11.8 ms against 16.1 ms in the book's order (medians of 5 alternating processes).

        >>> net = SimpleConvNet(rng=0)
        >>> list(net.layers), [p.shape for p in net.params.values()][::2]
        (['Conv1', 'Pool1', 'Relu1', 'Affine1', 'Relu2', 'Affine2'], [(30, 1, 5, 5), (4320, 100), (100, 10)])
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_param: Mapping[str, Any] | None = None,
        hidden_size: int = 100,
        output_size: int = 10,
        weight_init_std: float | str = 0.01,
        weight_decay_lambda: float = 0.0,
        dtype: DTypeLike = np.float64,
        rng: np.random.Generator | int | None = None,
        pool_before_relu: bool = True,
    ) -> None:
        name = type(self).__name__
        self.input_dim = _input_dim(input_dim, name)
        self.conv_param = _conv_param(SIMPLE_CONV_PARAM if conv_param is None else conv_param, name)
        if not isinstance(pool_before_relu, (bool, np.bool_)):
            raise ValueError(f"{name}: pool_before_relu must be True or False, got {pool_before_relu!r}")
        self.pool_before_relu = bool(pool_before_relu)
        for what, size in (("hidden_size", hidden_size), ("output_size", output_size)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"{name}: {what} must be a positive integer, got {size!r}")
        self.hidden_size, self.output_size = int(hidden_size), int(output_size)
        self.weight_init_std = weight_init_std.lower() if isinstance(weight_init_std, str) else weight_init_std
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{name}: dtype must be a floating type such as float32 or float64, got {dtype}")
        rng = _generator(rng)

        c = self.input_dim[0]
        fn, f = self.conv_param["filter_num"], self.conv_param["filter_size"]
        conv = Convolution(
            self._draw(rng, (fn, c, f, f), c * f * f, dtype),
            np.zeros(fn, dtype=dtype),
            stride=self.conv_param["stride"],
            pad=self.conv_param["pad"],
        )
        pool = Pooling(2, 2, stride=2)
        _, pooled_c, pooled_h, pooled_w = self._trace_shapes([conv, pool], name)
        pooled = pooled_c * pooled_h * pooled_w  # the book's pool_output_size
        affine1 = Affine(
            self._draw(rng, (pooled, self.hidden_size), pooled, dtype), np.zeros(self.hidden_size, dtype=dtype)
        )
        affine2 = Affine(
            self._draw(rng, (self.hidden_size, self.output_size), self.hidden_size, dtype),
            np.zeros(self.output_size, dtype=dtype),
        )
        first = (conv, pool, Relu()) if self.pool_before_relu else (conv, Relu(), pool)
        super().__init__(*first, affine1, Relu(), affine2, weight_decay_lambda=weight_decay_lambda)

    @staticmethod
    def param_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """The parameter shapes ``config`` (``net.config()``) describes, worked out without building the net: a
        checkpoint's header is checked against the arrays it stores before anything is allocated from it."""
        c, h, w = _input_dim(config.get("input_dim", (1, 28, 28)), "SimpleConvNet")
        p = _conv_param(config.get("conv_param") or SIMPLE_CONV_PARAM, "SimpleConvNet")
        hidden, out = (_size(config.get(k, d), k) for k, d in (("hidden_size", 100), ("output_size", 10)))
        fn, f = p["filter_num"], p["filter_size"]
        oh, ow = _output_shape("Convolution", (1, c, h, w), "filter", f, f, p["stride"], p["pad"])
        ph, pw = _output_shape("Pooling", (1, fn, oh, ow), "pool", 2, 2, 2, 0)
        return {
            "W1": (fn, c, f, f),
            "b1": (fn,),
            "W2": (fn * ph * pw, hidden),
            "b2": (hidden,),
            "W3": (hidden, out),
            "b3": (out,),
        }

    def _draw(self, rng: Any, shape: tuple[int, ...], fan_in: int, dtype: np.dtype) -> NDArray:
        scale = init_scale(self.weight_init_std, fan_in, type(self).__name__)
        return (scale * rng.standard_normal(shape)).astype(dtype)

    def config(self) -> dict[str, Any]:
        return {
            "class": type(self).__name__,
            "input_dim": list(self.input_dim),
            "conv_param": dict(self.conv_param),
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "weight_init_std": self.weight_init_std,
            "weight_decay_lambda": self.weight_decay_lambda,
            "dtype": self.dtype.name,
            "pool_before_relu": self.pool_before_relu,
        }

    def __repr__(self) -> str:
        p = self.conv_param
        return (
            f"{type(self).__name__}(input_dim={self.input_dim}, conv {p['filter_num']}x{p['filter_size']}x"
            f"{p['filter_size']} pad {p['pad']} stride {p['stride']}, pool 2x2, hidden {self.hidden_size}, "
            f"output {self.output_size}, dtype={self.dtype.name})"
        )


@register_net
class DeepConvNet(_ConvNet):
    """Chapter 8's net: six 3x3 convolutions with ReLU, a 2x2 pooling after each pair, then
    ``Affine → Relu → Dropout → Affine → Dropout → SoftmaxWithLoss``.

    Shape: x ``(N, C, H, W)`` (or flattened) → logits ``(N, output_size)``.
    conv_param_1 … conv_param_6: each ``filter_num``, ``filter_size``, ``pad``, ``stride`` (defaults: the book's
    16, 16, 32, 32, 64, 64 filters of 3x3). Parameters ``W1..W6`` (convolutions), ``W7``, ``W8`` (Affine), and
    ``b1..b8``; He initialisation, ``sqrt(2 / fan_in)``, as the book. Dropout (ratio 0.5) is active while
    training (``gradient``, ``loss(..., train_flg=True)``) and off in ``predict``/``accuracy``; its masks come from
    its own generator, seeded from ``rng`` after the weights.
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_param_1: Mapping[str, Any] | None = None,
        conv_param_2: Mapping[str, Any] | None = None,
        conv_param_3: Mapping[str, Any] | None = None,
        conv_param_4: Mapping[str, Any] | None = None,
        conv_param_5: Mapping[str, Any] | None = None,
        conv_param_6: Mapping[str, Any] | None = None,
        hidden_size: int = 50,
        output_size: int = 10,
        dropout_ratio: float = 0.5,
        weight_decay_lambda: float = 0.0,
        dtype: DTypeLike = np.float64,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        name = type(self).__name__
        self.input_dim = _input_dim(input_dim, name)
        given = (conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6)
        self.conv_params = [
            _conv_param(default if p is None else p, name) for p, default in zip(given, DEEP_CONV_PARAMS, strict=True)
        ]
        for what, size in (("hidden_size", hidden_size), ("output_size", output_size)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"{name}: {what} must be a positive integer, got {size!r}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"{name}: dropout_ratio must be in [0, 1), got {dropout_ratio!r}")
        self.hidden_size, self.output_size = int(hidden_size), int(output_size)
        self.dropout_ratio = float(dropout_ratio)
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{name}: dtype must be a floating type such as float32 or float64, got {dtype}")
        gen = _generator(rng)

        layers: list[Layer] = []
        channels = self.input_dim[0]
        for i, p in enumerate(self.conv_params):
            fn, f = p["filter_num"], p["filter_size"]
            fan_in = channels * f * f
            W = (math.sqrt(2.0 / fan_in) * gen.standard_normal((fn, channels, f, f))).astype(dtype)  # noqa: N806
            layers += [Convolution(W, np.zeros(fn, dtype=dtype), stride=p["stride"], pad=p["pad"]), Relu()]
            if i % 2 == 1:
                layers.append(Pooling(2, 2, stride=2))
            channels = fn
        _, c, h, w = self._trace_shapes(layers, name)
        sizes = (c * h * w, self.hidden_size, self.output_size)
        W7, W8 = (  # noqa: N806 - the book's names
            (math.sqrt(2.0 / n_in) * gen.standard_normal((n_in, n_out))).astype(dtype)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        )
        layers += [
            Affine(W7, np.zeros(self.hidden_size, dtype=dtype)),
            Relu(),
            Dropout(self.dropout_ratio, rng=_child_generator(gen)),
            Affine(W8, np.zeros(self.output_size, dtype=dtype)),
            Dropout(self.dropout_ratio, rng=_child_generator(gen)),
        ]
        super().__init__(*layers, weight_decay_lambda=weight_decay_lambda)

    @staticmethod
    def param_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """The parameter shapes ``config`` describes, worked out without building the net (see SimpleConvNet's)."""
        c, h, w = _input_dim(config.get("input_dim", (1, 28, 28)), "DeepConvNet")
        hidden, out = (_size(config.get(k, d), k) for k, d in (("hidden_size", 50), ("output_size", 10)))
        shapes: dict[str, tuple[int, ...]] = {}
        for i, default in enumerate(DEEP_CONV_PARAMS, start=1):
            p = _conv_param(config.get(f"conv_param_{i}") or default, "DeepConvNet")
            fn, f = p["filter_num"], p["filter_size"]
            shapes[f"W{i}"], shapes[f"b{i}"] = (fn, c, f, f), (fn,)
            h, w = _output_shape("Convolution", (1, c, h, w), "filter", f, f, p["stride"], p["pad"])
            c = fn
            if i % 2 == 0:
                h, w = _output_shape("Pooling", (1, c, h, w), "pool", 2, 2, 2, 0)
        shapes.update({"W7": (c * h * w, hidden), "b7": (hidden,), "W8": (hidden, out), "b8": (out,)})
        return shapes

    def config(self) -> dict[str, Any]:
        return {
            "class": type(self).__name__,
            "input_dim": list(self.input_dim),
            **{f"conv_param_{i}": dict(p) for i, p in enumerate(self.conv_params, start=1)},
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
            "dropout_ratio": self.dropout_ratio,
            "weight_decay_lambda": self.weight_decay_lambda,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        filters = ", ".join(str(p["filter_num"]) for p in self.conv_params)
        return (
            f"{type(self).__name__}(input_dim={self.input_dim}, filters {filters}, hidden {self.hidden_size}, "
            f"output {self.output_size}, dropout {self.dropout_ratio:g}, dtype={self.dtype.name})"
        )
