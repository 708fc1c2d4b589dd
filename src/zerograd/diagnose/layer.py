"""The diagnosis of a failing layer check: layer-level slips first, then for each failing gradient the array
patterns (free) and the probes (a second batch size, a second ``dout``, the local derivative against the input and
the output, a kink, other steps ``h``), in that order."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .diagnosis import MATCH, Diagnosis, _close, _nice, compare_arrays
from .patterns import _factor, _layout_diagnosis, _sum_diagnosis, unrecognised
from .probe import LayerProbe, layer_slips

__all__ = ["diagnose_gradient", "diagnose_layer"]


def _factor_diagnosis(name: str, c: float, probe: LayerProbe | None, batch_size: int | None = None) -> Diagnosis:
    n = probe.batch_size if probe is not None else batch_size
    c2: float | None = None
    n2 = (n or 0) + 1
    if probe is not None and n is not None and abs(c) > 1e-9 and not _close(c, -1):
        try:  # the same layer on one more sample: a factor that follows the batch size is about the batch size
            grown = probe.grown_inputs()
            layer, ins = probe.fresh(grown)
            dout2 = probe.dout_like(probe.forward(layer, ins))
            layer, ins, _, grads = probe.run(grown, dout2)
            a2 = grads[name]
            v = a2 / (np.linalg.norm(a2) or 1.0)
            numerical = probe.slope(name, v, dout=dout2, state=(layer, ins))
            c2 = float(np.vdot(a2, v)) / numerical if numerical else None
        except Exception:  # noqa: BLE001 (a probe that cannot run leaves the plain factor)
            c2 = None
    evidence = f"backprop / numerical = {c:.6g} on every element"
    if c2 is not None:
        evidence += f"; with one more sample (N = {n2}) it is {c2:.6g}"
    if abs(c) < 1e-9:
        return Diagnosis(
            name,
            "zero-gradient",
            (
                f"{name}'s backprop gradient is 0 while the numerical one is not: nothing reaches it (an assignment "
                "forgotten, or a mask that stops everything)"
            ),
            evidence,
        )
    if n and _close(c, n) and (c2 is None or _close(c2, n2)):
        return Diagnosis(
            name,
            "times-batch-size",
            (
                f"{name}'s backprop gradient is the numerical one × {n} everywhere — N = {n} is the batch size: a "
                "division by the batch size is missing (the loss is a mean over the batch)"
            ),
            evidence,
        )
    if n and _close(c, 1 / n) and (c2 is None or _close(c2, 1 / n2)):
        return Diagnosis(
            name,
            "divided-by-batch-size",
            (
                f"{name}'s backprop gradient is the numerical one × 1/{n} everywhere — 1/N, and the batch has N = {n} "
                "samples: the batch size is divided twice (or a mean taken where the loss sums)"
            ),
            evidence,
        )
    if _close(c, -1):
        return Diagnosis(
            name,
            "sign-flipped",
            (
                f"{name}'s backprop gradient has the opposite sign everywhere: a minus sign too many or too few "
                "(t - y where y - t is meant, or a subtraction the wrong way round)"
            ),
            evidence,
        )
    return Diagnosis(
        name,
        "constant-factor",
        (
            f"{name}'s backprop gradient is the numerical one × {_nice(c)} everywhere"
            + (", whatever the batch size" if c2 is not None and _close(c2, c) else "")
            + ": a constant slipped into (or out of) the formula — a power rule's factor, a 1/2, a scale of the forward"
        ),
        evidence,
    )


def _local_derivative_diagnosis(name: str, a: NDArray, n: NDArray, probe: LayerProbe) -> Diagnosis | None:
    """For an elementwise layer: is a/dout the right local derivative evaluated on the wrong variable?"""
    where = probe.where(name)
    x = probe.inputs[where] if isinstance(where, int) else None
    dout = np.asarray(probe.dout, dtype=np.float64)
    if x is None or dout.shape != x.shape or a.shape != x.shape:
        return None
    _, _, y, _ = probe.run()
    if y.shape != x.shape:
        return None
    use = np.abs(dout) > 1e-3 * np.max(np.abs(dout))
    if np.count_nonzero(use) < 4:
        return None
    local, right = a[use] / dout[use], n[use] / dout[use]  # backprop's and the true local derivative
    variables = {"the input x": x[use], "the output y": y[use], "dout": dout[use]}
    is_step = compare_arrays(right, np.round(right)) and set(np.unique(np.round(right))) <= {0.0, 1.0}
    for var_name, v in variables.items():
        if compare_arrays(local, v):
            return Diagnosis(
                name,
                "wrong-variable",
                (
                    f"{name}'s backprop multiplies dout by {var_name} itself, not by the local derivative: the "
                    "derivative formula is missing"
                ),
                f"backprop / dout == {var_name} on every element",
            )
    if compare_arrays(local, np.ones_like(local)):
        return Diagnosis(
            name,
            "wrong-variable",
            (
                f"{name}'s backprop passes dout through unchanged (local derivative 1): the layer's own derivative is "
                "missing"
            ),
            "backprop == dout on every element",
        )
    for good_name, good in variables.items():
        if good_name == "dout":
            continue
        if is_step:
            if not compare_arrays(right, (good > 0).astype(float)):
                continue
            for bad_name, bad in variables.items():
                if (
                    bad_name != good_name
                    and compare_arrays(local, (bad > 0).astype(float))
                    and not compare_arrays(local, right)
                ):
                    return Diagnosis(
                        name,
                        "wrong-variable",
                        (f"{name}'s mask is taken from {bad_name}: the gradient must pass where {good_name} > 0"),
                        f"backprop / dout == ({bad_name.split()[-1]} > 0) on every element, numerical / dout == "
                        f"({good_name.split()[-1]} > 0)",
                    )
            continue
        for degree in (1, 2, 3):
            coeffs = np.polyfit(good, right, degree)
            if not compare_arrays(np.polyval(coeffs, good), right, 1e-6):
                continue
            for bad_name, bad in variables.items():
                if bad_name != good_name and compare_arrays(local, np.polyval(coeffs, bad)):
                    return Diagnosis(
                        name,
                        "wrong-variable",
                        (
                            f"{name}'s local derivative is the right formula evaluated on {bad_name} instead of "
                            f"{good_name} (like sigmoid's y(1 - y) computed from x)"
                        ),
                        f"numerical / dout == p({good_name.split()[-1]}) and backprop / dout == "
                        f"p({bad_name.split()[-1]}) with p(v) = {_polynomial(coeffs)}",
                    )
            break
    return None


def _polynomial(coeffs: NDArray) -> str:
    """``[-1, 1, 0]`` → ``-v² + v``: the fitted local derivative, readable."""
    powers = ["", "v", "v²", "v³"]
    terms = []
    for power, c in zip(range(len(coeffs) - 1, -1, -1), coeffs, strict=True):
        c = round(float(c), 6)
        if c == 0:
            continue
        number = "" if abs(c) == 1 and power else f"{abs(c):g}"
        terms.append(("-" if c < 0 else "+") + " " + number + powers[power])
    text = " ".join(terms).lstrip("+ ") or "0"
    return "-" + text[2:] if text.startswith("- ") else text


def _ignores_dout(name: str, a: NDArray, probe: LayerProbe) -> Diagnosis | None:
    """A second dout that gives the same gradient: backward never reads dout."""
    if np.ndim(probe.dout) == 0:
        return None
    other = probe.rng.standard_normal(np.shape(probe.dout))
    grads = probe.run(dout=other)[3]
    if name not in grads or not np.array_equal(grads[name], a) or not np.any(a):
        return None
    ones = np.ones(np.shape(probe.dout))
    layer, inputs, _, with_ones = probe.run(dout=ones)
    g1 = with_ones[name]
    v = g1 / (np.linalg.norm(g1) or 1.0)
    numerical = probe.slope(name, v, dout=ones, state=(layer, inputs))
    right_for_ones = abs(float(np.vdot(g1, v)) - numerical) <= MATCH * max(abs(numerical), 1e-12)
    return Diagnosis(
        name,
        "ignores-dout",
        (
            f"{name}'s backprop gradient does not depend on dout: backward computes the local derivative but never "
            "multiplies by the gradient arriving from above"
            + (" (so it is right only for dout = 1)" if right_for_ones else "")
        ),
        "two different dout give the identical gradient"
        + (f"; with dout = 1 it matches the numerical slope ({numerical:.6g})" if right_for_ones else ""),
    )


def _step_size(name: str, a: NDArray, n: NDArray, probe: LayerProbe, out_dtype: Any) -> Diagnosis | None:
    """Does the disagreement vanish at another step h? Then it was the differences, not the backward."""
    diff = a - n
    v = diff / (np.linalg.norm(diff) or 1.0)
    target = float(np.vdot(a, v))
    state = probe.run()[:2]
    scale = max(float(np.linalg.norm(a)), 1e-300)
    agree = []
    for factor in (1e3, 1e2, 1e1, 1e-1):
        slope = probe.slope(name, v, h=probe.h * factor, state=state)
        if abs(slope - target) <= 1e-4 * scale:
            agree.append(probe.h * factor)
    if not agree:
        return None
    in32 = np.dtype(out_dtype) == np.float32
    return Diagnosis(
        name,
        "step-size",
        (
            f"the step h = {probe.h:g} does not suit the arithmetic"
            + (
                " (forward computes in float32: its rounding, about 1e-7 of the output, divided by 2h swamps the "
                "difference) — check in float64"
                if in32
                else " — the differences, not the backward, are wrong"
            )
            + f"; with h = {agree[0]:g} backprop and numerical agree"
        ),
        f"along the error's direction backprop gives {target:.6g}; the central difference with h = {agree[0]:g} "
        f"agrees to 1e-4" + (f"; forward's output is {np.dtype(out_dtype)}" if in32 else ""),
    )


def _kinks(name: str, a: NDArray, n: NDArray, probe: LayerProbe, most: int = 3) -> Diagnosis | None:
    """Are the worst elements on a kink (their left and right slopes differ)? Then no difference can agree."""
    diff = np.abs(a - n)
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(n))), 1e-300)
    failing = np.flatnonzero(diff.ravel() > 1e-6 * scale)
    if failing.size == 0:
        return None
    worst = failing[np.argsort(diff.ravel()[failing])[::-1][:most]]
    state = probe.run()[:2]
    found = []
    for flat in worst:
        idx = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        (left, right), (left2, right2) = probe.one_sided(name, idx, state)
        # a kink's jump between the slopes stays when h doubles; curvature's doubles, rounding noise's halves
        jump, jump2 = abs(left - right), abs(left2 - right2)
        if jump <= 0.1 * max(abs(left), abs(right), 1e-3 * scale) or not 0.7 <= jump2 / jump <= 1.4:
            return None
        found.append((idx, left, right))
    idx, left, right = found[0]
    return Diagnosis(
        name,
        "kink",
        (
            f"{len(found)} of the worst elements of {name} sit on a kink — a point where the layer has no derivative "
            "(ReLU at 0, two equal maxima in a pooling window): no finite difference can agree there, the backward "
            "is not to blame — move the inputs off the kink"
        ),
        f"at {name}{list(idx)} the slope is {left:.6g} from the left and {right:.6g} from the right "
        f"(h = {probe.h:g}); backprop says {a[idx]:.6g}",
    )


def diagnose_gradient(
    name: str,
    a: NDArray,
    n: NDArray,
    probe: LayerProbe | None = None,
    out_dtype: Any = np.float64,
    batch_size: int | None = None,
) -> Diagnosis:
    """The diagnosis of one failing gradient: array patterns first (free), then probes of the layer.

    batch_size: N where there is no probe to tell it (a net without layers), so that a factor N can be named.
    """
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if a.shape == n.shape:
        c = _factor(a, n)
        if c is not None:
            # NOTE: a ReLU whose inputs are all exactly 0 looks like a factor (backprop 0, numerical dout/2)
            kink = _kinks(name, a, n, probe) if probe is not None else None
            return kink or _factor_diagnosis(name, c, probe, batch_size)
    if probe is not None and np.ndim(probe.dout) >= 2:
        found = _sum_diagnosis(name, a, n, probe.dout, probe.batch_size)
        if found is not None:
            return found
    found = _layout_diagnosis(name, a, n)
    if found is not None:
        return found
    if probe is None or a.shape != n.shape:
        return (
            unrecognised(name, a, n)
            if a.shape == n.shape
            else Diagnosis(
                name,
                "unrecognised",
                (f"{name}'s backprop gradient has shape {a.shape}, the parameter {n.shape}, and no known mistake fits"),
                f"backprop holds {a.size} numbers, numerical {n.size}",
            )
        )
    checks: tuple[Callable[[], Diagnosis | None], ...] = (
        lambda: _ignores_dout(name, a, probe),
        lambda: _local_derivative_diagnosis(name, a, n, probe),
        lambda: _kinks(name, a, n, probe),
        lambda: _step_size(name, a, n, probe, out_dtype),
    )
    for check in checks:
        found = check()
        if found is not None:
            return found
    return unrecognised(name, a, n)


def diagnose_layer(
    probe: LayerProbe,
    analytic: dict[str, NDArray],
    numerical: dict[str, NDArray],
    failing: Sequence[str],
    dout_was_written: bool,
) -> list[Diagnosis]:
    """Every diagnosis of a failing layer check: layer-level slips alone when there are any, else one per gradient."""
    slips = layer_slips(probe, dout_was_written)
    if slips:
        return slips
    out_dtype = np.asarray(copy.deepcopy(probe.template).forward(*copy.deepcopy(probe.inputs), **probe.kwargs)).dtype
    return [diagnose_gradient(name, analytic[name], numerical[name], probe, out_dtype) for name in failing]
