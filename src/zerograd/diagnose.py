"""Why a gradient check fails: the common backprop mistakes, recognised from the two gradients and a few probes.

``check_layer(..., explain=True)`` and ``check_net(..., explain=True)`` hand a failing check to this module. It
compares the backprop gradient ``a`` with the numerical one ``n`` element by element and, where that is not
enough, runs the layer again (a second batch size, a second ``dout``, the same call twice, other step sizes):

- layer-level slips that make every number meaningless: ``backward`` writing into ``dout``, into the input or into
  the layer's own saved state; a ``forward`` that draws a new random mask or depends on an earlier call;
- the arithmetic: a constant factor (``N``, ``1/N``, ``-1``, ``0``, any other), the transpose, right values in the
  wrong elements (an axes order or a permutation), a bias gradient not summed over the batch or summed over the
  wrong axes;
- the local derivative: a gradient that ignores ``dout`` (right only for ``dout = 1``), or is computed from the
  wrong variable (``y (1 - y)`` from the input ``x``, a ReLU mask from ``dout``);
- the check itself: inputs on a kink (ReLU at 0, a pooling tie) and a step ``h`` too small or large for the dtype.

Nothing recognised: the worst elements and a map of where the failing ones sit — never a guess. Each diagnosis is
one line in the learner's terms and the numbers behind it. A passing check is never diagnosed (and costs nothing).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Diagnosis", "LayerProbe", "compare_arrays", "diagnose_gradient", "diagnose_layer", "diagnose_local",
           "locate_in_net", "unrecognised"]

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


# -- the layer, run again ---------------------------------------------------------------------------------------


class LayerProbe:
    """Runs a fresh copy of the checked layer (as ``check_layer`` prepared it: float64, before ``forward``).

    template: the layer; inputs: ``forward``'s arguments; kwargs: ``train_flg`` where the layer takes it;
    dout: the check's ``dout``; h: its step; gradients: ``(name, where)`` in the report's order, ``where`` an input
    position (int) or a parameter attribute (str).
    """

    def __init__(self, template: Any, inputs: tuple[Any, ...], kwargs: dict[str, Any], dout: Any, h: float,
                 gradients: Sequence[tuple[str, int | str]], seed: int = 0) -> None:
        self.template, self.inputs, self.kwargs = template, inputs, kwargs
        self.dout, self.h, self.gradients = dout, h, list(gradients)
        self.rng = np.random.default_rng(seed + 7)

    @property
    def batch_size(self) -> int | None:
        x = self.inputs[0] if self.inputs else None
        return int(x.shape[0]) if isinstance(x, np.ndarray) and x.ndim >= 2 else None

    def fresh(self, inputs: tuple[Any, ...] | None = None) -> tuple[Any, tuple[Any, ...]]:
        return copy.deepcopy(self.template), copy.deepcopy(self.inputs if inputs is None else inputs)

    def forward(self, layer: Any, inputs: tuple[Any, ...]) -> NDArray:
        return np.array(layer.forward(*inputs, **self.kwargs), dtype=np.float64)  # a copy: layers hand out caches

    def run(self, inputs: tuple[Any, ...] | None = None, dout: Any = None
            ) -> tuple[Any, tuple[Any, ...], NDArray, dict[str, NDArray]]:
        """forward, hold the mask, backward: the fresh layer, its inputs, the output and every named gradient."""
        layer, inputs = self.fresh(inputs)
        out = self.forward(layer, inputs)
        if hasattr(layer, "hold_mask"):
            layer.hold_mask(True)
        dout = self.dout if dout is None else dout
        back = layer.backward(copy.deepcopy(dout))
        back = list(back) if isinstance(back, tuple) else [back]
        grads = {}
        for name, where in self.gradients:
            value = back[where] if isinstance(where, int) and where < len(back) else getattr(layer, "d" + str(where),
                                                                                            None)
            if value is not None:
                grads[name] = np.array(value, dtype=np.float64)
        return layer, inputs, out, grads

    def array_of(self, layer: Any, inputs: tuple[Any, ...], where: int | str) -> NDArray:
        return inputs[where] if isinstance(where, int) else getattr(layer, where)

    def where(self, name: str) -> int | str:
        return dict(self.gradients)[name]

    def slope(self, name: str, v: NDArray, h: float | None = None, inputs: tuple[Any, ...] | None = None,
              dout: Any = None, state: tuple[Any, tuple[Any, ...]] | None = None) -> float:
        """Central difference of ``sum(out * dout)`` along ``v`` for the array ``name`` (2 forward passes)."""
        h = self.h if h is None else h
        dout = self.dout if dout is None else dout
        layer, inputs = state if state is not None else self.run(inputs, dout)[:2]
        array = self.array_of(layer, inputs, self.where(name))
        original = array.copy()
        try:
            array += h * v
            plus = self.forward(layer, inputs)
            array[...] = original - h * v
            minus = self.forward(layer, inputs)
        finally:
            array[...] = original
        return float(np.sum((plus - minus) * dout)) / (2 * h)

    def one_sided(self, name: str, idx: tuple[int, ...], state: tuple[Any, tuple[Any, ...]]
                  ) -> tuple[tuple[float, float], tuple[float, float]]:
        """Left and right differences of ``sum(out * dout)`` at element ``idx``, with steps h and 2h (5 forward
        passes): ``((left, right), (left_2h, right_2h))``."""
        layer, inputs = state
        array = self.array_of(layer, inputs, self.where(name))
        original = float(array[idx])
        h = self.h
        try:
            f = {}
            for step in (-2 * h, -h, 0.0, h, 2 * h):
                array[idx] = original + step
                f[step] = float(np.sum(self.forward(layer, inputs) * self.dout))
        finally:
            array[idx] = original
        return (((f[0.0] - f[-h]) / h, (f[h] - f[0.0]) / h),
                ((f[0.0] - f[-2 * h]) / (2 * h), (f[2 * h] - f[0.0]) / (2 * h)))

    def grown_inputs(self) -> tuple[Any, ...]:
        """The inputs with one more sample (a scaled copy of the first): a second batch size for the same layer."""
        n = self.batch_size
        grown = []
        for i, value in enumerate(self.inputs):
            if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
                # the data scaled (no duplicate sample), labels and other operands as they are
                extra = value[:1] * 0.9 if i == 0 and value.dtype.kind == "f" else value[:1]
                value = np.concatenate([value, extra])
            grown.append(value)
        return tuple(grown)

    def dout_like(self, out: NDArray) -> Any:
        return 1.0 if out.ndim == 0 else self.rng.standard_normal(out.shape)


# -- layer-level slips: state, randomness, writes ---------------------------------------------------------------


def _random_states(layer: Any) -> list[Any]:
    global_state: Any = np.random.get_state()
    states = [global_state[1].copy(), global_state[2]]  # the key and the position in it
    for value in vars(layer).values():
        if isinstance(value, np.random.Generator):
            states.append(copy.deepcopy(value.bit_generator.state))
        elif isinstance(value, np.random.RandomState):
            state: Any = value.get_state()
            states += [state[1].copy(), state[2]]
    return states


def _same_states(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
                                    for x, y in zip(a, b, strict=True))


def layer_slips(probe: LayerProbe, dout_was_written: bool) -> list[Diagnosis]:
    """Slips that make every comparison meaningless: they come first, and the gradients are not diagnosed further."""
    found = []
    cls = type(probe.template).__name__
    layer, inputs = probe.fresh()
    before = _random_states(layer)
    first = probe.forward(layer, inputs)
    drew = not _same_states(before, _random_states(layer))
    if hasattr(layer, "hold_mask"):
        layer.hold_mask(True)
    second = probe.forward(layer, inputs)
    if not np.array_equal(first, second):
        changed = int(np.sum(first != second))
        if drew:
            found.append(Diagnosis("layer", "random", (
                f"{cls}.forward draws new random numbers on every call (a Dropout mask redrawn): the numerical "
                "gradient differences outputs of different masks — keep the mask of the first call while checking "
                "(zerograd's layers have hold_mask(True))"),
                f"two calls of forward on the same input differ in {changed} of {first.size} outputs"))
        else:
            found.append(Diagnosis("layer", "stateful", (
                f"{cls}.forward gives a different output for the same input on its second call: it depends on "
                "state left by an earlier call (a counter, a running statistic used where the batch's is meant)"),
                f"two calls of forward on the same input differ in {changed} of {first.size} outputs, max "
                f"|difference| {float(np.max(np.abs(first - second))):.3e}; no random numbers were drawn"))
    if dout_was_written:
        dout = copy.deepcopy(probe.dout)
        layer, inputs = probe.fresh()
        probe.forward(layer, inputs)
        layer.backward(dout)
        changed = int(np.sum(np.asarray(dout) != np.asarray(probe.dout)))
        found.append(Diagnosis("layer", "writes-dout", (
            f"{cls}.backward writes into the dout it is given (like the book's `dout[self.mask] = 0`): the layer "
            "above loses its gradient and the check depends on the order of calls — compute into a new array"),
            f"{changed} of {np.size(dout)} elements of dout changed by one backward call"))
    layer, inputs = probe.fresh()
    probe.forward(layer, inputs)
    if hasattr(layer, "hold_mask"):
        layer.hold_mask(True)
    grads = []
    for _ in range(2):
        back = layer.backward(copy.deepcopy(probe.dout))
        back = list(back) if isinstance(back, tuple) else [back]
        grads.append([np.array(g, dtype=np.float64) for g in back if g is not None]
                     + [np.array(getattr(layer, "d" + str(w)), dtype=np.float64) for _, w in probe.gradients
                        if isinstance(w, str) and getattr(layer, "d" + str(w), None) is not None])
    for i, value in enumerate(probe.inputs):
        if isinstance(value, np.ndarray) and not np.array_equal(value, inputs[i]):
            changed = int(np.sum(value != inputs[i]))
            found.append(Diagnosis("layer", "writes-input", (
                f"{cls} writes into its input x{'' if len(probe.inputs) == 1 else i} (the array it kept in forward "
                "and the caller's): later calls see other numbers — copy before changing it"),
                f"{changed} of {value.size} input elements changed by forward + backward"))
    if not any(d.kind in ("writes-input", "random", "stateful") for d in found) and \
            not all(np.array_equal(a, b) for a, b in zip(*grads, strict=False)):
        found.append(Diagnosis("layer", "writes-state", (
            f"{cls}.backward changes what forward saved (an in-place `*=` on a kept array): a second backward "
            "after the same forward gives another gradient"),
            "two backward calls after one forward return different gradients"))
    return found


# -- one gradient: arithmetic, layout, local derivative ----------------------------------------------------------


def _nice(c: float) -> str:
    fraction = Fraction(c).limit_denominator(16)
    if fraction.denominator > 1 and abs(float(fraction) - c) <= 1e-3 * abs(c):
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{c:.6g}"


def _factor(a: NDArray, n: NDArray) -> float | None:
    """The constant c with a = c n everywhere (to MATCH), or None."""
    nn = float(np.vdot(n, n))
    if nn == 0 or a.shape != n.shape:
        return None
    c = float(np.vdot(a, n)) / nn
    return c if compare_arrays(a, c * n) and not _close(c, 1.0) else None


def _close(c: float, target: float) -> bool:
    return abs(c - target) <= 1e-3 * max(abs(target), 1e-12)


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
        return Diagnosis(name, "zero-gradient", (
            f"{name}'s backprop gradient is 0 while the numerical one is not: nothing reaches it (an assignment "
            "forgotten, or a mask that stops everything)"), evidence)
    if n and _close(c, n) and (c2 is None or _close(c2, n2)):
        return Diagnosis(name, "times-batch-size", (
            f"{name}'s backprop gradient is the numerical one × {n} everywhere — N = {n} is the batch size: a "
            "division by the batch size is missing (the loss is a mean over the batch)"), evidence)
    if n and _close(c, 1 / n) and (c2 is None or _close(c2, 1 / n2)):
        return Diagnosis(name, "divided-by-batch-size", (
            f"{name}'s backprop gradient is the numerical one × 1/{n} everywhere — 1/N, and the batch has N = {n} "
            "samples: the batch size is divided twice (or a mean taken where the loss sums)"), evidence)
    if _close(c, -1):
        return Diagnosis(name, "sign-flipped", (
            f"{name}'s backprop gradient has the opposite sign everywhere: a minus sign too many or too few "
            "(t - y where y - t is meant, or a subtraction the wrong way round)"), evidence)
    return Diagnosis(name, "constant-factor", (
        f"{name}'s backprop gradient is the numerical one × {_nice(c)} everywhere"
        + (", whatever the batch size" if c2 is not None and _close(c2, c) else "")
        + ": a constant slipped into (or out of) the formula — a power rule's factor, a 1/2, a scale of the forward"),
        evidence)


def _layout_diagnosis(name: str, a: NDArray, n: NDArray) -> Diagnosis | None:
    """The right numbers in other places: the transpose, another axes order, or any permutation."""
    if a.size != n.size or a.size < 2:
        return None
    if n.ndim == 2 and a.shape == n.shape[::-1] and compare_arrays(a, n.T):
        return Diagnosis(name, "transpose", (
            f"{name}'s backprop gradient is the transpose of the right one, shape {a.shape} for {n.shape}: the "
            "product's operands are the wrong way round (dout.T @ x where x.T @ dout is meant)"),
            f"backprop == numerical.T to {_rel(a, n.T):.1e}")
    if n.ndim == 2 and a.shape == n.shape and n.shape[0] == n.shape[1] and compare_arrays(a, n.T) and \
            not compare_arrays(a, n):
        return Diagnosis(name, "transpose", (
            f"{name}'s backprop gradient is the transpose of the right one (a square {n.shape}, so the shapes "
            "hid it): the product's operands are the wrong way round (dout.T @ x where x.T @ dout is meant)"),
            f"backprop == numerical.T to {_rel(a, n.T):.1e}")
    if n.ndim <= 5:
        for order in itertools.permutations(range(n.ndim)):
            if order == tuple(range(n.ndim)) and a.shape == n.shape:
                continue
            moved = np.transpose(n, order).reshape(a.shape)
            if compare_arrays(a, moved) and not compare_arrays(a, n.reshape(a.shape)):
                return Diagnosis(name, "axes-order", (
                    f"{name}'s backprop gradient has the right values laid out in another order: that of the "
                    f"correct gradient's axes {order} — a reshape where a transpose was needed first (or the "
                    "other way round)"),
                    f"backprop == numerical.transpose({order}).reshape({a.shape}) to {_rel(a, moved):.1e}")
    in_place = int(np.sum(np.abs(a.reshape(n.shape) - n) <= MATCH * max(np.max(np.abs(n)), 1e-300)))
    if in_place < n.size and compare_arrays(np.sort(a.ravel()), np.sort(n.ravel())):
        return Diagnosis(name, "permutation", (
            f"{name}'s backprop gradient holds the right values in the wrong elements (the same numbers, "
            "shuffled): an index or reshape mix-up"),
            f"sorted values agree to {_rel(np.sort(a.ravel()), np.sort(n.ravel())):.1e}; "
            f"{in_place} of {n.size} in their place")
    return None


def _sum_diagnosis(name: str, a: NDArray, n: NDArray, dout: Any, batch: int | None) -> Diagnosis | None:
    """A bias-like gradient (the numerical one is dout summed over some axes) summed wrongly, or not at all."""
    dout = np.asarray(dout, dtype=np.float64)
    if dout.ndim < 2:
        return None
    subsets = [s for r in range(dout.ndim + 1) for s in itertools.combinations(range(dout.ndim), r)]
    right = [s for s in subsets if dout.sum(axis=s).shape == n.shape and compare_arrays(dout.sum(axis=s), n)]
    if not right:
        return None
    axes = right[0]
    if a.shape == n.shape and dout.shape[1:] == n.shape:
        for k in range(dout.shape[0]):
            if compare_arrays(a, dout[k]):
                return Diagnosis(name, "bias-one-row", (
                    f"{name}'s backprop gradient is row {k} of dout, one sample's gradient: the bias is added to "
                    "every sample, so its gradient is dout summed over the batch"),
                    f"backprop == dout[{k}] to {_rel(a, dout[k]):.1e}; numerical == dout.sum(axis={axes})")
    if a.shape == dout.shape and compare_arrays(a, dout):
        return Diagnosis(name, "bias-not-summed", (
            f"{name}'s backprop gradient is dout itself, shape {a.shape} for {n.shape}: the bias is added to every "
            f"sample, so its gradient is dout summed over axes {axes} (axis 0 is the batch)"),
            f"backprop == dout; numerical == dout.sum(axis={axes}) to {_rel(dout.sum(axis=axes), n):.1e}")
    for s in subsets:
        if s == axes:
            continue
        summed = dout.sum(axis=s)
        if summed.shape == a.shape and compare_arrays(a, summed):
            missing_batch = 0 in axes and set(s) == set(axes) - {0}
            return Diagnosis(name, "bias-not-summed" if missing_batch else "wrong-axes", (
                f"{name}'s backprop gradient is dout summed over axes {s}, shape {a.shape}; the bias needs the sum "
                f"over axes {axes}" + (" — the batch axis 0 is not summed" if missing_batch else
                                       " — summed over the wrong axis")),
                f"backprop == dout.sum(axis={s}) to {_rel(a, summed):.1e}; numerical == dout.sum(axis={axes})"
                + (f" (N = {batch})" if batch else ""))
    return None


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
            return Diagnosis(name, "wrong-variable", (
                f"{name}'s backprop multiplies dout by {var_name} itself, not by the local derivative: the "
                "derivative formula is missing"), f"backprop / dout == {var_name} on every element")
    if compare_arrays(local, np.ones_like(local)):
        return Diagnosis(name, "wrong-variable", (
            f"{name}'s backprop passes dout through unchanged (local derivative 1): the layer's own derivative is "
            "missing"), "backprop == dout on every element")
    for good_name, good in variables.items():
        if good_name == "dout":
            continue
        if is_step:
            if not compare_arrays(right, (good > 0).astype(float)):
                continue
            for bad_name, bad in variables.items():
                if bad_name != good_name and compare_arrays(local, (bad > 0).astype(float)) and \
                        not compare_arrays(local, right):
                    return Diagnosis(name, "wrong-variable", (
                        f"{name}'s mask is taken from {bad_name}: the gradient must pass where {good_name} > 0"),
                        f"backprop / dout == ({bad_name.split()[-1]} > 0) on every element, numerical / dout == "
                        f"({good_name.split()[-1]} > 0)")
            continue
        for degree in (1, 2, 3):
            coeffs = np.polyfit(good, right, degree)
            if not compare_arrays(np.polyval(coeffs, good), right, 1e-6):
                continue
            for bad_name, bad in variables.items():
                if bad_name != good_name and compare_arrays(local, np.polyval(coeffs, bad)):
                    return Diagnosis(name, "wrong-variable", (
                        f"{name}'s local derivative is the right formula evaluated on {bad_name} instead of "
                        f"{good_name} (like sigmoid's y(1 - y) computed from x)"),
                        f"numerical / dout == p({good_name.split()[-1]}) and backprop / dout == "
                        f"p({bad_name.split()[-1]}) with p(v) = {_polynomial(coeffs)}")
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
    return Diagnosis(name, "ignores-dout", (
        f"{name}'s backprop gradient does not depend on dout: backward computes the local derivative but never "
        "multiplies by the gradient arriving from above" + (" (so it is right only for dout = 1)"
                                                              if right_for_ones else "")),
        "two different dout give the identical gradient"
        + (f"; with dout = 1 it matches the numerical slope ({numerical:.6g})" if right_for_ones else ""))


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
    return Diagnosis(name, "step-size", (
        f"the step h = {probe.h:g} does not suit the arithmetic"
        + (" (forward computes in float32: its rounding, about 1e-7 of the output, divided by 2h swamps the "
           "difference) — check in float64" if in32 else " — the differences, not the backward, are wrong")
        + f"; with h = {agree[0]:g} backprop and numerical agree"),
        f"along the error's direction backprop gives {target:.6g}; the central difference with h = {agree[0]:g} "
        f"agrees to 1e-4" + (f"; forward's output is {np.dtype(out_dtype)}" if in32 else ""))


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
    return Diagnosis(name, "kink", (
        f"{len(found)} of the worst elements of {name} sit on a kink — a point where the layer has no derivative "
        "(ReLU at 0, two equal maxima in a pooling window): no finite difference can agree there, the backward "
        "is not to blame — move the inputs off the kink"),
        f"at {name}{list(idx)} the slope is {left:.6g} from the left and {right:.6g} from the right "
        f"(h = {probe.h:g}); backprop says {a[idx]:.6g}")


def unrecognised(name: str, a: NDArray, n: NDArray, most: int = 3) -> Diagnosis:
    """No known pattern: the worst elements, and which rows/columns (indices per axis) the failing ones sit in."""
    diff = np.abs(a - n)
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(n))), 1e-300)
    bad = diff > 1e-6 * scale
    order = np.argsort(diff.ravel())[::-1][:most]
    worst = []
    for flat in order:
        idx = tuple(int(i) for i in np.unravel_index(flat, a.shape))
        worst.append(f"{list(idx)} backprop {a[idx]:+.4g} numerical {n[idx]:+.4g}")
    where = []
    for axis in range(a.ndim):
        hit = np.flatnonzero(np.any(bad, axis=tuple(i for i in range(a.ndim) if i != axis)))
        label = ("rows", "columns")[axis] if a.ndim == 2 else f"axis {axis}"
        where.append(f"{label} " + ("all" if hit.size == a.shape[axis] else _ranges(hit)))
    picture = ""
    if a.ndim == 2 and a.shape[0] <= 12 and a.shape[1] <= 40:
        picture = "; map (X fails): " + " / ".join("".join("X" if b else "." for b in row) for row in bad)
    return Diagnosis(name, "unrecognised", (
        f"no known mistake fits {name}: {int(bad.sum())} of {a.size} elements fail, in "
        + ", ".join(where)), "worst: " + "; ".join(worst) + picture)


def _ranges(indices: NDArray) -> str:
    parts = []
    for _, group in itertools.groupby(enumerate(indices.tolist()), key=lambda p: p[1] - p[0]):
        values = [v for _, v in group]
        parts.append(str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}")
    return ", ".join(parts)


def diagnose_gradient(name: str, a: NDArray, n: NDArray, probe: LayerProbe | None = None,
                      out_dtype: Any = np.float64, batch_size: int | None = None) -> Diagnosis:
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
        return unrecognised(name, a, n) if a.shape == n.shape else Diagnosis(name, "unrecognised", (
            f"{name}'s backprop gradient has shape {a.shape}, the parameter {n.shape}, and no known mistake fits"),
            f"backprop holds {a.size} numbers, numerical {n.size}")
    for check in (lambda: _ignores_dout(name, a, probe), lambda: _local_derivative_diagnosis(name, a, n, probe),
                  lambda: _kinks(name, a, n, probe), lambda: _step_size(name, a, n, probe, out_dtype)):
        found = check()
        if found is not None:
            return found
    return unrecognised(name, a, n)


def diagnose_layer(probe: LayerProbe, analytic: dict[str, NDArray], numerical: dict[str, NDArray],
                   failing: Sequence[str], dout_was_written: bool) -> list[Diagnosis]:
    """Every diagnosis of a failing layer check: layer-level slips alone when there are any, else one per gradient."""
    slips = layer_slips(probe, dout_was_written)
    if slips:
        return slips
    out_dtype = np.asarray(copy.deepcopy(probe.template).forward(*copy.deepcopy(probe.inputs), **probe.kwargs)).dtype
    return [diagnose_gradient(name, analytic[name], numerical[name], probe, out_dtype) for name in failing]


# -- one node of a scalar graph ------------------------------------------------------------------------------------


def diagnose_local(node: str, formula: str, given: float, right: float, variables: dict[str, float]
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
    close = [name for name, value in variables.items()
             if abs(given - value) <= 1e-9 + 1e-9 * abs(value) and abs(right - value) > 1e-9 + 1e-9 * abs(value)]
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


# -- a net: where the wrong gradient starts ----------------------------------------------------------------------


def locate_in_net(net: Any, x: NDArray, t: Any, train_flg: bool, failing: Sequence[str], h: float = 1e-5,
                  seed: int = 0) -> tuple[Diagnosis, Any, tuple[Any, ...], Any, dict[str, Any]] | None:
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
        return (Diagnosis(type(net.last_layer).__name__, "starts-in", (
            f"the wrong gradient starts in the loss layer {type(net.last_layer).__name__}: the gradient it sends "
            "down to the logits is wrong"), f"relative error at the logits {above:.2e}"),
            net.last_layer, (np.array(logits), t), 1.0, {})
    for i in range(len(names) - 1, -1, -1):
        below = error_at(i)
        if (below > tolerance and below > 10 * above) or names[i] in owners:
            layer = net.layers[names[i]]
            what = f"the gradient it sends down is wrong (relative error {below:.2e})" if below > tolerance else \
                f"its parameter gradients {sorted(k for k in failing if net.param_owner[k][0] == names[i])} fail"
            kwargs = {"train_flg": train_flg} if slots[i].mode_dependent else {}
            return (Diagnosis(names[i], "starts-in", (
                f"the wrong gradient starts in layer {names[i]} ({type(layer).__name__}): the gradient arriving at "
                f"its output is right, {what}"),
                f"relative error at its output {above:.2e}, at its input {below:.2e}"),
                layer, (np.array(activations[i]),), grads_at[len(names) - 1 - i], kwargs)
        above = below
    return None


def explain_lines(diagnoses: Sequence[Diagnosis]) -> list[str]:
    return [line for d in diagnoses for line in str(d).splitlines()]

