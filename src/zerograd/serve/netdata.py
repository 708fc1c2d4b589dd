"""The layer view of a net on one real digit, as JSON for the step-through net page.

``net_view_data(index, steps, source)`` takes test digit ``index`` of the bundled MNIST sample and a fresh copy of
the source's net — by default ``TwoLayerNet(784, 50, 10)`` (seed 0, the book's initial weights of std 0.01), or
any trained net from a checkpoint (``checkpoint_source``: a ``Sequential`` with BatchNorm and Dropout, a conv
net) — applies ``steps`` plain SGD steps on that one digit, then runs one forward and backward pass through the
net's own layers (``zerograd.graph.trace_net``) and reports what flowed: the shape of every array between layers,
the norm of its gradient, every parameter's shape, norm and gradient norm, the loss and the probabilities. Each
step recomputes from the same start, so the answer depends on ``(index, steps)`` alone and the server keeps no
state between requests.

``net_page_data(index, precompute_steps, source)`` adds the page's fixed parts and, for an exported page (no server
to ask), every ``(index, steps)`` view it can show, precomputed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from ..functions import softmax
from ..graph.layout import layout_dag
from ..graph.netview import trace_net
from ..run import RunSpec

__all__ = [
    "FORMULAS",
    "LR",
    "MAX_STEPS",
    "TWOLAYER",
    "NetInputError",
    "NetSource",
    "checkpoint_source",
    "digit_choices",
    "net_html",
    "net_page_data",
    "net_page_digits",
    "net_structure",
    "net_view_data",
    "net_views",
]

LR = 0.1  # the chapter's learning rate
MAX_STEPS = 50  # SGD steps a request may ask for; each is one 784-50-10 gradient on one digit
SEED = 0
HIDDEN = 50

# What each layer does forward and backward, as the chapter writes it (dout: the gradient arriving from above).
FORMULAS: dict[str, tuple[str, str]] = {
    "Affine": ("out = x·W + b", "dx = dout·Wᵀ,  dW = xᵀ·dout,  db = Σₙ dout"),
    "Relu": ("out = max(0, x)", "dx = dout where x > 0, else 0"),
    "Sigmoid": ("out = 1 / (1 + exp(−x))", "dx = dout · out · (1 − out)"),
    "SoftmaxWithLoss": ("y = softmax(x),  loss = −Σ t·log y / N", "dx = (y − t) / N   (the loss's dout is 1)"),
    "BatchNormalization": (
        "out = γ·(x − μ)/σ + β  (inference: the running μ, σ)",
        "dx = γ·dout/σ,  dγ = Σₙ dout·x̂,  dβ = Σₙ dout",
    ),
    "Dropout": ("out = x  (inference: every unit kept, scaled by 1 − ratio)", "dx = dout  (scaled the same)"),
    "Convolution": (
        "out = im2col(x)·W + b  (each filter slid over the image)",
        "dW = colᵀ·dout,  db = Σ dout,  dx = col2im(dout·Wᵀ)",
    ),
    "Pooling": ("out = the maximum of each window", "dx = dout at each window's maximum, else 0"),
}


@dataclass(frozen=True)
class NetSource:
    """Where the net page's net comes from: ``make()`` returns a fresh copy of the starting net, each time."""

    title: str
    make: Callable[[], Any]


def _twolayer() -> Any:
    return RunSpec(net="twolayer", hidden=(HIDDEN,), dtype="float64", init_seed=(SEED,)).build_net(784, 10)


TWOLAYER = NetSource(f"TwoLayerNet(784, {HIDDEN}, 10) on one real digit", _twolayer)


def checkpoint_source(net: Any, name: str) -> NetSource:
    """The trained ``net`` (from the checkpoint ``name``) for the net page, in inference mode: running
    statistics for BatchNorm, no dropout, so one digit is a meaningful batch and every step is deterministic.

    Raises ``NetInputError`` for a net that is not a ``Sequential`` taking 28×28 images."""
    from ..nets import Sequential

    if not isinstance(net, Sequential):
        raise NetInputError(f"{name}: the net view shows zerograd nets (a Sequential), not {type(net).__name__}")
    pristine = copy.deepcopy(net)
    pristine.eval()  # NOTE: in training mode BatchNorm's statistics of a batch of one are 0 and 0: no signal at all
    try:
        pristine.predict(np.zeros((1, 784), dtype=pristine.dtype))
    except ValueError as err:
        raise NetInputError(f"{name}: the net view needs a net for 28×28 images ({str(err).splitlines()[0]})") from None
    return NetSource(f"{type(net).__name__} of {name} on one real digit", lambda: copy.deepcopy(pristine))


class NetInputError(ValueError):
    """A digit index or a step count out of range; the message is one line."""


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from ..datasets import load_mnist_sample

    ds = load_mnist_sample(dtype=np.float64)
    return ds.x_test, ds.t_test


def digit_choices() -> list[dict[str, int]]:
    """The first test digit of each class 0–9: ``[{"index": 3, "label": 0}, ...]``."""
    _, t = _digits()
    return [{"index": int(np.flatnonzero(t == c)[0]), "label": c} for c in range(10)]


def net_view_data(index: int, steps: int = 0, source: NetSource = TWOLAYER) -> dict[str, Any]:
    """The layer view after ``steps`` SGD steps (lr ``LR``) on test digit ``index``, from the same fresh net."""
    *_, last = net_views(index, steps, source)
    return last


