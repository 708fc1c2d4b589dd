"""ONNX export: a zerograd net as an ONNX graph that ONNX Runtime, Netron and other tools read.

Each layer becomes the ONNX operators that compute what its ``forward`` computes at inference
(``net.predict``), so ONNX Runtime gives zerograd's logits:

==========================  ==============================================================================
zerograd layer              ONNX nodes (opset ``OPSET``)
==========================  ==============================================================================
Affine ``x W + b``          ``Flatten`` (only when its input is not ``(N, D)``), ``Gemm(x, W, b)``
Relu, Sigmoid               ``Relu``, ``Sigmoid``
BatchNormalization          ``BatchNormalization(x, gamma, beta, running_mean, running_var, epsilon=eps)`` on
                            ``(N, D)``; on images the book normalises each of the ``C*H*W`` values, so
                            ``Flatten`` → ``BatchNormalization`` → ``Reshape`` back to ``(N, C, H, W)``
Dropout                     ``Mul`` by ``1 - dropout_ratio``: the book's (and zerograd's) dropout scales at
                            inference instead of while training, so it is *not* an identity here
Convolution                 ``Conv(x, W, b, strides, pads)`` (W is ``(FN, C, FH, FW)``, ONNX's own layout)
Pooling (max)               ``MaxPool(kernel_shape, strides, pads)`` (padding never wins, as in zerograd)
softmax (``probabilities``) ``Softmax(axis=1)``; without it the output is the logits, as ``predict`` gives
==========================  ==============================================================================

The input is named ``x`` and shaped as the net expects: ``(N, 784)`` for an MLP, ``(N, 1, 28, 28)`` for a conv net,
``N`` a dynamic axis. The class names are in the model's metadata (``classes``, a JSON list), with the net's
config (``zerograd_config``). The same net always gives the same bytes: no timestamps, a fixed producer version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .common import InteropError, import_extra, net_layers, sample_shape, trace_shapes, write_file

__all__ = ["IR_VERSION", "OPSET", "save_onnx", "to_onnx", "onnx_session", "run_onnx"]

# Opset 17 (ONNX 1.12, 2022): every operator above in its current form, read by ONNX Runtime >= 1.12 and Netron.
OPSET = 17
IR_VERSION = 8  # the IR version that goes with opset 17; newer readers accept it, older ones are not turned away
INPUT_NAME = "x"
DTYPES = {"float32": np.float32, "float64": np.float64}
# NOTE: ONNX Runtime's CPU kernels for Conv take float32 only: a float64 Conv loads as "NOT_IMPLEMENTED: Conv(11)".
# Every other operator above runs in float64 (tests/test_interop_dtypes.py tries each one).
FLOAT32_ONLY = {"Convolution": "Conv"}  # zerograd layer -> its operator that ONNX Runtime runs in float32 only


def to_onnx(
    net: Any,
    probabilities: bool = False,
    classes: list[str] | None = None,
    dtype: str = "float32",
    input_shape: tuple[int, ...] | None = None,
    doc: str | None = None,
) -> Any:
    """The net as a checked ``onnx.ModelProto``.

    Shape: x ``(N, *sample)`` → logits ``(N, C)`` (``probabilities=True``: softmax of them, rows summing to 1).
    classes: the class names stored in the metadata (default ``"0"``, ``"1"``, ...). dtype: ``"float32"`` (what
    ONNX tools expect) or ``"float64"`` (refused for a net with a convolution, which ONNX Runtime runs in float32
    only: ``FLOAT32_ONLY``). input_shape: one sample's shape when the net does not say it (a
    ``Sequential`` starting with a convolution). Raises ``InteropError`` (one line) for a layer that cannot be
    exported, ``MissingExtraError`` without the onnx package.
    """
    onnx = import_extra("onnx", "onnx", "ONNX export")
    from onnx import TensorProto, helper

    if dtype not in DTYPES:
        raise InteropError(f"ONNX export: dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    layers = net_layers(net)
    sample = sample_shape(net, input_shape)
    shapes = trace_shapes(net, sample)  # shapes[i]: one sample's shape entering layer i; shapes[-1]: the output's
    if len(shapes[-1]) != 1:
        raise InteropError(
            f"{type(net).__name__} ends in shape (N, {', '.join(map(str, shapes[-1]))}), not logits (N, C)"
        )
    n_classes = shapes[-1][0]
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n_classes)]
    if len(names) != n_classes:
        raise InteropError(f"{len(names)} class names for a net with {n_classes} outputs")

    if dtype != "float32":
        unrunnable = [(name, kind) for name, _, kind in layers if kind in FLOAT32_ONLY]
        if unrunnable:
            name, kind = unrunnable[0]
            raise InteropError(
                f"ONNX export: ONNX Runtime runs {FLOAT32_ONLY[kind]} (layer {name}) in float32 only, "
                f"so a {dtype} model of this net would not load; export it as float32"
            )
    graph = _Graph(DTYPES[dtype], {id(a): key for key, a in {**net.params, **getattr(net, "buffers", {})}.items()})
    current = INPUT_NAME
    for (name, layer, kind), shape_in in zip(layers, shapes, strict=False):
        current = EMITTERS[kind](graph, name, layer, shape_in, current)
    output = "probabilities" if probabilities else "logits"
    graph.node(
        "Softmax" if probabilities else "Identity",
        [current],
        "Softmax" if probabilities else "Logits",
        out=output,
        **({"axis": 1} if probabilities else {}),
    )

    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            type(net).__name__,
            [helper.make_tensor_value_info(INPUT_NAME, elem, ["N", *sample])],
            [helper.make_tensor_value_info(output, elem, ["N", n_classes])],
            initializer=graph.initializers,
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="zerograd",
        producer_version=_version(),
        ir_version=IR_VERSION,
        doc_string=doc or f"{net!r} exported by zerograd",
    )
    config = net.config() if hasattr(net, "config") else {}
    helper.set_model_props(
        model, {"classes": json.dumps(names), "output": output, "zerograd_config": json.dumps(config, sort_keys=True)}
    )
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as err:  # pragma: no cover - a bug in this module, not the user's
        raise InteropError(f"the exported model fails onnx.checker: {str(err).splitlines()[0]}") from None
    return model


class _Graph:
    """The nodes and initializers (weights) of the graph being built."""

    def __init__(self, dtype: Any, keys: dict[int, str]) -> None:
        self.dtype = dtype
        self.keys = keys  # id(array) → the net's key for it (W1, running_mean1)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def node(self, op: str, inputs: list[str], name: str, out: str | None = None, **attrs: Any) -> str:
        """Add the node ``op(inputs)`` named ``name``; returns the name of its output."""
        from onnx import helper

        out = out or f"{name}_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def weight(self, layer_name: str, array: Any) -> str:
        """An initializer holding a parameter or buffer, named as in ``net.params`` so the graph reads like it."""
        return self.constant(self.keys.get(id(array)) or f"{layer_name}_{len(self.initializers)}", array)

    def constant(self, name: str, value: Any, dtype: Any = None) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype or self.dtype), name=name))
        return name

    def flatten(self, name: str, shape_in: tuple[int, ...], x: str) -> str:
        """``(N, *shape)`` → ``(N, D)``, as zerograd's Affine and BatchNormalization do; nothing for ``(N, D)``."""
        return x if len(shape_in) == 1 else self.node("Flatten", [x], f"{name}_flatten", axis=1)


