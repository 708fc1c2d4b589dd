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
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .batched_numgrad import batchable_parameters, layered_numerical_gradients
from .diagnose import Diagnosis, LayerProbe, diagnose_gradient, diagnose_layer, locate_in_net
from .numgrad import numerical_gradient, perturbed_pair

__all__ = [
    "GradCheckReport",
    "GradientComparison",
    "check_layer",
    "check_net",
    "compare_gradients",
    "numerical_gradient",
]


@dataclass(frozen=True)
class GradientComparison:
    """Analytic against numerical gradient of one input or parameter.

    Shape: ``shape`` is the compared array's; ``worst_index`` an index into it (``()`` in the fast mode).
    """

    name: str
    shape: tuple[int, ...]
    mean_abs_diff: float  # mean |a - n|, as the book's gradient_check.py prints it
    max_abs_diff: float
    max_rel_error: float  # max|a - n| / max(max|a|, max|n|)
    worst_index: tuple[int, ...]
    analytic_at_worst: float
    numerical_at_worst: float
    passed: bool
    # or "direction": one directional derivative (fast mode), no worst element; or "backprop shape (M, D)": backprop
    # gave an array of another shape (check_layer with explain=True)
    kind: str = "elementwise"
    # how the numerical side was computed: "loop" (element by element), "batched" (many elements per forward
    # pass, zerograd.batched_numgrad) or "direction" (fast mode)
    method: str = "loop"

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        where = {"elementwise": f"worst {self.worst_index}", "direction": "along a random direction"}.get(
            self.kind, self.kind
        )  # or "backprop shape (3, 4)": a gradient of the wrong shape (explain=True)
        values = (
            f" (backprop {self.analytic_at_worst:+.6e}, numerical {self.numerical_at_worst:+.6e})"
            if self.kind in ("elementwise", "direction")
            else ""
        )
        return (
            f"{self.name:<8} {str(self.shape):<14} mean|diff| {self.mean_abs_diff:.2e}  "
            f"max rel {self.max_rel_error:.2e}  {where}{values}  [{self.method}]  {verdict}"
        )


@dataclass
class GradCheckReport:
    """The comparisons of one check, with the tolerances it used and any problems seen on the way.

    Shape: one ``GradientComparison`` per checked input or parameter, in order; ``report["W1"]`` picks one.
    """

    comparisons: list[GradientComparison]
    rtol: float
    atol: float
    problems: list[str] = field(default_factory=list)
    # with explain=True, what is wrong (zerograd.diagnose): empty for a passing check
    diagnoses: list[Diagnosis] = field(default_factory=list)

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

    def __iter__(self) -> Iterator[GradientComparison]:
        return iter(self.comparisons)

    def __str__(self) -> str:
        lines = [str(c) for c in self.comparisons]
        lines += [f"problem: {p}" for p in self.problems]
        lines += [line for d in self.diagnoses for line in str(d).splitlines()]
        lines.append(f"{'PASS' if self.passed else 'FAIL'} (rtol={self.rtol:g}, atol={self.atol:g})")
        return "\n".join(lines)


