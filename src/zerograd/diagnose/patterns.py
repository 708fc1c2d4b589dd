"""What the two gradients alone show, with no probe: one factor on every element, the transpose or another axes
order, the same values shuffled, a bias gradient summed over the wrong axes — and, when nothing fits, the worst
elements and where the failing ones sit."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .diagnosis import MATCH, Diagnosis, _close, _rel, compare_arrays

__all__ = ["unrecognised"]


def _factor(a: NDArray, n: NDArray) -> float | None:
    """The constant c with a = c n everywhere (to MATCH), or None."""
    nn = float(np.vdot(n, n))
    if nn == 0 or a.shape != n.shape:
        return None
    c = float(np.vdot(a, n)) / nn
    return c if compare_arrays(a, c * n) and not _close(c, 1.0) else None


def _layout_diagnosis(name: str, a: NDArray, n: NDArray) -> Diagnosis | None:
    """The right numbers in other places: the transpose, another axes order, or any permutation."""
    if a.size != n.size or a.size < 2:
        return None
    if n.ndim == 2 and a.shape == n.shape[::-1] and compare_arrays(a, n.T):
        return Diagnosis(
            name,
            "transpose",
            (
                f"{name}'s backprop gradient is the transpose of the right one, shape {a.shape} for {n.shape}: the "
                "product's operands are the wrong way round (dout.T @ x where x.T @ dout is meant)"
            ),
            f"backprop == numerical.T to {_rel(a, n.T):.1e}",
        )
    if (
        n.ndim == 2
        and a.shape == n.shape
        and n.shape[0] == n.shape[1]
        and compare_arrays(a, n.T)
        and not compare_arrays(a, n)
    ):
        return Diagnosis(
            name,
            "transpose",
            (
                f"{name}'s backprop gradient is the transpose of the right one (a square {n.shape}, so the shapes "
                "hid it): the product's operands are the wrong way round (dout.T @ x where x.T @ dout is meant)"
            ),
            f"backprop == numerical.T to {_rel(a, n.T):.1e}",
        )
    if n.ndim <= 5:
        for order in itertools.permutations(range(n.ndim)):
            if order == tuple(range(n.ndim)) and a.shape == n.shape:
                continue
            moved = np.transpose(n, order).reshape(a.shape)
            if compare_arrays(a, moved) and not compare_arrays(a, n.reshape(a.shape)):
                return Diagnosis(
                    name,
                    "axes-order",
                    (
                        f"{name}'s backprop gradient has the right values laid out in another order: that of the "
                        f"correct gradient's axes {order} — a reshape where a transpose was needed first (or the "
                        "other way round)"
                    ),
                    f"backprop == numerical.transpose({order}).reshape({a.shape}) to {_rel(a, moved):.1e}",
                )
    in_place = int(np.sum(np.abs(a.reshape(n.shape) - n) <= MATCH * max(np.max(np.abs(n)), 1e-300)))
    if in_place < n.size and compare_arrays(np.sort(a.ravel()), np.sort(n.ravel())):
        return Diagnosis(
            name,
            "permutation",
            (
                f"{name}'s backprop gradient holds the right values in the wrong elements (the same numbers, "
                "shuffled): an index or reshape mix-up"
            ),
            f"sorted values agree to {_rel(np.sort(a.ravel()), np.sort(n.ravel())):.1e}; "
            f"{in_place} of {n.size} in their place",
        )
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
                return Diagnosis(
                    name,
                    "bias-one-row",
                    (
                        f"{name}'s backprop gradient is row {k} of dout, one sample's gradient: the bias is added to "
                        "every sample, so its gradient is dout summed over the batch"
                    ),
                    f"backprop == dout[{k}] to {_rel(a, dout[k]):.1e}; numerical == dout.sum(axis={axes})",
                )
    if a.shape == dout.shape and compare_arrays(a, dout):
        return Diagnosis(
            name,
            "bias-not-summed",
            (
                f"{name}'s backprop gradient is dout itself, shape {a.shape} for {n.shape}: the bias is added to every "
                f"sample, so its gradient is dout summed over axes {axes} (axis 0 is the batch)"
            ),
            f"backprop == dout; numerical == dout.sum(axis={axes}) to {_rel(dout.sum(axis=axes), n):.1e}",
        )
    for s in subsets:
        if s == axes:
            continue
        summed = dout.sum(axis=s)
        if summed.shape == a.shape and compare_arrays(a, summed):
            missing_batch = 0 in axes and set(s) == set(axes) - {0}
            return Diagnosis(
                name,
                "bias-not-summed" if missing_batch else "wrong-axes",
                (
                    f"{name}'s backprop gradient is dout summed over axes {s}, shape {a.shape}; the bias needs the sum "
                    f"over axes {axes}"
                    + (" — the batch axis 0 is not summed" if missing_batch else " — summed over the wrong axis")
                ),
                f"backprop == dout.sum(axis={s}) to {_rel(a, summed):.1e}; numerical == dout.sum(axis={axes})"
                + (f" (N = {batch})" if batch else ""),
            )
    return None


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
    return Diagnosis(
        name,
        "unrecognised",
        (f"no known mistake fits {name}: {int(bad.sum())} of {a.size} elements fail, in " + ", ".join(where)),
        "worst: " + "; ".join(worst) + picture,
    )


def _ranges(indices: NDArray) -> str:
    parts = []
    for _, group in itertools.groupby(enumerate(indices.tolist()), key=lambda p: p[1] - p[0]):
        values = [v for _, v in group]
        parts.append(str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}")
    return ", ".join(parts)
