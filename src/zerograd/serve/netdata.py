"""The layer view of ``TwoLayerNet`` on one real digit, as JSON for the step-through net page.

``net_view_data(index, steps)`` takes test digit ``index`` of the bundled MNIST sample, a fresh
``TwoLayerNet(784, 50, 10)`` (seed 0, the book's initial weights of std 0.01), applies ``steps`` plain SGD steps
on that one digit, then runs one forward and backward pass through the net's own layers
(``zerograd.graph.trace_net``) and reports what flowed: the shape of every array between layers, the norm of its
gradient, every parameter's shape, norm and gradient norm, the loss and the probabilities. Each step recomputes from
the same start, so the answer depends on ``(index, steps)`` alone and the server keeps no state between requests.

``net_page_data(indices, max_steps)`` adds the page's fixed parts and, for an exported page (no server to ask),
every ``(index, steps)`` view it can show, precomputed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..functions import softmax
from ..graph.layout import layout_dag
from ..graph.netview import trace_net
from ..run import RunSpec

__all__ = ["FORMULAS", "LR", "MAX_STEPS", "NetInputError", "digit_choices", "net_html", "net_page_data",
           "net_structure", "net_view_data"]

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
}


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


def net_view_data(index: int, steps: int = 0) -> dict[str, Any]:
    """The layer view after ``steps`` SGD steps (lr ``LR``) on test digit ``index``, from the same fresh net."""
    x_all, t_all = _digits()
    for name, value, top in (("digit", index, len(x_all) - 1), ("steps", steps, MAX_STEPS)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= top:
            raise NetInputError(f"{name} must be an integer from 0 to {top}, got {value!r}")
    x, t = x_all[index : index + 1], t_all[index : index + 1].astype(np.int64)
    net = RunSpec(net="twolayer", hidden=(HIDDEN,), dtype="float64", init_seed=(SEED,)).build_net(784, 10)
    start_loss = float(net.loss(x, t))
    for _ in range(steps):
        grads = net.gradient(x, t)
        for key, param in net.params.items():
            param -= LR * grads[key]  # SGD, in place: the layers hold these very arrays
    trace = trace_net(net, x, t)
    probs = softmax(net.predict(x))[0]
    norms = {key: float(np.linalg.norm(param)) for key, param in net.params.items()}
    return {
        "index": int(index), "label": int(t[0]), "steps": int(steps), "lr": LR,
        "loss": trace.loss, "start_loss": start_loss,
        "probabilities": [float(p) for p in probs], "predicted": int(np.argmax(probs)),
        "layers": [
            {"name": info.name, "kind": info.kind,
             "params": [{"name": p.name, "shape": list(p.shape), "grad_norm": p.grad_norm, "norm": norms[p.name]}
                        for p in info.params]}
            for info in trace.layers
        ],
        "arrows": [
            {"source": a.source, "target": a.target, "shape": list(a.shape), "grad_norm": a.grad_norm,
             "value": a.value}
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
        "forward": layer_names, "backward": layer_names[::-1],
        "formulas": {name: FORMULAS.get(info["kind"], ("", "")) for name, info in
                     ((info["name"], info) for info in view["layers"])},
    }


def net_page_data(index: int | None = None, precompute_steps: int | None = None) -> dict[str, Any]:
    """Everything the net page starts with: the first view, its layout, the digits to choose from (with their
    pixels), and — when ``precompute_steps`` is given, for a page with no server — every view for each digit
    choice and 0..precompute_steps SGD steps."""
    x_all, _ = _digits()
    choices = digit_choices()
    first = net_view_data(choices[0]["index"] if index is None else index, 0)
    data: dict[str, Any] = {
        "type": "net-view", "title": f"TwoLayerNet(784, {HIDDEN}, 10) on one real digit", "view": first,
        **net_structure(first), "max_steps": MAX_STEPS,
        "digits": [{**c, "pixels": _pixels(x_all[c["index"]])} for c in choices],
    }
    if index is not None and index not in {c["index"] for c in choices}:
        data["digits"].append({"index": index, "label": first["label"], "pixels": _pixels(x_all[index])})
    if precompute_steps is not None:
        data["max_steps"] = precompute_steps
        data["views"] = {f"{d['index']}:{k}": _compact(net_view_data(d["index"], k))
                         for d in data["digits"] for k in range(precompute_steps + 1)}
    return data


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

    return page(data["title"], "net.html", ("net.js",), data, served=served, here="/graph/net")