def compare_gradients(
    name: str, analytic: ArrayLike, numerical: ArrayLike, rtol: float, atol: float
) -> GradientComparison:
    """Compare two gradients of the same shape; see the module docstring for the measure and the verdict.

    Shape: analytic (*), numerical (*) of the same shape → one ``GradientComparison``.
    """
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
        name=name,
        shape=a.shape,
        mean_abs_diff=float(np.mean(diff)),
        max_abs_diff=max_diff,
        max_rel_error=rel,
        worst_index=tuple(int(i) for i in worst),
        analytic_at_worst=float(a[worst]),
        numerical_at_worst=float(n[worst]),
        passed=passed,
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
        name
        for name, value in vars(layer).items()
        if isinstance(value, np.ndarray)
        and value.dtype.kind == "f"
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
    mode: str = "exhaustive",
    train_flg: bool | None = None,
    explain: bool = False,
) -> GradCheckReport:
    """Check ``layer.backward`` against central differences of ``layer.forward``, in float64.

    Shape: inputs as ``layer.forward`` takes them; dout of ``forward``'s output shape (or ``None``: random) →
    a ``GradCheckReport`` with one row per float input (``x`` or ``x0, x1, ...``) and per parameter.

    The layer (deep-copied, so yours is untouched) is run as ``out = layer.forward(*inputs)``; the checked scalar
    is ``sum(out * dout)`` with ``dout`` random normal of ``out``'s shape (``1.0`` for a scalar output such as a
    loss), whose gradient is what ``layer.backward(dout)`` returns. The gradients it returns belong to the first
    inputs in order (``SoftmaxWithLoss`` returns one, for ``x``; its labels ``t`` are not differentiated).
    Parameters are checked too: ``layer.param_names``, or for a book-style layer every float array attribute
    ``W`` that has a gradient attribute ``dW`` after ``backward``. A ``backward`` that writes into its ``dout`` is
    reported as a problem. mode: ``"exhaustive"`` differences every element; ``"fast"`` one random direction per
    input and parameter (see ``check_net``). train_flg: passed to ``forward`` of a layer that takes a mode
    (Dropout, BatchNormalization); a random layer's mask is held at its first draw while differencing.
    explain: when the check fails, say what is wrong (``report.diagnoses``, printed with the report): a factor
    such as the batch size, the transpose, a bias not summed, a ``dout`` ignored or written into, a kink, ...
    (``zerograd.diagnose``). A backprop gradient of the wrong shape is then a failed row, not a ValueError.
    """
    if mode not in ("exhaustive", "fast"):
        raise ValueError(f"check_layer: mode must be 'exhaustive' or 'fast', got {mode!r}")
    layer = copy.deepcopy(layer)
    for name, value in list(vars(layer).items()):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            setattr(layer, name, value.astype(np.float64))
    inputs = tuple(_float64(v) for v in inputs)
    problems: list[str] = []
    # what explain's probes start from: the layer and inputs as prepared, before any call (a few small copies)
    template, pristine = (copy.deepcopy(layer), copy.deepcopy(inputs)) if explain else (None, ())

    kwargs = {} if train_flg is None else {"train_flg": train_flg}
    out = layer.forward(*inputs, **kwargs)
    if hasattr(layer, "hold_mask"):
        layer.hold_mask(True)  # the copy's: every perturbed pass below sees the first pass's mask
    if dout is None:
        dout = 1.0 if np.ndim(out) == 0 else np.random.default_rng(seed).standard_normal(np.shape(out))
    dout = _float64(np.asarray(dout) if not np.isscalar(dout) else float(dout))  # type: ignore[arg-type]
    dout_before = np.copy(dout)
    backward = layer.backward(dout)
    dout_written = not np.array_equal(dout, dout_before)
    if dout_written:
        problems.append(f"{type(layer).__name__}.backward modified its dout argument in place")
    analytic = list(backward) if isinstance(backward, tuple) else [backward]
    if len(analytic) > len(inputs):
        raise ValueError(f"{type(layer).__name__}.backward returned {len(analytic)} gradients for {len(inputs)} inputs")
    params = {name: getattr(layer, name) for name in _layer_param_names(layer)}
    analytic_params = {name: np.array(getattr(layer, "d" + name), dtype=np.float64) for name in params}
    if explain:  # slips that a single call hides: a second backward that differs, an input written into
        again = layer.backward(np.copy(dout_before))
        again = list(again) if isinstance(again, tuple) else [again]
        if not all(np.array_equal(a, b) for a, b in zip(analytic, again, strict=False)):
            problems.append(f"{type(layer).__name__}.backward gave another gradient when called a second time")
        for i, (now, then) in enumerate(zip(inputs, pristine, strict=True)):
            if isinstance(now, np.ndarray) and not np.array_equal(now, then):
                problems.append(f"{type(layer).__name__} wrote into its input {'x' if len(inputs) == 1 else f'x{i}'}")

    def outputs() -> NDArray:
        return np.array(layer.forward(*inputs, **kwargs), dtype=np.float64)  # a copy: layers hand out caches

    # (name, analytic gradient, the array it belongs to, where: input position or attribute)
    checked: list[tuple[str, NDArray, Any, int | str]] = []
    for i, grad in enumerate(analytic):
        x = inputs[i]
        if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            continue  # labels and other non-float inputs have no gradient
        grad = np.asarray(grad, dtype=np.float64)
        if not explain or np.broadcast_shapes(grad.shape, x.shape) == x.shape:
            grad = np.broadcast_to(grad, x.shape)
        checked.append((f"x{i}" if len(analytic) > 1 else "x", grad, x, i))
    checked += [(name, analytic_params[name], param, name) for name, param in params.items()]
    rng = np.random.default_rng(seed + 1)
    comparisons, numerical = [], {}
    for name, grad, array, _ in checked:
        if explain and grad.shape != array.shape:  # a wrong shape: a failed row, whatever the mode
            numerical[name] = _output_differences(outputs, array, dout, h)
            comparisons.append(_wrong_shape(name, grad, numerical[name]))
        elif mode == "fast":
            comparisons.append(_directional_comparison(name, grad, array, outputs, dout, h, rng, rtol, atol))
        else:
            numerical[name] = _output_differences(outputs, array, dout, h)
            comparisons.append(compare_gradients(name, grad, numerical[name], rtol, atol))
    report = GradCheckReport(comparisons, rtol, atol, problems)
    if explain and not report.passed:
        probe = LayerProbe(template, pristine, kwargs, dout_before, h, [(c[0], c[3]) for c in checked], seed)
        failing = [c.name for c in comparisons if not c.passed]
        for name, _, array, _ in checked:  # fast mode: the explanation needs every element of the failing ones
            if name in failing and name not in numerical:
                numerical[name] = _output_differences(outputs, array, dout, h)
        report.diagnoses = diagnose_layer(probe, {c[0]: c[1] for c in checked}, numerical, failing, dout_written)
    return report


