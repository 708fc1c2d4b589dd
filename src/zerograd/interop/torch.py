"""PyTorch both ways: ``to_torch(net)`` builds the same net as a ``torch.nn.Sequential``, ``from_torch`` builds a
zerograd net from a torch module (or loads a state_dict into a zerograd architecture).

The mapping, layer by layer (module names are zerograd's layer names, so state_dict keys read ``Affine1.weight``):

======================  ===================================================================================
zerograd                torch
======================  ===================================================================================
Affine(W, b)            ``nn.Linear(D, M)``: ``weight = Wᵀ`` (torch stores ``(M, D)``, zerograd ``(D, M)``),
                        ``bias = b``; an ``nn.Flatten`` named ``<name>_flatten`` before it when its input is
                        images (zerograd's Affine flattens by itself)
Relu, Sigmoid           ``nn.ReLU``, ``nn.Sigmoid``
BatchNormalization      ``nn.BatchNorm1d(D, eps=eps, momentum=1 - momentum)``: ``weight = gamma``,
                        ``bias = beta``, ``running_mean``, ``running_var`` (zerograd's ``eps`` defaults to 1e-6;
                        torch's momentum weighs the *new* batch, zerograd's (the book's) the running value). On
                        images: ``nn.Flatten`` before and ``nn.Unflatten`` after, as the book normalises each of
                        the ``C*H*W`` values
Dropout(r)              ``BookDropout(r)`` = ``nn.Dropout(r)`` then ``× (1 - r)``. The book's dropout keeps
                        ``x * mask`` while training and scales by ``1 - r`` at inference; torch's divides by
                        ``1 - r`` while training and is the identity at inference. The product of the two is the
                        book's dropout in both modes, so ``model.eval()`` gives zerograd's ``predict``
Convolution(W, b)       ``nn.Conv2d(C, FN, (FH, FW), stride, padding=pad)``: ``weight = W`` (the same
                        ``(FN, C, FH, FW)`` layout), ``bias = b``
Pooling (max)           ``nn.MaxPool2d((pool_h, pool_w), stride, padding=pad)``
======================  ===================================================================================

Tensors keep the net's dtype (float64 nets give float64 tensors), so zerograd → torch → zerograd is bit for bit.
NOTE: torch's BatchNorm1d updates ``running_var`` with the *unbiased* batch variance while training; zerograd (the
book) uses the biased one. Inference agrees; continued training in torch moves the running variance differently.
A state_dict holds no activations or dropout ratios, so ``from_torch(state_dict, net=...)`` needs the zerograd net
of the architecture (its arrays are taken from the state_dict: by these names, or, for torch's own numbering such
as ``0.weight, 0.bias, 2.weight``, in order when every shape and attribute agrees); every file is read with
``weights_only=True``.
"""

from __future__ import annotations

import copy
import io
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid
from ..nets import Sequential
from .common import InteropError, _conv_classes, import_extra, net_layers, sample_shape, trace_shapes, write_file

torch = import_extra("torch", "torch", "PyTorch conversion")
nn = torch.nn

__all__ = ["BookDropout", "from_torch", "load_state_dict", "save_torch", "to_torch", "torch_state_dict"]


