"""The layer view of a net: ``Affine1 → Relu1 → Affine2 → SoftmaxWithLoss`` with the arrays that flow between.

``trace_net(net, x, t)`` runs one forward and one backward pass through the net's own layers (the same steps as
``net.gradient``) and records, for every arrow between layers, the shape of the array going forward and the norm
of the gradient coming back, and for every layer its parameters' shapes and gradient norms. ``draw_net`` draws
that record in the style of ``zerograd.graph.drawing``: shapes above the arrows, gradient norms under them in red.

Works with ``zerograd.nets.TwoLayerNet`` and ``MultiLayerNet`` (any depth, ReLU or sigmoid, with weight decay).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .drawing import BACKWARD_COLOR, FONT, add_arrow, format_number, format_shape

if TYPE_CHECKING:
    import graphviz

__all__ = ["Arrow", "LayerInfo", "NetTrace", "ParamInfo", "draw_net", "net_view", "trace_net"]


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of a layer: its name (``W1``), shape and the norm of its gradient ``‖dW1‖``."""

    name: str
    shape: tuple[int, ...]
    grad_norm: float


@dataclass(frozen=True)
class LayerInfo:
    """One layer of the view: its key in ``net.layers`` (``Affine1``), its class name and parameters."""

    name: str
    kind: str
    params: tuple[ParamInfo, ...] = ()


@dataclass(frozen=True)
class Arrow:
    """An array flowing from ``source`` to ``target`` (layer names, or ``x``, ``t``, ``loss``).

    shape: the forward array's shape; grad_norm: ``‖dL/d array‖`` of the backward pass (``None`` for the labels
    ``t``, which get no gradient); value: the number itself for the scalar loss.
    """

    source: str
    target: str
    shape: tuple[int, ...]
    grad_norm: float | None
    value: float | None = None


@dataclass(frozen=True)
class NetTrace:
    """What one forward and backward pass through a net went through: layers in order, arrows, the loss."""

    title: str
    layers: tuple[LayerInfo, ...]
    arrows: tuple[Arrow, ...]
    loss: float

    def layer(self, name: str) -> LayerInfo:
        for info in self.layers:
            if info.name == name:
                return info
        raise KeyError(f"no layer {name!r}; the layers are {[info.name for info in self.layers]}")


def trace_net(net: Any, x: ArrayLike, t: ArrayLike) -> NetTrace:
    """Run ``net`` forward and backward on ``x`` ``(N, D)`` and labels ``t`` ``(N,)``/``(N, C)``; record the view.

    The parameter gradients recorded are those ``net.gradient(x, t)`` returns (weight decay included); the net's
    layers are left as after ``net.gradient``.
    """
    for attribute in ("layers", "last_layer", "params"):
        if not hasattr(net, attribute):
            raise TypeError(
                f"trace_net needs a layered net such as TwoLayerNet or MultiLayerNet (with .layers, .last_layer "
                f"and .params), got {type(net).__name__}"
            )
    x = net._check_input(x) if hasattr(net, "_check_input") else np.asarray(x)
    t = np.asarray(t)
    lam = float(getattr(net, "weight_decay_lambda", 0.0))

    # forward, keeping every array that crosses an arrow
    names = ["x", *net.layers.keys(), "SoftmaxWithLoss"]
    activations = [x]
    for layer in net.layers.values():
        activations.append(layer.forward(activations[-1]))
    loss = float(net.last_layer.forward(activations[-1], t))
    if lam:
        loss += 0.5 * lam * sum(float(np.sum(np.square(w))) for key, w in net.params.items() if key.startswith("W"))

    # backward: gradients[i] = dL/d activations[i]
    gradients: list[Any] = [None] * len(activations)
    gradients[-1] = net.last_layer.backward(1.0)
    for i, layer in reversed(list(enumerate(net.layers.values()))):
        gradients[i] = layer.backward(gradients[i + 1])

    layers = []
    for name, layer in net.layers.items():
        params = []
        for pname, param in getattr(layer, "params", {}).items():
            grad = getattr(layer, "d" + pname)
            if lam and pname == "W":
                grad = grad + lam * param  # d(λ/2 ‖W‖²)/dW = λW, as net.gradient adds it
            key = _param_key(net, param) or pname
            params.append(ParamInfo(key, tuple(param.shape), float(np.linalg.norm(grad))))
        layers.append(LayerInfo(name, type(layer).__name__, tuple(params)))
    layers.append(LayerInfo("SoftmaxWithLoss", type(net.last_layer).__name__))

    arrows = [
        Arrow(names[i], names[i + 1], tuple(a.shape), float(np.linalg.norm(gradients[i])))
        for i, a in enumerate(activations)
    ]
    arrows.append(Arrow("t", "SoftmaxWithLoss", tuple(t.shape), None))
    arrows.append(Arrow("SoftmaxWithLoss", "loss", (), 1.0, value=loss))
    title = f"{net!r}, a batch of {x.shape[0]}"
    return NetTrace(title, tuple(layers), tuple(arrows), loss)


