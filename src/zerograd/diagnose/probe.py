"""Running the checked layer again: a fresh copy as the check prepared it, its gradients, central differences
along a direction or at one element — and the layer-level slips those runs reveal (writes into ``dout``, the input
or the saved state; a random draw or state kept between calls)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .diagnosis import Diagnosis

__all__ = ["LayerProbe", "layer_slips"]


class LayerProbe:
    """Runs a fresh copy of the checked layer (as ``check_layer`` prepared it: float64, before ``forward``).

    template: the layer; inputs: ``forward``'s arguments; kwargs: ``train_flg`` where the layer takes it;
    dout: the check's ``dout``; h: its step; gradients: ``(name, where)`` in the report's order, ``where`` an input
    position (int) or a parameter attribute (str).
    """

    def __init__(
        self,
        template: Any,
        inputs: tuple[Any, ...],
        kwargs: dict[str, Any],
        dout: Any,
        h: float,
        gradients: Sequence[tuple[str, int | str]],
        seed: int = 0,
    ) -> None:
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

    def run(
        self, inputs: tuple[Any, ...] | None = None, dout: Any = None
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
            value = (
                back[where] if isinstance(where, int) and where < len(back) else getattr(layer, "d" + str(where), None)
            )
            if value is not None:
                grads[name] = np.array(value, dtype=np.float64)
        return layer, inputs, out, grads

    def array_of(self, layer: Any, inputs: tuple[Any, ...], where: int | str) -> NDArray:
        return inputs[where] if isinstance(where, int) else getattr(layer, where)

    def where(self, name: str) -> int | str:
        return dict(self.gradients)[name]

    def slope(
        self,
        name: str,
        v: NDArray,
        h: float | None = None,
        inputs: tuple[Any, ...] | None = None,
        dout: Any = None,
        state: tuple[Any, tuple[Any, ...]] | None = None,
    ) -> float:
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

    def one_sided(
        self, name: str, idx: tuple[int, ...], state: tuple[Any, tuple[Any, ...]]
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
        return (
            ((f[0.0] - f[-h]) / h, (f[h] - f[0.0]) / h),
            ((f[0.0] - f[-2 * h]) / (2 * h), (f[2 * h] - f[0.0]) / (2 * h)),
        )

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
    return len(a) == len(b) and all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(a, b, strict=True)
    )


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
            found.append(
                Diagnosis(
                    "layer",
                    "random",
                    (
                        f"{cls}.forward draws new random numbers on every call (a Dropout mask redrawn): the numerical "
                        "gradient differences outputs of different masks — keep the mask of the first call while checking "
                        "(zerograd's layers have hold_mask(True))"
                    ),
                    f"two calls of forward on the same input differ in {changed} of {first.size} outputs",
                )
            )
        else:
            found.append(
                Diagnosis(
                    "layer",
                    "stateful",
                    (
                        f"{cls}.forward gives a different output for the same input on its second call: it depends on "
                        "state left by an earlier call (a counter, a running statistic used where the batch's is meant)"
                    ),
                    f"two calls of forward on the same input differ in {changed} of {first.size} outputs, max "
                    f"|difference| {float(np.max(np.abs(first - second))):.3e}; no random numbers were drawn",
                )
            )
    if dout_was_written:
        dout = copy.deepcopy(probe.dout)
        layer, inputs = probe.fresh()
        probe.forward(layer, inputs)
        layer.backward(dout)
        changed = int(np.sum(np.asarray(dout) != np.asarray(probe.dout)))
        found.append(
            Diagnosis(
                "layer",
                "writes-dout",
                (
                    f"{cls}.backward writes into the dout it is given (like the book's `dout[self.mask] = 0`): the layer "
                    "above loses its gradient and the check depends on the order of calls — compute into a new array"
                ),
                f"{changed} of {np.size(dout)} elements of dout changed by one backward call",
            )
        )
    layer, inputs = probe.fresh()
    probe.forward(layer, inputs)
    if hasattr(layer, "hold_mask"):
        layer.hold_mask(True)
    grads = []
    for _ in range(2):
        back = layer.backward(copy.deepcopy(probe.dout))
        back = list(back) if isinstance(back, tuple) else [back]
        grads.append(
            [np.array(g, dtype=np.float64) for g in back if g is not None]
            + [
                np.array(getattr(layer, "d" + str(w)), dtype=np.float64)
                for _, w in probe.gradients
                if isinstance(w, str) and getattr(layer, "d" + str(w), None) is not None
            ]
        )
    for i, value in enumerate(probe.inputs):
        if isinstance(value, np.ndarray) and not np.array_equal(value, inputs[i]):
            changed = int(np.sum(value != inputs[i]))
            found.append(
                Diagnosis(
                    "layer",
                    "writes-input",
                    (
                        f"{cls} writes into its input x{'' if len(probe.inputs) == 1 else i} (the array it kept in forward "
                        "and the caller's): later calls see other numbers — copy before changing it"
                    ),
                    f"{changed} of {value.size} input elements changed by forward + backward",
                )
            )
    if not any(d.kind in ("writes-input", "random", "stateful") for d in found) and not all(
        np.array_equal(a, b) for a, b in zip(*grads, strict=False)
    ):
        found.append(
            Diagnosis(
                "layer",
                "writes-state",
                (
                    f"{cls}.backward changes what forward saved (an in-place `*=` on a kept array): a second backward "
                    "after the same forward gives another gradient"
                ),
                "two backward calls after one forward return different gradients",
            )
        )
    return found
