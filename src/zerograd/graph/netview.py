"""The layer view of a net: ``Affine1 → Relu1 → Affine2 → SoftmaxWithLoss`` with the arrays that flow between.

``trace_net(net, x, t)`` runs one forward and one backward pass through the net's own layers (the same steps as
``net.gradient``) and records, for every arrow between layers, the shape of the array going forward and the norm
of the gradient coming back, and for every layer its parameters' shapes and gradient norms. ``draw_net`` draws
that record in the style of ``zerograd.graph.drawing``: shapes above the arrows, gradient norms under them in red.

Works with any ``zerograd.nets.Sequential``: TwoLayerNet, MultiLayerNet, BatchNorm and Dropout nets, your own
layers.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..nets import Sequential
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

    The net's own walk (``Sequential.forward`` / ``backward``) is used, in the mode ``net.gradient`` uses; the
    parameter gradients recorded are those ``net.gradient`` returns (weight decay included).
    """
    if not isinstance(net, Sequential):
        raise TypeError(
            f"trace_net needs a zerograd net (a Sequential, such as TwoLayerNet or MultiLayerNet), got "
            f"{type(net).__name__}"
        )
    x = net._check_input(x)
    t = np.asarray(t)
    train_flg = net.training

    # forward, keeping every array that crosses an arrow
    activations = [x]
    net.forward(x, train_flg, trace=activations)
    loss_name = type(net.last_layer).__name__
    names = ["x", *net.layers.keys(), loss_name]
    loss = float(net.last_layer.forward(activations[-1], t)) + net.weight_decay()

    # backward: gradients[i] = dL/d activations[i]
    backward: list[Any] = []
    net.backward(1.0, trace=backward)
    gradients = backward[::-1]
    grads = net.collect_gradients()

    layers = []
    for name, layer in net.layers.items():
        params = tuple(
            ParamInfo(key, tuple(net.params[key].shape), float(np.linalg.norm(grads[key])))
            for key, (owner, _) in net.param_owner.items()
            if owner == name
        )
        layers.append(LayerInfo(name, type(layer).__name__, params))
    layers.append(LayerInfo(loss_name, loss_name))

    arrows = [
        Arrow(names[i], names[i + 1], tuple(a.shape), float(np.linalg.norm(gradients[i])))
        for i, a in enumerate(activations)
    ]
    arrows.append(Arrow("t", loss_name, tuple(t.shape), None))
    arrows.append(Arrow(loss_name, "loss", (), 1.0, value=loss))
    title = f"{_shortened(repr(net))}, a batch of {x.shape[0]}"
    return NetTrace(title, tuple(layers), tuple(arrows), loss)


def _shortened(text: str, most: int = 240) -> str:
    """``text``, its middle cut to "…" when longer than ``most`` characters (a 3,000-layer net's repr is 12,000:
    graphviz refuses a label over 16,384 bytes)."""
    return text if len(text) <= most else f"{text[: most * 2 // 3]} … {text[-most // 3 :]}"


def draw_net(trace: NetTrace, forward: bool = True, backward: bool = True, title: bool = True) -> graphviz.Digraph:
    """The layer view as a left-to-right ``graphviz.Digraph``: each layer a box listing its parameters (shape and
    gradient norm), each arrow the array's shape above and ``‖dL/d array‖`` below in red."""
    import graphviz

    g = graphviz.Digraph("net")
    g.attr(rankdir="LR", ordering="in", nodesep="0.3", ranksep="0.15", fontname=FONT, bgcolor="white")
    if title:
        g.attr(
            label=html.escape(f"{trace.title} — above the arrows: array shapes; below, in red: gradient norms"),
            labelloc="b",
            fontsize="11",
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
            if backward
            else ""
        )
        rows.append(
            f'<tr><td align="left">{html.escape(p.name)} {html.escape(format_shape(p.shape))}</td>'
            f'<td align="left">{grad}</td></tr>'
        )
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">' + "".join(rows) + "</table>>"


def net_view(net: Any, x: ArrayLike, t: ArrayLike, forward: bool = True, backward: bool = True) -> graphviz.Digraph:
    """``draw_net(trace_net(net, x, t))``: one forward and backward pass, drawn."""
    return draw_net(trace_net(net, x, t), forward=forward, backward=backward)