class BookDropout(nn.Module):  # type: ignore[name-defined,misc]  # torch comes at run time (an extra)
    """The book's dropout in torch: ``x * mask`` while training, ``x * (1 - p)`` in ``eval()``.

    Shape: any → the same. Computed as torch's ``nn.functional.dropout`` (``x * mask / (1 - p)`` while training,
    ``x`` in eval) times ``1 - p``, so the two modes are the book's exactly (up to the rounding of ``/ (1-p) * (1-p)``
    while training).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"BookDropout: p must be in [0, 1), got {p!r}")
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        return nn.functional.dropout(x, self.p, self.training) * (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


# -- zerograd → torch ------------------------------------------------------------------------------------------


def _tensor(a: Any) -> Any:
    return torch.from_numpy(np.array(a, copy=True, order="C"))


def to_torch(net: Any, input_shape: tuple[int, ...] | None = None) -> Any:
    """An ``nn.Sequential`` computing what ``net`` computes, in the net's dtype, in ``eval()`` mode.

    Shape: x ``(N, *sample)`` → logits ``(N, C)`` (no softmax, as ``predict``). Raises ``InteropError`` (one line)
    for a layer of your own.
    """
    layers = net_layers(net)
    shapes = trace_shapes(net, sample_shape(net, input_shape))
    dtype = getattr(torch, np.dtype(net.dtype).name)
    modules: OrderedDict[str, Any] = OrderedDict()
    for (layer_name, layer, kind), shape_in in zip(layers, shapes, strict=False):
        name = layer_name.replace(".", "_")  # a torch module's name cannot hold a dot
        if kind == "Affine":
            if len(shape_in) != 1:
                modules[f"{name}_flatten"] = nn.Flatten()
            m = nn.Linear(layer.in_features, layer.out_features, dtype=dtype)
            _put(m, weight=layer.W.T, bias=layer.b)
        elif kind == "Relu":
            m = nn.ReLU()
        elif kind == "Sigmoid":
            m = nn.Sigmoid()
        elif kind == "BatchNormalization":
            m = nn.BatchNorm1d(layer.features, eps=layer.eps, momentum=1.0 - layer.momentum, dtype=dtype)
            _put(m, weight=layer.gamma, bias=layer.beta, running_mean=layer.running_mean, running_var=layer.running_var)
            if len(shape_in) != 1:
                modules[f"{name}_flatten"] = nn.Flatten()
                modules[name] = m
                m = nn.Unflatten(1, shape_in)
                name = f"{name}_unflatten"
        elif kind == "Dropout":
            m = BookDropout(layer.dropout_ratio)
        elif kind == "Convolution":
            m = nn.Conv2d(
                layer.W.shape[1],
                layer.W.shape[0],
                tuple(layer.W.shape[2:]),
                stride=layer.stride,
                padding=layer.pad,
                dtype=dtype,
            )
            _put(m, weight=layer.W, bias=layer.b)
        elif kind == "Pooling":
            if 2 * layer.pad > min(layer.pool_h, layer.pool_w):
                raise InteropError(
                    f"layer {name}: torch's MaxPool2d allows padding up to half the pool, got pad "
                    f"{layer.pad} for a {layer.pool_h}x{layer.pool_w} pool"
                )
            m = nn.MaxPool2d((layer.pool_h, layer.pool_w), stride=layer.stride, padding=layer.pad)
        else:  # pragma: no cover - layer_kind knows no other kind
            raise AssertionError(kind)
        modules[name] = m
    return nn.Sequential(modules).eval()


def _put(module: Any, **arrays: Any) -> None:
    """Set a module's parameters and buffers to copies of zerograd's arrays (same dtype, same bits)."""
    with torch.no_grad():
        for attr, value in arrays.items():
            target = getattr(module, attr)
            target.copy_(_tensor(value))


def torch_state_dict(net: Any) -> OrderedDict[str, Any]:
    """``to_torch(net).state_dict()``: tensors only (``Affine1.weight``, ``BatchNorm1.running_mean``, ...)."""
    return to_torch(net).state_dict()


def save_torch(net: Any, path: str | Path) -> Path:
    """Write ``torch_state_dict(net)`` with ``torch.save`` to ``path``, atomically."""
    buffer = io.BytesIO()
    torch.save(torch_state_dict(net), buffer)
    return write_file(path, buffer.getvalue())


def load_state_dict(path: str | Path) -> dict[str, Any]:
    """A state_dict from a ``.pt`` file, read with ``weights_only=True`` (tensors and plain containers, never
    arbitrary objects); ``InteropError`` (one line) for a missing, damaged or non-state_dict file."""
    path = Path(path)
    if not path.is_file():
        raise InteropError(f"{path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError, ... for a bad file
        first = str(err).strip().splitlines()[0].split(". ")[0] if str(err).strip() else type(err).__name__
        raise InteropError(f"{path}: not a readable PyTorch state_dict ({first[:160]})") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise InteropError(f"{path}: not a state_dict (a mapping of names to tensors), got {type(state).__name__}")
    return dict(state)


# -- torch → zerograd ------------------------------------------------------------------------------------------


REAL_DTYPES = ("float16", "float32", "float64")  # what NumPy holds as it is; bfloat16 it has no type for


def check_tensor(key: str, t: Any) -> None:
    """Refuse, in one line, a tensor zerograd cannot take as weights: not a tensor, sparse or another layout, on
    the ``meta`` device (a shape without values), or not real floating point (int, bool, complex, bfloat16,
    quantized), or holding NaN or infinity. BatchNorm's ``num_batches_tracked`` counter may be an integer."""
    if not isinstance(t, torch.Tensor):
        raise InteropError(f"the state_dict's {key!r} is a {type(t).__name__}, not a tensor")
    if t.layout != torch.strided:
        raise InteropError(
            f"the state_dict's {key!r} is a {str(t.layout).removeprefix('torch.')} tensor; zerograd "
            f"takes dense tensors (convert with .to_dense())"
        )
    if t.device.type == "meta":
        raise InteropError(f"the state_dict's {key!r} is on the meta device: it has a shape but no values")
    if key.rsplit(".", 1)[-1] == "num_batches_tracked":
        return  # a counter zerograd does not use
    dtype = str(t.dtype).removeprefix("torch.")
    if dtype not in REAL_DTYPES:
        raise InteropError(
            f"the state_dict's {key!r} is a {dtype} tensor; zerograd takes {', '.join(REAL_DTYPES)} "
            f"weights (convert with .float())"
        )
    if not bool(torch.isfinite(t.detach()).all()):
        raise InteropError(f"the state_dict's {key!r} holds NaN or infinity; zerograd takes finite weights")