def _affine(g: _Graph, name: str, layer: Any, shape_in: tuple[int, ...], x: str) -> str:
    # Gemm: Y = X W + b with X (N, D), W (D, M) as zerograd stores it (no transpose flags)
    return g.node("Gemm", [g.flatten(name, shape_in, x), g.weight(name, layer.W), g.weight(name, layer.b)], name)


def _relu(g: _Graph, name: str, layer: Any, shape_in: tuple[int, ...], x: str) -> str:
    return g.node("Relu", [x], name)


def _sigmoid(g: _Graph, name: str, layer: Any, shape_in: tuple[int, ...], x: str) -> str:
    return g.node("Sigmoid", [x], name)


def _batchnorm(g: _Graph, name: str, layer: Any, shape_in: tuple[int, ...], x: str) -> str:
    # ONNX BatchNormalization at inference: (x - mean) / sqrt(var + epsilon) * scale + B, per channel = axis 1.
    # On (N, D) axis 1 is the feature: zerograd's per-feature normalisation with its running statistics.
    stats = [g.weight(name, a) for a in (layer.gamma, layer.beta, layer.running_mean, layer.running_var)]
    if len(shape_in) == 1:
        return g.node("BatchNormalization", [x, *stats], name, epsilon=layer.eps)
    # NOTE: on images the book normalises each of the C*H*W values (not each channel, as ONNX would on
    # (N, C, H, W)): flatten, normalise per feature, and give the values their shape back.
    normed = g.node(
        "BatchNormalization", [g.flatten(name, shape_in, x), *stats], name, out=f"{name}_norm", epsilon=layer.eps
    )
    return g.node("Reshape", [normed, g.constant(f"{name}_shape", [-1, *shape_in], np.int64)], f"{name}_reshape")


