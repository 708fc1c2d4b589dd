"""Exhaustive numerical gradients of a ``Sequential`` net, many perturbations per forward pass.

The element loop perturbs one weight and runs the whole net twice, ``2P`` forward passes for ``P`` weights.
For a weight held by an ``Affine`` layer, perturbing one element touches little: with ``Z = X W + b`` the output
of that layer, moving ``W[i, j]`` by ``h`` moves only column ``j`` of ``Z``, by ``h * X[:, i]`` (and ``b[j]`` by
``h``). So the layers *below* never rerun, and the layers *above* run once on a stack of many perturbed copies of
``Z`` at a time — the same central differences, vectorised.

NOTE: stacking copies along the batch axis is only sound when every layer above treats each sample on its own
(``Layer.samplewise``): a training-mode BatchNorm would mix the copies' statistics, a Dropout would draw masks of
the wrong shape. Parameters below such a layer (and parameters of layers other than Affine) are left to the
element loop; the report says which way each parameter was differenced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .functions import _as_label_indices, logsumexp
from .layers import Affine, SoftmaxWithLoss
from .nets import Sequential

__all__ = ["batchable_parameters", "layered_numerical_gradients"]

# Values (perturbations × samples × the widest layer above) pushed through the upper layers at once: 65,536 rows
# of the book's 50-wide hidden layer, 26 MB in float64.
# NOTE: bound values, not rows: 65,536 rows of a 100,000-wide layer would be 49 GiB.
_VALUES_PER_CHUNK = (1 << 16) * 50


def batchable_parameters(net: Any) -> list[str]:
    """The parameter keys of ``net`` that ``layered_numerical_gradients`` can difference in batches."""
    if not isinstance(net, Sequential) or not isinstance(net.last_layer, SoftmaxWithLoss):
        return []
    names = list(net.layers)
    keys = []
    for key, (owner, _) in net.param_owner.items():
        position = names.index(owner)
        above = [net.layers[n] for n in names[position + 1 :]]
        if isinstance(net.layers[owner], Affine) and all(getattr(layer, "samplewise", False) for layer in above):
            keys.append(key)
    return keys


def layered_numerical_gradients(
    net: Sequential, x: NDArray, t: NDArray, h: float, keys: list[str] | None = None, train_flg: bool | None = None
) -> dict[str, NDArray] | None:
    """Central-difference gradients of ``net.loss(x, t, train_flg)`` for the parameters ``keys`` (default and
    at most: ``batchable_parameters(net)``), L2 penalty included; ``None`` when there are none to batch.

    x: ``(N, ...)``; t: labels ``(N,)`` or one-hot ``(N, C)``. train_flg: the net's mode (``net.training``).
    """
    batchable = batchable_parameters(net)
    keys = batchable if keys is None else keys
    if not keys:
        return None
    if not set(keys) <= set(batchable):
        raise ValueError(f"cannot batch the differences of {sorted(set(keys) - set(batchable))}")
    train_flg = net.training if train_flg is None else train_flg
    names = list(net.layers)
    trace: list[NDArray] = []
    x = net._check_input(x)  # once: the net's dtype and shape check
    logits = net.forward(x, train_flg, trace=trace)  # each layer's output, one clean pass
    inputs = [x, *trace[:-1]]  # each layer's input
    n, c = logits.shape
    t = np.asarray(t)
    one_hot = t.shape == (n, c)
    labels = None if one_hot else _as_label_indices(t, c, "check_net")
    lam = net.weight_decay_lambda

    def losses(z_stack: NDArray, start: int) -> NDArray:
        """Mean loss of each perturbed copy: z_stack (K, N, M) is the output of layer ``start - 1``."""
        k = z_stack.shape[0]
        a = net.forward(z_stack.reshape(k * n, -1), train_flg, start=start).reshape(k, n, c)
        lse = logsumexp(a, axis=2)
        if one_hot:
            return np.sum(t * (lse - a), axis=(1, 2)) / n
        return np.mean(lse[:, :, 0] - a[:, np.arange(n), labels], axis=1)

    grads = {}
    for key in keys:
        owner, attr = net.param_owner[key]
        position = names.index(owner)
        layer = net.layers[owner]
        x_in = inputs[position].reshape(n, -1)  # (N, D)
        z = x_in @ layer.W + layer.b  # (N, M)
        m = z.shape[1]
        param = getattr(layer, attr)
        grad = np.empty(param.size, dtype=np.float64)
        widest = max(a.size // n for a in [z, *trace[position:]])  # the widest array of the upper layers' pass
        chunk = max(1, _VALUES_PER_CHUNK // (n * widest))
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
        if lam and attr in getattr(layer, "weight_decay_names", ()):
            # the penalty's own difference: λ/2 ((w+h)² - (w-h)²) / 2h = λ w
            grad += lam * param.ravel()
        grads[key] = grad.reshape(param.shape)
    net.last_layer.forward(net.forward(x, train_flg), t)  # caches as after a plain forward pass
    return grads
