"""What the ONNX and PyTorch converters share: their errors, which layers they know, and the net's shapes."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import numpy as np

from ..layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid

__all__ = [
    "InteropError",
    "MissingExtraError",
    "import_extra",
    "sample_shape",
    "layer_kind",
    "trace_shapes",
    "write_file",
]


class InteropError(ValueError):
    """A net (or a torch module / state_dict) that cannot be converted; the message is one line naming why."""


class MissingExtraError(InteropError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it."""


def import_extra(module: str, extra: str, purpose: str) -> Any:
    """``import module``, or ``MissingExtraError``: "ONNX export needs onnx: pip install 'zerograd[onnx]'"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"{purpose} needs the {module} package: pip install 'zerograd[{extra}]'") from None


def _conv_classes() -> tuple[type, type] | None:
    """``(Convolution, Pooling)`` of chapter 7, or ``None`` in a zerograd without them."""
    try:
        from ..convolution import Convolution, Pooling
    except ImportError:
        return None
    return Convolution, Pooling


def layer_kind(name: str, layer: Any) -> str:
    """The kind of a layer the converters know ("Affine", "Relu", ..., "Convolution", "Pooling"), or an
    ``InteropError`` naming it.

    A subclass counts as its zerograd base class when it is zerograd's own (``zerograd.book``'s layers only change
    defaults) or leaves ``forward`` alone; a layer of your own computes something the converters cannot know.
    """
    known: list[tuple[str, type]] = [
        ("Affine", Affine),
        ("Relu", Relu),
        ("Sigmoid", Sigmoid),
        ("BatchNormalization", BatchNormalization),
        ("Dropout", Dropout),
    ]
    conv = _conv_classes()
    if conv is not None:
        known += [("Convolution", conv[0]), ("Pooling", conv[1])]
    cls = type(layer)
    for kind, base in known:
        if isinstance(layer, base) and (
            cls is base
            or cls.__module__.startswith("zerograd.")
            or getattr(cls, "forward", None) is getattr(base, "forward", None)
        ):
            return kind
    raise InteropError(
        f"layer {name} ({cls.__module__}.{cls.__qualname__}) is a layer of your own, which cannot be "
        f"exported; zerograd exports {', '.join(kind for kind, _ in known)}"
    )


def sample_shape(net: Any, given: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """The shape of one sample as the net expects it: ``(784,)`` for an MLP, ``(1, 28, 28)`` for a conv net.

    From ``given``, else the net's ``input_dim`` (conv nets), else its first layer's ``in_features``.
    """
    if given is not None:
        shape = tuple(int(d) for d in given)
        if not shape or any(d < 1 for d in shape):
            raise InteropError(f"input_shape must be positive dimensions of one sample, got {given!r}")
        return shape
    dims = getattr(net, "input_dim", None)
    if dims is not None:
        return tuple(int(d) for d in dims)
    first = next(iter(net.layers.values()), None)
    features = getattr(first, "in_features", None)
    if isinstance(features, int):
        return (features,)
    raise InteropError(f"{type(net).__name__} does not say the shape of its input; pass input_shape=(C, H, W)")


def trace_shapes(net: Any, sample: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The per-sample shape entering each layer and, last, the output's: ``[(784,), (50,), (50,), (10,)]``.

    Found by running one zero sample through a copy of the net in inference mode (the net itself is untouched).
    """
    probe = copy.deepcopy(net)
    trace: list[Any] = []
    try:
        probe.forward(np.zeros((1, *sample), dtype=probe.dtype), False, trace)
    except (ValueError, TypeError) as err:
        raise InteropError(f"{type(net).__name__} does not take one sample of shape {sample}: {err}") from None
    return [sample, *(tuple(out.shape[1:]) for out in trace)]


def net_layers(net: Any) -> list[tuple[str, Any, str]]:
    """``(name, layer, kind)`` for each layer of the net (the loss layer is not part of ``predict``); an
    ``InteropError`` for a layer of your own."""
    if not hasattr(net, "layers") or not hasattr(net, "params"):
        raise InteropError(f"expected a zerograd net (Sequential, TwoLayerNet, ...), got {type(net).__name__}")
    layers = [(name, layer, layer_kind(name, layer)) for name, layer in net.layers.items()]
    if not layers:
        raise InteropError(f"{type(net).__name__} has no layers to export")
    return layers


def write_file(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (``zerograd.io.fileio``: a temporary file renamed over it)."""
    from ..io.fileio import write_bytes

    return write_bytes(path, data, make_dirs=True)
