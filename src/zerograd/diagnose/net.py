"""Where in a net a wrong gradient starts: the lowest layer whose output gradient is still right and whose input
(or parameter) gradient is wrong, found with a directional difference at each layer boundary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .diagnosis import Diagnosis

__all__ = ["locate_in_net"]


def locate_in_net(
    net: Any, x: NDArray, t: Any, train_flg: bool, failing: Sequence[str], h: float = 1e-5, seed: int = 0
) -> tuple[Diagnosis, Any, tuple[Any, ...], Any, dict[str, Any]] | None:
    """The lowest layer of a ``Sequential`` whose output gradient is right and whose input (or parameter) gradient
    is wrong: ``(the diagnosis, the layer, its inputs, the dout it received, forward's kwargs)``; None when ``net``
    is not layered or no boundary is found.

    Each boundary is checked along two random directions: the gradient backward brings there against the central
    difference of the loss with the rest of the net run from that point (two forward passes per direction).
    """
    if not (hasattr(net, "layers") and hasattr(net, "last_layer") and hasattr(net, "param_owner")):
        return None
    names = list(net.layers)
    slots = net._current_slots()
    trace: list[NDArray] = []
    outputs = []
    z = x
    for slot in slots:  # one layer at a time, copying what each hands on (layers reuse their buffers)
        z = slot.layer.forward(z, train_flg) if slot.mode_dependent else slot.layer.forward(z)
        outputs.append(np.array(z, copy=True))
    logits = outputs[-1] if outputs else x
    net.last_layer.forward(logits, t)
    net.backward(1.0, trace=trace)
    grads_at = [np.array(g, dtype=np.float64) for g in trace]  # [at the logits, ..., at x]
    activations = [x, *outputs]  # activations[i]: the input of layer i; activations[-1]: the logits
    rng = np.random.default_rng(seed + 3)

    def rest_loss(z: NDArray, start: int) -> float:
        return float(net.last_layer.forward(net.forward(z, train_flg, start=start) if start < len(names) else z, t))

    # NOTE: two losses of size |L| differ by rounding of about 1e-14 |L|; divided by 2h that is the floor below
    # which a directional difference says nothing (a net with tiny gradients would otherwise look wrong)
    noise = 1e-14 * max(1.0, abs(rest_loss(x, 0))) / h

    def error_at(position: int) -> float:
        """Relative error of the backprop gradient at activations[position] (0: x, len(names): the logits)."""
        z, g = activations[position], grads_at[len(names) - position]
        worst = 0.0
        for _ in range(2):
            v = rng.standard_normal(z.shape)
            v /= np.linalg.norm(v) or 1.0
            numerical = (rest_loss(z + h * v, position) - rest_loss(z - h * v, position)) / (2 * h)
            diff = abs(float(np.vdot(g, v)) - numerical)
            if diff > noise:
                worst = max(worst, diff / max(float(np.linalg.norm(g)), abs(numerical)))
        return worst

    owners = {net.param_owner[key][0] for key in failing if key in net.param_owner}
    # NOTE: not the check's 1e-6: a directional difference through a whole net (a BatchNorm over 2 samples, say)
    # carries more rounding and truncation than one element's; a planted slip gives errors of 1e-2 and more
    tolerance = 1e-4
    above = error_at(len(names))
    if above > tolerance:
        return (
            Diagnosis(
                type(net.last_layer).__name__,
                "starts-in",
                (
                    f"the wrong gradient starts in the loss layer {type(net.last_layer).__name__}: the gradient it sends "
                    "down to the logits is wrong"
                ),
                f"relative error at the logits {above:.2e}",
            ),
            net.last_layer,
            (np.array(logits), t),
            1.0,
            {},
        )
    for i in range(len(names) - 1, -1, -1):
        below = error_at(i)
        if (below > tolerance and below > 10 * above) or names[i] in owners:
            layer = net.layers[names[i]]
            what = (
                f"the gradient it sends down is wrong (relative error {below:.2e})"
                if below > tolerance
                else f"its parameter gradients {sorted(k for k in failing if net.param_owner[k][0] == names[i])} fail"
            )
            kwargs = {"train_flg": train_flg} if slots[i].mode_dependent else {}
            return (
                Diagnosis(
                    names[i],
                    "starts-in",
                    (
                        f"the wrong gradient starts in layer {names[i]} ({type(layer).__name__}): the gradient arriving at "
                        f"its output is right, {what}"
                    ),
                    f"relative error at its output {above:.2e}, at its input {below:.2e}",
                ),
                layer,
                (np.array(activations[i]),),
                grads_at[len(names) - 1 - i],
                kwargs,
            )
        above = below
    return None