def _dropout(g: _Graph, name: str, layer: Any, shape_in: tuple[int, ...], x: str) -> str:
    # NOTE: zerograd's dropout, as the book's, keeps every unit at inference and scales by the keep ratio 1 - r;
    # an Identity here would give logits 1/(1-r) times too large after the last one.
    return g.node("Mul", [x, g.constant(f"{name}_keep", 1.0 - layer.dropout_ratio)], name)


def _convolution(g: _Graph, name: str, layer: Any, shape_in: tuple[int, ...], x: str) -> str:
    # W (FN, C, FH, FW) is ONNX's own layout; zero padding on all four sides, as zerograd pads
    return g.node(
        "Conv",
        [x, g.weight(name, layer.W), g.weight(name, layer.b)],
        name,
        kernel_shape=list(layer.W.shape[2:]),
        strides=[layer.stride] * 2,
        pads=[layer.pad] * 4,
    )


def _pooling(g: _Graph, name: str, layer: Any, shape_in: tuple[int, ...], x: str) -> str:
    # MaxPool's padding never wins a window, as zerograd's -inf padding
    return g.node(
        "MaxPool",
        [x],
        name,
        kernel_shape=[layer.pool_h, layer.pool_w],
        strides=[layer.stride] * 2,
        pads=[layer.pad] * 4,
    )


EMITTERS = {
    "Affine": _affine,
    "Relu": _relu,
    "Sigmoid": _sigmoid,
    "BatchNormalization": _batchnorm,
    "Dropout": _dropout,
    "Convolution": _convolution,
    "Pooling": _pooling,
}


def save_onnx(net: Any, path: str | Path, **kwargs: Any) -> Path:
    """Write ``to_onnx(net, **kwargs)`` to ``path`` atomically; the same net always gives the same bytes."""
    return write_file(path, to_onnx(net, **kwargs).SerializeToString())


def onnx_session(model: Any) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU for an ``onnx.ModelProto``, bytes or a path."""
    ort = import_extra("onnxruntime", "onnx", "Running a model with ONNX Runtime")
    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: no warnings about the CPU on stderr
    return ort.InferenceSession(
        model if isinstance(model, bytes) else str(model), options, providers=["CPUExecutionProvider"]
    )


def run_onnx(session: Any, x: Any) -> np.ndarray:
    """The model's output for ``x``, reshaped to the model's input (``(N, 784)`` images for a conv net are fine)."""
    first = session.get_inputs()[0]
    dtype = np.float64 if "double" in first.type else np.float32
    sample = first.shape[1:]
    x = np.asarray(x, dtype=dtype)
    if all(isinstance(d, int) for d in sample):
        x = x.reshape(len(x), *sample)
    return session.run(None, {first.name: x})[0]


def _version() -> str:
    from .. import __version__

    return __version__