def _wrong_shape(name: str, analytic: NDArray, numerical: NDArray) -> GradientComparison:
    """A failed row for a backprop gradient of another shape than its array (explain's diagnosis says why)."""
    return GradientComparison(
        name,
        numerical.shape,
        float("inf"),
        float("inf"),
        float("inf"),
        (),
        float("nan"),
        float("nan"),
        False,
        kind=f"backprop shape {analytic.shape}",
    )


def check_net(
    net: Any,
    x: ArrayLike,
    t: ArrayLike,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    h: float = 1e-5,
    mode: str = "exhaustive",
    seed: int = 0,
    explain: bool = False,
) -> GradCheckReport:
    """Check ``net.gradient(x, t)`` against central differences of ``net.loss(x, t)`` for every parameter.

    Shape: x (N, D) or (N, ...), t (N,) or (N, C) → a ``GradCheckReport`` with one row per ``net.params`` key.

    net: anything with ``params`` (a dict of arrays that its layers use in place), ``loss`` and ``gradient``
    (zerograd's nets, the book's ``TwoLayerNet``, your own). A net with ``astype`` is checked as a float64 copy
    (yours keeps its dtype, running statistics and caches). The loss is taken in the mode ``gradient`` uses
    (``net.training``), with every Dropout's mask held at the draw ``gradient`` made. x: ``(N, ...)``; t: labels
    ``(N,)`` or ``(N, C)``.

    mode:
      - ``"exhaustive"`` (default): every element. In a ``Sequential`` ending in ``SoftmaxWithLoss``, the weights
        of an ``Affine`` whose upper layers all treat samples independently are differenced many elements per
        forward pass (``zerograd.batched_numgrad``), after a spot check of a few elements against the plain loop;
        every other parameter (below a BatchNorm or Dropout, or of any other net) goes through the element loop.
        Each comparison's ``method`` says which ran ("batched" or "loop").
      - ``"loop"``: the book's element loop, two ``net.loss`` calls per element.
      - ``"fast"``: one random unit direction ``v`` per parameter: ``(L(θ+hv) - L(θ-hv)) / 2h`` against
        ``grad · v``, measured relative to ``‖grad‖`` (PyTorch's ``gradcheck(fast_mode=True)`` idea). Two loss
        calls per parameter; a wrong backward is caught unless it errs exactly orthogonally to ``v``.

    explain: when the check fails, name the layer the wrong gradient starts in (in a ``Sequential``: the lowest
    layer whose output gradient is still right and whose input or parameter gradient is wrong) and diagnose it
    with ``check_layer(..., explain=True)`` on the input and ``dout`` it saw (``report.diagnoses``).
    """
    if mode not in ("exhaustive", "loop", "fast"):
        raise ValueError(f"check_net: mode must be 'exhaustive', 'loop' or 'fast', got {mode!r}")
    if hasattr(net, "astype"):
        net = net.astype(np.float64)  # a float64 copy: yours keeps its dtype, its running statistics, its caches
    elif any(np.asarray(p).dtype != np.float64 for p in net.params.values()):
        raise TypeError(f"check_net needs float64 parameters (or a net with .astype), got {type(net).__name__}")
    x = _float64(np.asarray(x))
    analytic = {key: np.array(grad, dtype=np.float64) for key, grad in net.gradient(x, t).items()}
    train_flg = bool(getattr(net, "training", True))
    takes_mode = _accepts(net.loss, "train_flg")

    def loss(_: Any = None) -> float:
        # the mode net.gradient ran in: a BatchNorm's batch statistics, a Dropout's (held) mask
        return float(net.loss(x, t, train_flg=train_flg) if takes_mode else net.loss(x, t))

    with _masks_held(net):
        if mode == "fast":
            rng = np.random.default_rng(seed)
            report = GradCheckReport(
                [
                    _directional_comparison(key, analytic[key], param, loss, 1.0, h, rng, rtol, atol)
                    for key, param in net.params.items()
                ],
                rtol,
                atol,
            )
            if explain and not report.passed:
                report.diagnoses = _explain_net(net, x, t, train_flg, report, analytic, {}, loss, h, seed)
            return report
        numerical: dict[str, NDArray] = {}
        method: dict[str, str] = {}
        if mode == "exhaustive":
            keys = batchable_parameters(net)
            if keys:
                batched = layered_numerical_gradients(net, np.asarray(x), np.asarray(t), h, keys, train_flg)
                if batched is not None and _agrees_with_loop(batched, net.params, loss, h, seed):
                    numerical.update(batched)
                    method.update(dict.fromkeys(batched, "batched"))
                # else: the net computes its loss some other way; the honest loop below does every parameter
        for key, param in net.params.items():
            if key not in numerical:
                numerical[key] = numerical_gradient(loss, param, h)
                method[key] = "loop"
        report = GradCheckReport(
            [
                replace(compare_gradients(key, analytic[key], numerical[key], rtol, atol), method=method[key])
                for key in net.params
            ],
            rtol,
            atol,
        )
        if explain and not report.passed:
            report.diagnoses = _explain_net(net, x, t, train_flg, report, analytic, numerical, loss, h, seed)
    return report


