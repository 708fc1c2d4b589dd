"""Exhaustive numerical gradients of a layered net, many perturbations per forward pass.

The element loop perturbs one weight and runs the whole net twice, ``2P`` forward passes for ``P`` weights.
For a net built as the chapter builds it — an ordered dict of layers ending in ``SoftmaxWithLoss``, weights held
by ``Affine`` layers — perturbing one element touches little: with ``Z = X W + b`` the output of the layer that
owns ``W``, moving ``W[i, j]`` by ``h`` moves only column ``j`` of ``Z``, by ``h * X[:, i]`` (and ``b[j]`` by
``h``). So the layers *below* never rerun, and the layers *above* run once on a stack of many perturbed copies of
``Z`` at a time — the same central differences, vectorised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .functions import _as_label_indices
from .layers import Affine, SoftmaxWithLoss

__all__ = ["layered_numerical_gradients"]

# Rows (perturbations × samples) pushed through the upper layers at once: bounds memory to a few tens of MB.
_ROWS_PER_CHUNK = 1 << 16


def _layered_structure(net: Any) -> tuple[list[Any], dict[str, tuple[int, str]]] | None:
    """The layer list and, for each parameter, (index of the Affine that holds it, "W" or "b"); None if the net
    is not built that way."""
    layers = getattr(net, "layers", None)
    last = getattr(net, "last_layer", None) or getattr(net, "lastLayer", None)
    params = getattr(net, "params", None)
    if not isinstance(layers, Mapping) or not isinstance(last, SoftmaxWithLoss) or not isinstance(params, Mapping):
        return None
    key_of = {id(value): key for key, value in params.items()}
    owners: dict[str, tuple[int, str]] = {}
    layer_list = list(layers.values())
    for position, layer in enumerate(layer_list):
        if isinstance(layer, Affine):
            for attr in ("W", "b"):
                key = key_of.get(id(getattr(layer, attr)))
                if key is not None:
                    owners[key] = (position, attr)
    return (layer_list, owners) if set(owners) == set(params) else None


def layered_numerical_gradients(net: Any, x: NDArray, t: NDArray, h: float) -> dict[str, NDArray] | None:
    """Central-difference gradients of ``net.loss(x, t)`` for every parameter, or ``None`` when ``net`` is not
    a layered net of ``Affine`` weights ending in ``SoftmaxWithLoss`` (then use the element loop).

    Includes an L2 penalty ``weight_decay_lambda / 2 · Σ W²`` when the net has that attribute. x: ``(N, ...)``;
    t: integer labels ``(N,)`` or one-hot ``(N, C)``.
    """
    structure = _layered_structure(net)
    if structure is None:
        return None
    layers, owners = structure
    lam = float(getattr(net, "weight_decay_lambda", 0.0) or 0.0)

    inputs = []  # each layer's input, from one clean forward pass
    a = x
    for layer in layers:
        inputs.append(a)
        a = layer.forward(a)
    n, c = a.shape
    t = np.asarray(t)
    one_hot = t.shape == (n, c)
    labels = None if one_hot else _as_label_indices(t, c, "check_net")

    def losses(z_stack: NDArray, start: int) -> NDArray:
        """Mean loss of each perturbed copy: z_stack (K, N, M) is the output of layer ``start - 1``."""
        k = z_stack.shape[0]
        a = z_stack.reshape(k * n, -1)
        for layer in layers[start:]:
            a = layer.forward(a)
        a = a.reshape(k, n, c)
        m = a.max(axis=2, keepdims=True)
        lse = m + np.log(np.exp(a - m).sum(axis=2, keepdims=True))  # log-sum-exp per sample
        if one_hot:
            return np.sum(t * (lse - a), axis=(1, 2)) / n
        return np.mean(lse[:, :, 0] - a[:, np.arange(n), labels], axis=1)

    grads = {}
    for key, (position, attr) in owners.items():
        layer = layers[position]
        x_in = inputs[position].reshape(n, -1)  # (N, D)
        z = x_in @ layer.W + layer.b  # (N, M)
        m = z.shape[1]
        param = getattr(layer, attr)
        grad = np.empty(param.size, dtype=np.float64)
        chunk = max(1, _ROWS_PER_CHUNK // n)
        for start in range(0, param.size, chunk):
            flat = np.arange(start, min(start + chunk, param.size))
            if attr == "W":
                rows, cols = np.divmod(flat, m)
                delta = h * x_in[:, rows].T  # (K, N): W[i, j] += h moves Z[:, j] by h * X[:, i]
            else:
                cols = flat
                delta = np.full((len(flat), n), h)  # b[j] += h moves Z[:, j] by h
            stack = np.broadcast_to(z, (len(flat), n, m)).copy()
            k_index = np.arange(len(flat))[:, None]
            n_index = np.arange(n)[None, :]
            stack[k_index, n_index, cols[:, None]] += delta
            plus = losses(stack, position + 1)
            stack[k_index, n_index, cols[:, None]] -= 2 * delta
            minus = losses(stack, position + 1)
            grad[start : start + len(flat)] = (plus - minus) / (2 * h)
        if lam and attr == "W":
            # the penalty's own difference: λ/2 ((w+h)² - (w-h)²) / 2h = λ w
            grad += lam * param.ravel()
        grads[key] = grad.reshape(param.shape)
    # leave the layers' caches as a plain forward pass would
    net.loss(x, t)
    return grads
