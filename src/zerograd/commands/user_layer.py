"""``zerograd gradcheck --layer FILE.py:CLASS``: your own layer class, loaded from the file you name, on small inputs.

The file is run as Python (it is your code, named on your command line; nothing else is ever loaded). The class
needs ``forward`` and ``backward``. It is built and fed by what its signatures ask for:

- a subclass of a zerograd layer (``class MyAffine(Affine)``) gets that layer's arguments and inputs;
- otherwise ``__init__`` arguments are matched by the book's names: ``W, b`` (an affine layer, or a convolution
  when it also takes ``stride``/``pad``), ``gamma, beta`` (batch norm), ``pool_h, pool_w`` (pooling); every other
  argument needs a default;
- ``forward(x)`` gets ``x`` of shape ``(4, 5)`` (images ``(2, 2, 6, 5)`` for a convolution or pooling),
  ``forward(x, t)`` logits and labels, ``forward(x, y)`` two arrays, ``forward(x, train_flg)`` also
  ``train_flg=True``.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .common import CommandError

__all__ = ["build_user_layer", "load_user_class"]


def load_user_class(spec: str) -> type:
    """The class ``CLASS`` of ``FILE.py:CLASS``; CommandError (one line) for a missing file, class or method."""
    path_text, sep, name = spec.rpartition(":")
    if not sep or not path_text or not name:
        raise CommandError(f"--layer must be FILE.py:CLASS (a Python file and a class in it), got {spec!r}")
    path = Path(path_text)
    if not path.is_file():
        raise CommandError(f"--layer: no file {path_text!r}")
    module_name = f"_zerograd_user_layer_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise CommandError(f"--layer: {path_text!r} cannot be loaded as Python (name it .py)")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module  # dataclasses and pickling look classes up by their module
    try:
        module_spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 (the user's file: any error is reported as one line)
        sys.modules.pop(module_name, None)
        raise CommandError(f"--layer: running {path_text} raised {type(err).__name__}: {err}") from None
    cls = getattr(module, name, None)
    if not inspect.isclass(cls):
        classes = sorted(k for k, v in vars(module).items() if inspect.isclass(v) and v.__module__ == module_name)
        raise CommandError(
            f"--layer: {path_text} has no class {name!r}" + (f" (its classes: {', '.join(classes)})" if classes else "")
        )
    missing = [m for m in ("forward", "backward") if not callable(getattr(cls, m, None))]
    if missing:
        raise CommandError(
            f"--layer: class {name} has no {' and no '.join(missing)} method; a layer needs "
            "forward(x) and backward(dout)"
        )
    return cls


def build_user_layer(cls: type, seed: int = 0) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``(layer, inputs, forward's keyword arguments)`` for a check of ``cls`` on small random float64 inputs."""
    from ..convolution import Convolution, Pooling
    from ..layers import Affine, BatchNormalization, Dropout

    rng = np.random.default_rng(seed)
    init = _required_arguments(getattr(cls, "__init__"))  # noqa: B009 (mypy: a class's own __init__)
    args: dict[str, Any]
    kind = next(
        (base for base in (Affine, Convolution, Pooling, BatchNormalization, Dropout) if issubclass(cls, base)), None
    )
    conv_like = _takes(getattr(cls, "__init__"), "stride", "pad")  # noqa: B009
    if kind is Convolution or (kind is None and {"W", "b"} <= set(init) and conv_like):
        kind, args = Convolution, {"W": rng.standard_normal((3, 2, 3, 2)), "b": rng.standard_normal(3)}
    elif kind is Affine or (kind is None and {"W", "b"} <= set(init)):
        kind, args = Affine, {"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3)}
    elif kind is BatchNormalization or (kind is None and {"gamma", "beta"} <= set(init)):
        kind, args = BatchNormalization, {"gamma": rng.uniform(0.5, 1.5, 5), "beta": rng.standard_normal(5)}
    elif kind is Pooling or (kind is None and {"pool_h", "pool_w"} <= set(init)):
        kind, args = Pooling, {"pool_h": 2, "pool_w": 2}
    else:
        args = {}
    unknown = [a for a in init if a not in args]
    if unknown:
        raise CommandError(
            f"--layer: {cls.__name__}.__init__ needs {', '.join(unknown)}, which zerograd cannot "
            "guess; give them defaults (or derive the class from a zerograd layer)"
        )
    try:
        layer = cls(**args)
    except Exception as err:  # noqa: BLE001 (the user's constructor)
        raise CommandError(f"--layer: {cls.__name__}({', '.join(args)}) raised {type(err).__name__}: {err}") from None
    forward_method = getattr(cls, "forward")  # noqa: B009 (checked by load_user_class)
    forward = _required_arguments(forward_method, skip_self=True)
    kwargs = {"train_flg": True} if _takes(forward_method, "train_flg") else {}
    forward = [a for a in forward if a != "train_flg"]
    if kind in (Convolution, Pooling):
        # distinct values a step apart: no pooling window holds two maxima within h of each other
        x = rng.permutation(2 * 2 * 6 * 5).reshape(2, 2, 6, 5) / 10.0 - 3.0
    else:
        x = rng.standard_normal((4, 5))
        x = np.where(np.abs(x) < 0.1, 0.5, x)  # off ReLU's kink at 0
    if len(forward) == 1:
        return layer, (x,), kwargs
    if len(forward) == 2 and forward[1] == "t":
        return layer, (x, rng.integers(0, x.shape[1], size=x.shape[0])), kwargs
    if len(forward) == 2:
        return layer, (x, rng.standard_normal(x.shape)), kwargs
    raise CommandError(
        f"--layer: {cls.__name__}.forward takes ({', '.join(forward)}); zerograd can feed forward(x), "
        "forward(x, t) (a loss), forward(x, y) and a train_flg"
    )


def _parameters(function: Any) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return []


def _required_arguments(function: Any, skip_self: bool = False) -> list[str]:
    params = _parameters(function)
    if skip_self or (params and params[0].name == "self"):
        params = params[1:] if params and params[0].name == "self" else params
    plain = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [
        p.name
        for p in params
        if p.kind in plain and (p.default is inspect.Parameter.empty or function.__name__ == "forward")
    ]


def _takes(function: Any, *names: str) -> bool:
    return any(p.name in names for p in _parameters(function))
