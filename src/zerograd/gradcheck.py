"""Gradient checking: backpropagation against central finite differences.

``numerical_gradient(f, x)`` is the chapter's tool. ``check_layer`` checks any object with ``forward``/``backward``
(a built-in layer or your own) and ``check_net`` any net with ``params``/``loss``/``gradient``; both work in
float64 and return a ``GradCheckReport`` with, per input or parameter, the mean absolute difference (the number
the book prints), the largest relative error and the index of the worst element.

Relative error is measured against the gradient's scale: ``max|a - n| / max(max|a|, max|n|)`` for analytic
``a`` and numerical ``n``. A check passes when ``max|a - n| <= atol + rtol * max(max|a|, max|n|)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["GradCheckReport", "GradientComparison", "check_layer", "check_net", "compare_gradients",
           "numerical_gradient"]


def numerical_gradient(f: Callable[[NDArray], Any], x: NDArray, h: float = 1e-4) -> NDArray:
    """Central differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element ``i`` of ``x``.

    x: a floating array of any shape, perturbed in place one element at a time and always restored (also when
    ``f`` raises). f: called as ``f(x)``; a closure that ignores its argument (``lambda _: net.loss(x, t)``)
    works as in the book. Returns an array of ``x``'s shape and dtype.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient needs a floating NumPy array to perturb, got {type(x).__name__}"
                        + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        try:
            x[idx] = original + h
            f_plus = float(f(x))
            x[idx] = original - h
            f_minus = float(f(x))
        finally:
            x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


@dataclass(frozen=True)
class GradientComparison:
    """Analytic against numerical gradient of one input or parameter."""

    name: str
    shape: tuple[int, ...]
    mean_abs_diff: float  # mean |a - n|, as the book's gradient_check.py prints it
    max_abs_diff: float
    max_rel_error: float  # max|a - n| / max(max|a|, max|n|)
    worst_index: tuple[int, ...]
    analytic_at_worst: float
    numerical_at_worst: float
    passed: bool

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"{self.name:<8} {str(self.shape):<14} mean|diff| {self.mean_abs_diff:.2e}  "
            f"max rel {self.max_rel_error:.2e}  worst {self.worst_index} "
            f"(backprop {self.analytic_at_worst:+.6e}, numerical {self.numerical_at_worst:+.6e})  {verdict}"
        )


@dataclass
class GradCheckReport:
    """The comparisons of one check, with the tolerances it used and any problems seen on the way."""

    comparisons: list[GradientComparison]
    rtol: float
    atol: float
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(c.passed for c in self.comparisons)

    @property
    def max_rel_error(self) -> float:
        return max((c.max_rel_error for c in self.comparisons), default=0.0)

    def __getitem__(self, name: str) -> GradientComparison:
        for comparison in self.comparisons:
            if comparison.name == name:
                return comparison
        raise KeyError(f"no gradient named {name!r}; have {[c.name for c in self.comparisons]}")

    def __iter__(self):
        return iter(self.comparisons)

    def __str__(self) -> str:
        lines = [str(c) for c in self.comparisons]
        lines += [f"problem: {p}" for p in self.problems]
        lines.append(f"{'PASS' if self.passed else 'FAIL'} (rtol={self.rtol:g}, atol={self.atol:g})")
        return "\n".join(lines)


def compare_gradients(name: str, analytic: ArrayLike, numerical: ArrayLike, rtol: float, atol: float
                      ) -> GradientComparison:
    """Compare two gradients of the same shape; see the module docstring for the measure and the verdict."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"gradient {name!r}: backprop gave shape {a.shape!r}, numerical {n.shape!r}")
    diff = np.abs(a - n)
    if diff.size == 0:
        return GradientComparison(name, a.shape, 0.0, 0.0, 0.0, (), 0.0, 0.0, True)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    max_diff = float(diff[worst])
    scale = float(max(np.max(np.abs(a)), np.max(np.abs(n))))
    if not np.isfinite(max_diff):
        rel, passed = float("inf"), False
    else:
        rel = max_diff / scale if scale > 0 else 0.0
        passed = max_diff <= atol + rtol * scale
    return GradientComparison(
        name=name, shape=a.shape, mean_abs_diff=float(np.mean(diff)), max_abs_diff=max_diff, max_rel_error=rel,
        worst_index=tuple(int(i) for i in worst), analytic_at_worst=float(a[worst]),
        numerical_at_worst=float(n[worst]), passed=passed,
    )


def _float64(value: Any) -> Any:
    """A float64 copy of a floating array or a Python/NumPy float; anything else unchanged."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64) if value.dtype.kind == "f" else value
    if isinstance(value, (float, np.floating)):
        return np.array(value, dtype=np.float64)
    return value