def _array(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def from_torch(source: Any, net: Any = None) -> Any:
    """A zerograd net from a torch module, or from a state_dict into the architecture of ``net``.

    source: an ``nn.Module`` (an ``nn.Sequential`` of the modules in the table above, nested Sequentials allowed),
    or a state_dict (a mapping of names to tensors, as ``to_torch(net).state_dict()`` or ``zerograd export
    --format torch`` gives). net: a zerograd net whose architecture the result takes (a copy of it, with the
    source's arrays; its class kept, so a ``TwoLayerNet`` comes back as one); required for a state_dict, which
    holds no activations. Raises ``InteropError`` (one line) when a module has no zerograd equivalent or the
    source's architecture differs from ``net``'s.
    """
    if isinstance(source, Mapping):
        for key, value in source.items():
            check_tensor(str(key), value)
        if net is None:
            raise InteropError(
                "a state_dict holds no activations or dropout: pass net= (a zerograd net of the same "
                "architecture, e.g. zerograd.checkpoint.load(...).net) or the torch module itself"
            )
        module = to_torch(net)
        _load_into(module, source, type(net).__name__)
        source = module
    if not isinstance(source, nn.Module):
        raise InteropError(f"from_torch takes a torch.nn.Module or a state_dict, got {type(source).__name__}")
    for key, value in source.state_dict(keep_vars=True).items():
        check_tensor(key, value)
    built = Sequential(*_layers_from_module(source))
    if net is None:
        return built
    return _into_architecture(built, net)


def _load_into(module: Any, state: Mapping[str, Any], what: str) -> None:
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if (missing or unexpected) and _same_layout(expected, state):
        # torch's own numbering ("0.weight", "2.weight") for the same tensors in the same order: take them in order
        state = dict(zip(expected, state.values(), strict=True))
        missing = unexpected = []
    if missing or unexpected:
        parts = ([f"lacks {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}"] if missing else []) + (
            [f"has unknown {', '.join(unexpected[:4])}{' ...' if len(unexpected) > 4 else ''}"] if unexpected else []
        )
        raise InteropError(f"the state_dict is not of this {what}: it {' and '.join(parts)}")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise InteropError(f"the state_dict's {key!r} is a {type(value).__name__}, not a tensor")
        if tuple(value.shape) != tuple(expected[key].shape):
            raise InteropError(
                f"the state_dict is not of this {what}: {key} is {tuple(value.shape)}, the "
                f"{what} needs {tuple(expected[key].shape)}"
            )
    module.load_state_dict(state, strict=True)


def _same_layout(expected: Mapping[str, Any], state: Mapping[str, Any]) -> bool:
    """Same number of tensors, same shapes in the same order, names aside."""
    return len(expected) == len(state) and all(
        isinstance(b, torch.Tensor)
        and tuple(a.shape) == tuple(b.shape)
        and a_key.rsplit(".", 1)[-1] == b_key.rsplit(".", 1)[-1]
        for (a_key, a), (b_key, b) in zip(expected.items(), state.items(), strict=True)
    )


def _modules(module: Any) -> list[tuple[str, Any]]:
    """The leaf modules in order, nested ``nn.Sequential``s opened up."""
    if not isinstance(module, nn.Sequential):
        return [("", module)]
    out: list[tuple[str, Any]] = []
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential):
            out += [(f"{name}.{inner}", m) for inner, m in _modules(child)]
        else:
            out.append((name, child))
    return out


def _pair_int(value: Any, what: str, where: str) -> int:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or pair[0] != pair[1] or not isinstance(pair[0], int):
        raise InteropError(f"{where}: zerograd takes one {what} for both axes, got {value!r}")
    return int(pair[0])