def net_views(index: int, steps: int, source: NetSource = TWOLAYER) -> Iterator[dict[str, Any]]:
    """The views after 0, 1, …, ``steps`` SGD steps on test digit ``index``, one fresh net stepped along."""
    x_all, t_all = _digits()
    for name, value, top in (("digit", index, len(x_all) - 1), ("steps", steps, MAX_STEPS)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= top:
            raise NetInputError(f"{name} must be an integer from 0 to {top}, got {value!r}")
    net = source.make()
    x, t = x_all[index : index + 1].astype(net.dtype), t_all[index : index + 1].astype(np.int64)
    start_loss = float(net.loss(x, t, train_flg=net.training))
    for k in range(steps + 1):
        if k:
            grads = net.gradient(x, t)
            for key, param in net.params.items():
                param -= LR * grads[key]  # SGD, in place: the layers hold these very arrays
        yield _view(net, x, t, index, k, start_loss)


def _view(net: Any, x: np.ndarray, t: np.ndarray, index: int, steps: int, start_loss: float) -> dict[str, Any]:
    trace = trace_net(net, x, t)
    probs = softmax(net.predict(x, train_flg=net.training).astype(np.float64))[0]
    norms = {key: float(np.linalg.norm(param)) for key, param in net.params.items()}
    return {
        "index": int(index),
        "label": int(t[0]),
        "steps": int(steps),
        "lr": LR,
        "mode": "training" if net.training else "inference",
        "loss": trace.loss,
        "start_loss": start_loss,
        "probabilities": [float(p) for p in probs],
        "predicted": int(np.argmax(probs)),
        "layers": [
            {
                "name": info.name,
                "kind": info.kind,
                "params": [
                    {"name": p.name, "shape": list(p.shape), "grad_norm": p.grad_norm, "norm": norms[p.name]}
                    for p in info.params
                ],
            }
            for info in trace.layers
        ],
        "arrows": [
            {"source": a.source, "target": a.target, "shape": list(a.shape), "grad_norm": a.grad_norm, "value": a.value}
            for a in trace.arrows
        ],
    }


def net_structure(view: dict[str, Any]) -> dict[str, Any]:
    """Places for the boxes of a view (left to right by depth) and the forward/backward step order."""
    layer_names = [info["name"] for info in view["layers"]]  # ..., "SoftmaxWithLoss"
    order = ["x", *layer_names[:-1], "t", layer_names[-1], "loss"]
    inputs: dict[str, list[str]] = {}
    for a in view["arrows"]:
        inputs.setdefault(a["target"], []).append(a["source"])
    places = layout_dag(order, inputs).places
    return {
        "places": {key: [p.column, p.row] for key, p in places.items()},
        "forward": layer_names,
        "backward": layer_names[::-1],
        "formulas": {
            name: FORMULAS.get(info["kind"], ("", ""))
            for name, info in ((info["name"], info) for info in view["layers"])
        },
    }


def net_page_data(
    index: int | None = None, precompute_steps: int | None = None, source: NetSource = TWOLAYER
) -> dict[str, Any]:
    """Everything the net page starts with: the first view, its layout, the digits to choose from (with their
    pixels), and — when ``precompute_steps`` is given, for a page with no server — every view for each digit
    choice and 0..precompute_steps SGD steps."""
    x_all, _ = _digits()
    choices = digit_choices()
    first = net_view_data(choices[0]["index"] if index is None else index, 0, source)
    data: dict[str, Any] = {
        "type": "net-view",
        "title": source.title,
        "view": first,
        **net_structure(first),
        "max_steps": MAX_STEPS,
        "digits": net_page_digits(),
    }
    if index is not None and index not in {c["index"] for c in choices}:
        data["digits"].append({"index": index, "label": first["label"], "pixels": _pixels(x_all[index])})
    if precompute_steps is not None:
        data["max_steps"] = precompute_steps
        data["views"] = {
            f"{d['index']}:{view['steps']}": _compact(view)
            for d in data["digits"]
            for view in net_views(d["index"], precompute_steps, source)
        }
    return data


def net_page_digits() -> list[dict[str, Any]]:
    """The first test digit of each class with its 28×28 pixels: ``[{"index": 3, "label": 0, "pixels": ...}]``."""
    x_all, _ = _digits()
    return [{**c, "pixels": _pixels(x_all[c["index"]])} for c in digit_choices()]


def _pixels(x: np.ndarray) -> list[list[float]]:
    return np.round(x.reshape(28, 28), 3).tolist()


def _compact(view: dict[str, Any]) -> dict[str, Any]:
    """A view with its floats cut to 6 significant digits: what the page shows, at a third of the size."""

    def cut(value: Any) -> Any:
        if isinstance(value, float):
            return float(f"{value:.6g}")
        if isinstance(value, list):
            return [cut(v) for v in value]
        if isinstance(value, dict):
            return {k: cut(v) for k, v in value.items()}
        return value

    return cut(view)


def net_html(data: dict[str, Any], served: bool = False) -> str:
    """The net page of ``data`` (from ``net_page_data``)."""
    from .pages import page

    return page(data["title"], "net.html", ("lesson.js", "net.js"), data, served=served, here="/graph/net")
