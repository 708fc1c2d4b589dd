"""A diagnosis — what is wrong with a gradient, in one line, and the numbers behind it — and the agreement measure
every diagnosis uses."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["MATCH", "Diagnosis", "compare_arrays"]


# Two arrays "agree" for a diagnosis when max|a - b| <= MATCH * max(|a|, |b|): far looser than rounding, far
# tighter than any slip. The numerical gradient carries ~1e-8 relative error in float64 with h = 1e-6.
MATCH = 1e-4


@dataclass(frozen=True)
class Diagnosis:
    """One recognised mistake: what it is about, a stable ``kind``, one line for the learner and its evidence.

    name: the gradient (``"W"``, ``"x"``), the layer (``"layer"``) or, for a net, the layer's name.
    kind: ``"times-batch-size"``, ``"divided-by-batch-size"``, ``"sign-flipped"``, ``"zero-gradient"``,
    ``"constant-factor"``, ``"transpose"``, ``"axes-order"``, ``"permutation"``, ``"bias-not-summed"``,
    ``"bias-one-row"``, ``"wrong-axes"``, ``"ignores-dout"``, ``"wrong-variable"``, ``"writes-dout"``,
    ``"writes-input"``, ``"writes-state"``, ``"random"``, ``"stateful"``, ``"kink"``, ``"step-size"``,
    ``"wrong-local"`` (a node of a scalar graph), for a net ``"starts-in"`` (the layer the wrong gradient starts
    in), ``"rounding"`` (every layer passes and the difference is small: the finite differences' own error) and
    ``"outside-layers"`` (every layer passes, the difference is large: the net's own loss or gradient), or
    ``"unrecognised"``.
    """

    name: str
    kind: str
    explanation: str
    evidence: str

    def __str__(self) -> str:
        return f"why {self.name}: {self.explanation}\n    evidence: {self.evidence}"


def compare_arrays(a: Any, b: Any, tol: float = MATCH) -> bool:
    """Do ``a`` and ``b`` have one shape and agree to ``tol`` of their scale (both zero counts as agreeing)?"""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return float(np.max(np.abs(a - b), initial=0.0)) <= tol * scale + 1e-12


def _rel(a: NDArray, b: NDArray) -> float:
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return float(np.max(np.abs(a - b), initial=0.0)) / scale if scale else 0.0


def _close(c: float, target: float) -> bool:
    return abs(c - target) <= 1e-3 * max(abs(target), 1e-12)


def _nice(c: float) -> str:
    fraction = Fraction(c).limit_denominator(16)
    if fraction.denominator > 1 and abs(float(fraction) - c) <= 1e-3 * abs(c):
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{c:.6g}"
