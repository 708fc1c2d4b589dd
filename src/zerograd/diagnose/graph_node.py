"""One node of a scalar graph (``zerograd.graph.Value``) whose own backward sends a wrong local derivative."""

from __future__ import annotations

import numpy as np

from .diagnosis import Diagnosis, _close, _nice

__all__ = ["diagnose_local"]


def diagnose_local(
    node: str, formula: str, given: float, right: float, variables: dict[str, float]
) -> Diagnosis | None:
    """A scalar node's local derivative as its backward computes it (``given``) against the right one (``right``,
    from central differences of the node's forward): None when they agree, else what ``given`` is instead.

    formula: the right derivative as the book writes it (``∂(x·y)/∂x = y``); variables: the node's inputs and
    output by name, so that "the other input" or "the output itself" can be named.
    """
    if not (np.isfinite(given) and np.isfinite(right)):
        return None
    if abs(given - right) <= 1e-5 * max(abs(given), abs(right)) + 1e-9:
        return None
    evidence = f"backward sends {given:.6g} per unit of gradient; the central difference gives {right:.6g}"
    close = [
        name
        for name, value in variables.items()
        if abs(given - value) <= 1e-9 + 1e-9 * abs(value) and abs(right - value) > 1e-9 + 1e-9 * abs(value)
    ]
    if close:
        what = f"the value of {close[0]}"
    elif abs(given) <= 1e-12:
        what = "0: nothing"
    elif right != 0 and _close(given / right, -1.0):
        what = "the right value with the opposite sign"
    elif right != 0:
        what = f"the right value × {_nice(given / right)}"
    else:
        what = f"{given:.6g}"
    return Diagnosis(node, "wrong-local", f"{node}'s backward uses {what} where {formula} is needed", evidence)