def _layers_from_module(module: Any) -> list[tuple[str, Any] | Any]:
    """zerograd layers for the module's leaves, named after them when the names are zerograd-like."""
    leaves = _modules(module)
    layers: list[Any] = []
    flat = False  # an nn.Flatten came and no Unflatten yet: the values are (N, D)
    for i, (name, m) in enumerate(leaves):
        where = f"module {name or type(m).__name__} ({type(m).__name__})"
        layer: Any
        if isinstance(m, nn.Flatten):
            if (m.start_dim, m.end_dim) != (1, -1):
                raise InteropError(f"{where}: only Flatten(1, -1) has a zerograd equivalent")
            flat = True  # zerograd's Affine and BatchNormalization flatten by themselves
            continue
        if isinstance(m, nn.Unflatten):
            if not (
                i >= 2 and isinstance(leaves[i - 1][1], nn.BatchNorm1d) and isinstance(leaves[i - 2][1], nn.Flatten)
            ):
                raise InteropError(
                    f"{where}: zerograd takes Unflatten only right after Flatten → BatchNorm1d (a "
                    "batch norm over images)"
                )
            flat = False
            continue
        if isinstance(m, nn.Identity):
            continue
        if isinstance(m, nn.Linear):
            b = _array(m.bias) if m.bias is not None else np.zeros(m.out_features, dtype=_array(m.weight).dtype)
            layer = Affine(np.ascontiguousarray(_array(m.weight).T), b)
        elif isinstance(m, nn.ReLU):
            layer = Relu()
        elif isinstance(m, nn.Sigmoid):
            layer = Sigmoid()
        elif isinstance(m, nn.BatchNorm1d):
            if not m.affine or not m.track_running_stats or m.momentum is None:
                raise InteropError(
                    f"{where}: zerograd's BatchNormalization needs affine=True, "
                    "track_running_stats=True and a momentum (not None)"
                )
            layer = BatchNormalization(
                _array(m.weight),
                _array(m.bias),
                momentum=1.0 - m.momentum,
                running_mean=_array(m.running_mean),
                running_var=_array(m.running_var),
                eps=m.eps,
            )
        elif isinstance(m, BookDropout):
            layer = Dropout(m.p)
        elif isinstance(m, nn.Dropout):
            raise InteropError(
                f"{where}: torch's Dropout scales while training, zerograd's (the book's) at "
                "inference; use zerograd.interop.torch.BookDropout(p), or remove it for inference"
            )
        elif isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
            if flat:
                raise InteropError(f"{where}: a convolution or pooling after Flatten has no zerograd equivalent")
            layer = _conv_layer(m, where)
        else:
            raise InteropError(
                f"{where} has no zerograd equivalent; zerograd takes Linear, ReLU, Sigmoid, "
                "BatchNorm1d, BookDropout, Conv2d, MaxPool2d, Flatten"
            )
        layers.append((name, layer) if _zerograd_name(name) else layer)
    if not layers:
        raise InteropError(f"the torch module {type(module).__name__} has no layers zerograd can take")
    return layers


def _conv_layer(m: Any, where: str) -> Any:
    conv = _conv_classes()
    if conv is None:
        raise InteropError(f"{where}: this zerograd has no convolution layers")
    Convolution, Pooling = conv  # noqa: N806 (classes)
    if isinstance(m, nn.Conv2d):
        if (
            m.groups != 1
            or _pair_int(m.dilation, "dilation", where) != 1
            or m.padding_mode != "zeros"
            or isinstance(m.padding, str)
        ):
            raise InteropError(
                f"{where}: zerograd's Convolution takes groups=1, dilation=1 and zero padding by a number"
            )
        w = _array(m.weight)
        b = _array(m.bias) if m.bias is not None else np.zeros(w.shape[0], dtype=w.dtype)
        return Convolution(
            w, b, stride=_pair_int(m.stride, "stride", where), pad=_pair_int(m.padding, "padding", where)
        )
    if _pair_int(m.dilation, "dilation", where) != 1 or m.ceil_mode or m.return_indices:
        raise InteropError(f"{where}: zerograd's Pooling takes dilation=1, ceil_mode=False, return_indices=False")
    kh, kw = (m.kernel_size, m.kernel_size) if isinstance(m.kernel_size, int) else m.kernel_size
    stride = m.stride if m.stride is not None else m.kernel_size
    return Pooling(
        int(kh), int(kw), stride=_pair_int(stride, "stride", where), pad=_pair_int(m.padding, "padding", where)
    )


def _zerograd_name(name: str) -> bool:
    # names to_torch gave (Affine1, BatchNorm2); torch's own "0", "1" and nested "3.1" get zerograd's counting
    return bool(name) and name[0].isalpha() and name.replace("_", "").isalnum()


def _into_architecture(built: Any, net: Any) -> Any:
    """A copy of ``net`` holding ``built``'s arrays, after checking that both are the same architecture."""
    ours = [(layer.spec() if hasattr(layer, "spec") else None) for layer in net.layers.values()]
    theirs = [layer.spec() for layer in built.layers.values()]
    what = type(net).__name__
    if len(ours) != len(theirs):
        raise InteropError(
            f"the torch model has {len(theirs)} zerograd layers, the {what} has {len(ours)}: not the same architecture"
        )
    for (name, _), a, b in zip(net.layers.items(), ours, theirs, strict=True):
        if a != b:
            raise InteropError(f"not the {what}'s architecture: its layer {name} is {a}, the torch model's is {b}")
    clone = copy.deepcopy(net)
    for targets, sources in ((clone.params, built.params), (clone.buffers, built.buffers)):
        for key, target in targets.items():
            target[...] = sources[key]  # in place: the layers hold these arrays (dtype converted if it differs)
    return clone