def _explain_net(
    net: Any,
    x: Any,
    t: Any,
    train_flg: bool,
    report: GradCheckReport,
    analytic: dict[str, NDArray],
    numerical: dict[str, NDArray],
    loss: Callable[[Any], float],
    h: float,
    seed: int,
) -> list[Diagnosis]:
    """The layer the wrong gradient starts in and that layer's own diagnosis; when no layer is wrong (or the net
    is not a ``Sequential``), each failing parameter's gradient diagnosed from the two arrays alone."""
    failing = [c.name for c in report if not c.passed]
    found = locate_in_net(net, x, t, train_flg, failing, h, seed)
    head: list[Diagnosis] = []
    if found is not None:
        where, layer, inputs, dout, kwargs = found
        layer_report = check_layer(layer, *inputs, dout=dout, seed=seed, explain=True, **kwargs)
        if not layer_report.passed:
            return [where, *(replace(d, name=f"{where.name}.{d.name}") for d in layer_report.diagnoses)]
        evidence = f"{where.name} alone: max rel {layer_report.max_rel_error:.1e}; {where.evidence}"
        worst = max(c.max_rel_error for c in report if not c.passed)
        # NOTE: 1e-3: far above what rounding and the step leave in float64, far below any slip
        if worst < 1e-3:
            return [
                Diagnosis(
                    "net",
                    "rounding",
                    (
                        f"no layer is wrong: {where.name} passes its own check on the input and dout it saw, so the net's "
                        f"differences (max rel {worst:.1e}) are the finite differences' own error (the step "
                        "h against a sharp curvature, such as a BatchNorm over near-equal samples, or rounding) — not a bug"
                    ),
                    evidence,
                )
            ]
        head = [
            Diagnosis(
                "net",
                "outside-layers",
                (
                    f"every layer passes its own check ({where.name} included, on the input and dout it saw): what is wrong "
                    "is in the net's own loss or gradient, outside the layers (a weight-decay term, an extra penalty)"
                ),
                evidence,
            )
        ]
    for key in failing:
        if key not in numerical:  # fast mode: the failing parameters, element by element now
            numerical[key] = numerical_gradient(loss, net.params[key], h)
    n = int(np.shape(x)[0]) if np.ndim(x) >= 2 else None
    return head + [diagnose_gradient(key, analytic[key], numerical[key], batch_size=n) for key in failing]