def _param_key(net: Any, param: np.ndarray) -> str | None:
    """The name (``W1``) under which ``net.params`` holds this very array."""
    for key, value in net.params.items():
        if value is param:
            return key
    return None


def draw_net(trace: NetTrace, forward: bool = True, backward: bool = True, title: bool = True) -> graphviz.Digraph:
    """The layer view as a left-to-right ``graphviz.Digraph``: each layer a box listing its parameters (shape and
    gradient norm), each arrow the array's shape above and ``‖dL/d array‖`` below in red."""
    import graphviz

    g = graphviz.Digraph("net")
    g.attr(rankdir="LR", ordering="in", nodesep="0.3", ranksep="0.15", fontname=FONT, bgcolor="white")
    if title:
        g.attr(
            label=html.escape(f"{trace.title} — above the arrows: array shapes; below, in red: gradient norms"),
            labelloc="b", fontsize="11",
        )
    g.attr("node", fontname=FONT)
    g.attr("edge", arrowsize="0.7")
    for name in ("x", "t", "loss"):
        g.node(name, label=name, shape="plaintext", fontsize="14")
    for info in trace.layers:
        g.node(info.name, label=_layer_label(info, backward), shape="box", style="rounded", margin="0.1,0.05")
    for k, a in enumerate(trace.arrows):
        if a.value is not None:  # the scalar loss: its value, and the gradient 1 that starts the backward pass
            top, bottom = format_number(a.value), format_number(a.grad_norm) if a.grad_norm is not None else None
        else:
            top = format_shape(a.shape)
            bottom = None if a.grad_norm is None else f"‖g‖ = {format_number(a.grad_norm, 4)}"
        add_arrow(g, f"a{k}", a.source, a.target, top if forward else None, bottom if backward else None, 60)
    return g


def _layer_label(info: LayerInfo, backward: bool) -> str:
    rows = [f'<tr><td colspan="2"><b>{html.escape(info.name)}</b></td></tr>']
    for p in info.params:
        grad = (
            f'<font color="{BACKWARD_COLOR}">‖d{html.escape(p.name)}‖ = {format_number(p.grad_norm, 4)}</font>'
            if backward else ""
        )
        rows.append(
            f'<tr><td align="left">{html.escape(p.name)} {html.escape(format_shape(p.shape))}</td>'
            f'<td align="left">{grad}</td></tr>'
        )
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">' + "".join(rows) + "</table>>"


def net_view(net: Any, x: ArrayLike, t: ArrayLike, forward: bool = True, backward: bool = True) -> graphviz.Digraph:
    """``draw_net(trace_net(net, x, t))``: one forward and backward pass, drawn."""
    return draw_net(trace_net(net, x, t), forward=forward, backward=backward)
