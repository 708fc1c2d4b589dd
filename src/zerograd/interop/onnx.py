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


def to_onnx(net: Any, probabilities: bool = False, classes: list[str] | None = None, dtype: str = "float32",
            input_shape: tuple[int, ...] | None = None, doc: str | None = None) -> Any:
    """The net as a checked ``onnx.ModelProto``.

    Shape: x ``(N, *sample)`` → logits ``(N, C)`` (``probabilities=True``: softmax of them, rows summing to 1).
    classes: the class names stored in the metadata (default ``"0"``, ``"1"``, ...). dtype: ``"float32"`` (what
    ONNX tools expect) or ``"float64"``. input_shape: one sample's shape when the net does not say it (a
    ``Sequential`` starting with a convolution). Raises ``InteropError`` (one line) for a layer that cannot be
    exported, ``MissingExtraError`` without the onnx package.
    """
    onnx = import_extra("onnx", "onnx", "ONNX export")
    from onnx import TensorProto, helper, numpy_helper

    if dtype not in DTYPES:
        raise InteropError(f"ONNX export: dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    np_dtype = DTYPES[dtype]
    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    layers = net_layers(net)
    sample = sample_shape(net, input_shape)
    shapes = trace_shapes(net, sample)

    nodes: list[Any] = []
    initializers: list[Any] = []

    def constant(name: str, value: Any, kind: Any = np_dtype) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value, dtype=kind), name=name))
        return name

    keys = _array_keys(net)

    def key(layer_name: str, array: Any) -> str:
        # the net's own name (W1, running_mean1), so the graph reads like net.params; unique either way
        return keys.get(id(array)) or f"{layer_name}_{len(initializers)}"
    current = INPUT_NAME
    for (name, layer, kind), shape_in in zip(layers, shapes, strict=False):
        out = f"{name}_out"
        if kind == "Affine":
            if len(shape_in) != 1:
                nodes.append(helper.make_node("Flatten", [current], [f"{name}_flat"], name=f"{name}_flatten", axis=1))
                current = f"{name}_flat"
            nodes.append(helper.make_node("Gemm", [current, constant(key(name, layer.W), layer.W),
                                                   constant(key(name, layer.b), layer.b)], [out], name=name))
        elif kind in ("Relu", "Sigmoid"):
            nodes.append(helper.make_node(kind, [current], [out], name=name))
        elif kind == "BatchNormalization":
            inputs = [constant(key(name, a), a) for a in (layer.gamma, layer.beta, layer.running_mean,
                                                         layer.running_var)]
            if len(shape_in) != 1:  # images: the book normalises each of the C*H*W values, as (N, C*H*W)
                nodes.append(helper.make_node("Flatten", [current], [f"{name}_flat"], name=f"{name}_flatten", axis=1))
                nodes.append(helper.make_node("BatchNormalization", [f"{name}_flat", *inputs], [f"{name}_norm"],
                                              name=name, epsilon=layer.eps))
                back = constant(f"{name}_shape", [-1, *shape_in], np.int64)
                nodes.append(helper.make_node("Reshape", [f"{name}_norm", back], [out], name=f"{name}_reshape"))
            else:
                nodes.append(helper.make_node("BatchNormalization", [current, *inputs], [out], name=name,
                                              epsilon=layer.eps))
        elif kind == "Dropout":
            # NOTE: zerograd's dropout, as the book's, keeps every unit at inference and scales by the keep ratio.
            keep = constant(f"{name}_keep", np_dtype(1.0 - layer.dropout_ratio))
            nodes.append(helper.make_node("Mul", [current, keep], [out], name=name))
        elif kind == "Convolution":
            fh, fw = layer.W.shape[2:]
            nodes.append(helper.make_node("Conv", [current, constant(key(name, layer.W), layer.W),
                                                   constant(key(name, layer.b), layer.b)], [out], name=name,
                                          kernel_shape=[fh, fw], strides=[layer.stride] * 2,
                                          pads=[layer.pad] * 4))
        elif kind == "Pooling":
            nodes.append(helper.make_node("MaxPool", [current], [out], name=name,
                                          kernel_shape=[layer.pool_h, layer.pool_w], strides=[layer.stride] * 2,
                                          pads=[layer.pad] * 4))
        else:  # pragma: no cover - layer_kind knows no other kind
            raise AssertionError(kind)
        current = out

    n_out = shapes[-1]
    if len(n_out) != 1:
        raise InteropError(f"{type(net).__name__} ends in shape (N, {', '.join(map(str, n_out))}), not logits (N, C)")
    output = "probabilities" if probabilities else "logits"
    if probabilities:
        nodes.append(helper.make_node("Softmax", [current], [output], name="Softmax", axis=1))
    else:
        nodes.append(helper.make_node("Identity", [current], [output], name="Logits"))
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n_out[0])]
    if len(names) != n_out[0]:
        raise InteropError(f"{len(names)} class names for a net with {n_out[0]} outputs")

    graph = helper.make_graph(
        nodes, type(net).__name__,
        [helper.make_tensor_value_info(INPUT_NAME, elem, ["N", *sample])],
        [helper.make_tensor_value_info(output, elem, ["N", n_out[0]])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="zerograd",
                              producer_version=_version(), ir_version=IR_VERSION,
                              doc_string=doc or f"{net!r} exported by zerograd")
    config = net.config() if hasattr(net, "config") else {}
    helper.set_model_props(model, {"classes": json.dumps(names), "output": output,
                                   "zerograd_config": json.dumps(config, sort_keys=True)})
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as err:  # pragma: no cover - a bug in this module, not the user's
        raise InteropError(f"the exported model fails onnx.checker: {str(err).splitlines()[0]}") from None
    return model


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
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                providers=["CPUExecutionProvider"])


def run_onnx(session: Any, x: Any) -> np.ndarray:
    """The model's output for ``x``, reshaped to the model's input (``(N, 784)`` images for a conv net are fine)."""
    first = session.get_inputs()[0]
    dtype = np.float64 if "double" in first.type else np.float32
    sample = first.shape[1:]
    x = np.asarray(x, dtype=dtype)
    if all(isinstance(d, int) for d in sample):
        x = x.reshape(len(x), *sample)
    return session.run(None, {first.name: x})[0]


def _array_keys(net: Any) -> dict[int, str]:
    """The net's key of each parameter and buffer array, by identity: ``W1``, ``running_mean1``, ..."""
    arrays = {**net.params, **getattr(net, "buffers", {})}
    return {id(a): key for key, a in arrays.items()}


def _version() -> str:
    from .. import __version__

    return __version__