def _layer_param_names(layer: Any) -> list[str]:
    """Names of ``layer``'s parameters: its ``param_names``, or book style every array ``W`` with a ``dW``."""
    names = getattr(layer, "param_names", None)
    if names is not None:
        return list(names)
    return [
        name for name, value in vars(layer).items()
        if isinstance(value, np.ndarray) and value.dtype.kind == "f"
        and isinstance(getattr(layer, "d" + name, None), np.ndarray)
        and getattr(layer, "d" + name).shape == value.shape
    ]


def check_layer(
    layer: Any,
    *inputs: Any,
    dout: ArrayLike | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    h: float = 1e-6,
    seed: int = 0,
) -> GradCheckReport:
    """Check ``layer.backward`` against central differences of ``layer.forward``, in float64.

    The layer (deep-copied, so yours is untouched) is run as ``out = layer.forward(*inputs)``; the checked scalar
    is ``sum(out * dout)`` with ``dout`` random normal of ``out``'s shape (``1.0`` for a scalar output such as a
    loss), whose gradient is what ``layer.backward(dout)`` returns. The gradients it returns belong to the first
    inputs in order (``SoftmaxWithLoss`` returns one, for ``x``; its labels ``t`` are not differentiated).
    Parameters are checked too: ``layer.param_names``, or for a book-style layer every float array attribute
    ``W`` that has a gradient attribute ``dW`` after ``backward``. A ``backward`` that writes into its ``dout`` is
    reported as a problem.
    """
    layer = copy.deepcopy(layer)
    for name, value in list(vars(layer).items()):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            setattr(layer, name, value.astype(np.float64))
    inputs = tuple(_float64(v) for v in inputs)
    problems: list[str] = []

    out = layer.forward(*inputs)
    if dout is None:
        dout = 1.0 if np.ndim(out) == 0 else np.random.default_rng(seed).standard_normal(np.shape(out))
    dout = _float64(np.asarray(dout) if not np.isscalar(dout) else float(dout))
    dout_before = np.copy(dout)
    backward = layer.backward(dout)
    if not np.array_equal(dout, dout_before):
        problems.append(f"{type(layer).__name__}.backward modified its dout argument in place")
    analytic = list(backward) if isinstance(backward, tuple) else [backward]
    if len(analytic) > len(inputs):
        raise ValueError(f"{type(layer).__name__}.backward returned {len(analytic)} gradients for {len(inputs)} inputs")
    params = {name: getattr(layer, name) for name in _layer_param_names(layer)}
    analytic_params = {name: np.array(getattr(layer, "d" + name), dtype=np.float64) for name in params}

    def objective(_: Any) -> float:
        return float(np.sum(layer.forward(*inputs) * dout))

    comparisons = []
    for i, grad in enumerate(analytic):
        x = inputs[i]
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            continue  # labels and other non-float inputs have no gradient
        name = f"x{i}" if len(analytic) > 1 else "x"
        comparisons.append(compare_gradients(name, np.broadcast_to(grad, x.shape), numerical_gradient(objective, x, h),
                                             rtol, atol))
    for name, param in params.items():
        comparisons.append(compare_gradients(name, analytic_params[name], numerical_gradient(objective, param, h),
                                             rtol, atol))
    return GradCheckReport(comparisons, rtol, atol, problems)


def check_net(
    net: Any,
    x: ArrayLike,
    t: ArrayLike,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    h: float = 1e-5,
) -> GradCheckReport:
    """Check ``net.gradient(x, t)`` against central differences of ``net.loss(x, t)`` for every parameter.

    net: anything with ``params`` (a dict of arrays that its layers use in place), ``loss`` and ``gradient``
    (zerograd's nets, the book's ``TwoLayerNet``, your own). A net whose parameters are not float64 is checked
    through ``net.astype(np.float64)``; yours is left as it is.
    """
    if any(np.asarray(p).dtype != np.float64 for p in net.params.values()):
        if not hasattr(net, "astype"):
            raise TypeError(f"check_net needs float64 parameters (or a net with .astype), got {type(net).__name__}")
        net = net.astype(np.float64)
    x = _float64(np.asarray(x))
    analytic = {key: np.array(grad, dtype=np.float64) for key, grad in net.gradient(x, t).items()}
    comparisons = [
        compare_gradients(key, analytic[key], numerical_gradient(lambda _: net.loss(x, t), param, h), rtol, atol)
        for key, param in net.params.items()
    ]
    return GradCheckReport(comparisons, rtol, atol)