def _accepts(function: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


@contextmanager
def _masks_held(net: Any) -> Iterator[None]:
    """``net.masks_held()`` where the net has it (random layers reuse their last draw), else nothing."""
    if hasattr(net, "masks_held"):
        with net.masks_held():
            yield
    else:
        yield


def _agrees_with_loop(
    numerical: dict[str, NDArray],
    params: dict[str, NDArray],
    loss: Callable[[], float],
    h: float,
    seed: int,
    samples: int = 3,
) -> bool:
    """Do a few random elements of the batched differences equal the element loop's? (Same differences, so they
    agree to rounding; a net whose loss is not what its layers compute — an extra penalty, say — does not.)"""
    rng = np.random.default_rng(seed)
    for key in numerical:
        param = params[key]
        for flat in rng.choice(param.size, size=min(samples, param.size), replace=False):
            idx = np.unravel_index(flat, param.shape)
            plus, minus = perturbed_pair(loss, param, idx, h)
            expected = (plus - minus) / (2 * h)
            scale = max(np.max(np.abs(numerical[key])), abs(expected), 1e-300)
            if abs(numerical[key][idx] - expected) > 1e-7 * scale + 1e-12:
                return False
    return True


def _output_differences(outputs: Callable[[], NDArray], x: NDArray, dout: Any, h: float) -> NDArray:
    """Central differences of ``sum(outputs() * dout)`` for every element of ``x`` (perturbed in place, restored).

    The two outputs are subtracted before they are weighted and summed: outputs the element does not touch
    cancel exactly, so rounding stays at the size of the touched outputs, not of the whole sum. (A sigmoid layer
    at x = 11, gradient 1.7e-5, fails a 1e-6 check the other way on 81 elements.)
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        plus, minus = perturbed_pair(outputs, x, idx, h)
        grad[idx] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def _directional_comparison(
    name: str,
    analytic: NDArray,
    param: NDArray,
    outputs: Callable[[], Any],
    weight: Any,
    h: float,
    rng: np.random.Generator,
    rtol: float,
    atol: float,
) -> GradientComparison:
    """``grad · v`` against the central difference of ``sum(outputs() * weight)`` along a random unit ``v``."""
    v = rng.standard_normal(param.shape)
    v /= np.linalg.norm(v) or 1.0
    original = param.copy()
    try:
        param += h * v
        plus = np.asarray(outputs(), dtype=np.float64)
        param[...] = original - h * v
        minus = np.asarray(outputs(), dtype=np.float64)
    finally:
        param[...] = original
    numerical = float(np.sum((plus - minus) * weight)) / (2 * h)
    directional = float(np.sum(analytic * v))
    diff = abs(directional - numerical)
    # |grad · v| <= ‖grad‖ for a unit v: measure against that bound, which a lucky near-orthogonal v cannot shrink
    scale = max(float(np.linalg.norm(analytic)), abs(numerical))
    rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
    passed = bool(np.isfinite(diff)) and diff <= atol + rtol * scale
    return GradientComparison(
        name, param.shape, diff, diff, rel, (), directional, numerical, passed, "direction", "direction"
    )
