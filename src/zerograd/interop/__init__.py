"""Take a trained net elsewhere: ONNX export (``to_onnx``) and PyTorch both ways (``to_torch``, ``from_torch``).

Importing this package is cheap: ``onnx``, ``onnxruntime`` and ``torch`` are imported when a function needs them,
and a missing one raises ``MissingExtraError`` naming the extra to install (``pip install 'zerograd[onnx]'``).
"""

from __future__ import annotations

from typing import Any

from .common import InteropError, MissingExtraError

__all__ = [
    "InteropError",
    "MissingExtraError",
    "from_torch",
    "save_onnx",
    "save_torch",
    "to_onnx",
    "to_torch",
    "torch_state_dict",
]


def to_onnx(net: Any, **kwargs: Any) -> Any:
    """``zerograd.interop.onnx.to_onnx``: the net as an ``onnx.ModelProto``."""
    from .onnx import to_onnx as convert

    return convert(net, **kwargs)


def save_onnx(net: Any, path: Any, **kwargs: Any) -> Any:
    """``zerograd.interop.onnx.save_onnx``: write the net's ONNX model to ``path`` (atomically)."""
    from .onnx import save_onnx as save

    return save(net, path, **kwargs)


def to_torch(net: Any) -> Any:
    """``zerograd.interop.torch.to_torch``: an equivalent ``torch.nn.Sequential``."""
    from .torch import to_torch as convert

    return convert(net)


def torch_state_dict(net: Any) -> Any:
    """``zerograd.interop.torch.torch_state_dict``: the state_dict of ``to_torch(net)``."""
    from .torch import torch_state_dict as convert

    return convert(net)


def save_torch(net: Any, path: Any) -> Any:
    """``zerograd.interop.torch.save_torch``: write ``to_torch(net)``'s state_dict to ``path`` (atomically)."""
    from .torch import save_torch as save

    return save(net, path)


def from_torch(source: Any, net: Any = None) -> Any:
    """``zerograd.interop.torch.from_torch``: a zerograd net from a torch module or state_dict."""
    from .torch import from_torch as convert

    return convert(source, net=net)
