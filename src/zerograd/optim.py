"""Optimizers of chapter 6: ``SGD``, ``Momentum``, ``Nesterov``, ``AdaGrad``, ``RMSprop`` and ``Adam``.

Each has the book's interface ``update(params, grads)``: ``params`` and ``grads`` are dicts of arrays with the
same keys (``"W1"``, ``"b1"``, ...), and every parameter array is changed *in place*, because a net's layers hold
the very same arrays (``Affine.W is net.params["W1"]``). Per-parameter state (``v``, ``h``, ``m``) is created on
the first update with each parameter's shape and dtype, so a float32 net stays float32.

``state_dict()`` returns the hyperparameters, the step count and the state arrays; ``load_state_dict`` restores
them, and ``optimizer_from_state`` builds the right optimizer from such a dict (checkpoints use it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .engine.parallel import MIN_BLOCK, run_blocks

__all__ = [
    "OPTIMIZERS",
    "AdaGrad",
    "Adam",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "SGD",
    "make_optimizer",
    "optimizer_from_state",
]

# NOTE: added to a square root before dividing (AdaGrad, RMSprop, Adam): a parameter whose gradient has been 0
# so far would otherwise divide 0 by 0. The book uses 1e-7 too.
EPS = 1e-7

# Every this many steps, an optimizer's state arrays have their subnormal numbers set to 0 (Optimizer.update)
FLUSH_EVERY = 32

# Parameters from this many elements are updated in row blocks on the cores (zerograd.engine.parallel); an update makes
# several passes over each element, so it pays to split sooner than a one-pass job.
_SPLIT_UPDATE = MIN_BLOCK // 2


class Optimizer:
    """Base class: hyperparameters as attributes, state as ``self.state[slot][key]`` arrays.

    Subclasses set ``hyperparameter_names`` and ``slot_names`` and implement ``_step(param, grad, *slots)``.
    """

    hyperparameter_names: tuple[str, ...] = ("lr",)
    slot_names: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = _positive("lr", lr, type(self).__name__)
        self.steps = 0  # completed updates; Adam's bias correction needs it
        self.state: dict[str, dict[str, NDArray]] = {slot: {} for slot in self.slot_names}

    def update(self, params: dict[str, NDArray], grads: dict[str, NDArray]) -> None:
        """One step on every parameter in ``params``, in place. grads: same keys and shapes as params."""
        if self.steps == 0 or len(grads) != len(params):
            self._check_pair(params, grads)  # once, at the boundary: not on every step of the hot loop
        self.steps += 1
        for key, param in params.items():
            grad = grads[key]
            slots = [self._slot(slot, key, param) for slot in self.slot_names] if self.slot_names else ()
            if param.size < _SPLIT_UPDATE or not isinstance(grad, np.ndarray) or grad.shape != param.shape:
                self._step(param, grad, *slots)
            else:
                self._step_in_blocks(param, grad, slots)
        if self.slot_names and self.steps % FLUSH_EVERY == 0:
            self._flush_subnormals()

    def _flush_subnormals(self) -> None:
        """Set the subnormal numbers of the state arrays (below ``finfo.tiny`` in size, not 0) to 0.

        NOTE: a state that decays where the gradient is 0 (Adam's and Momentum's ``m``/``v`` shrink by a factor each
        step) reaches the subnormal range, below 1.2e-38 in float32, after a few hundred steps, and then sticks
        there: ``0.1 * m`` of the smallest subnormals rounds to 0, so ``m - 0.1 * m`` stays ``m``. x86 computes
        with subnormals some 100 times slower; after 800 steps 13 % of the 784-256-128-10 net's ``W1`` moments were
        subnormal and Adam's update took 1.9 ms instead of 0.56 (epochs 40 % slower). Their contribution to a
        step (``lr · m / (√v + ε)`` below 1e-34 for Adam, ``v`` itself below 1.2e-38 for Momentum) lies under
        the last bit of any weight larger than 1e-25, so setting them to 0 changes no such weight (a test
        trains with and without, bit for bit); done every ``FLUSH_EVERY`` steps (as a function of the step
        count, so a resumed run flushes where the original did).
        """
        for buffers in self.state.values():
            for buf in buffers.values():
                tiny = np.finfo(buf.dtype).tiny
                np.putmask(buf, np.abs(buf) < tiny, 0)

    def _step_in_blocks(self, param: NDArray, grad: NDArray, slots: list[NDArray] | tuple[()]) -> None:
        # NOTE: every element's update is independent, so a large parameter's rows are updated in blocks on
        # separate cores (zerograd.engine.parallel): Adam on SimpleConvNet's W2 (4320 x 100) in 1.0 ms, not 1.8.
        def step(rows: slice) -> None:
            self._step(param[rows], grad[rows], *(slot[rows] for slot in slots))

        run_blocks(step, param.shape[0], param[0].size, _SPLIT_UPDATE // 2)

    # _step(param, grad, *slots): update ``param`` in place from ``grad``, and the state arrays ``slots`` (in
    # ``slot_names`` order), all of the same shape: views of some rows of the whole arrays. Each optimizer
    # defines it with its own slots, e.g. Momentum's _step(param, grad, v).
    _step: Callable[..., None]

    def _slot(self, slot: str, key: str, param: NDArray) -> NDArray:
        """The state array ``slot`` of parameter ``key``, zeros of the parameter's shape and dtype at first."""
        buf = self.state[slot].get(key)
        if buf is None:
            buf = self.state[slot][key] = np.zeros_like(param)
        return buf

    def _check_pair(self, params: dict[str, NDArray], grads: dict[str, NDArray]) -> None:
        name = type(self).__name__
        if set(grads) != set(params):
            raise KeyError(f"{name}.update: grads have keys {sorted(grads)} but params have {sorted(params)}")
        for key, param in params.items():
            if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
                raise TypeError(
                    f"{name}.update: params[{key!r}] must be a floating NumPy array (it is updated in "
                    f"place), got {type(param).__name__}"
                )
            if np.shape(grads[key]) != param.shape:
                raise ValueError(
                    f"{name}.update: grads[{key!r}] has shape {np.shape(grads[key])!r}, "
                    f"params[{key!r}] has {param.shape!r}"
                )

    # -- saving and restoring ----------------------------------------------------------------------------------

    def hyperparameters(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.hyperparameter_names}

    def state_dict(self) -> dict[str, Any]:
        """``{"type", "hyperparameters", "steps", "state": {slot: {key: array}}}``; the arrays are copies."""
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "steps": self.steps,
            "state": {slot: {key: buf.copy() for key, buf in bufs.items()} for slot, bufs in self.state.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (from an optimizer of the same type)."""
        name = type(self).__name__
        if state.get("type") != name:
            raise ValueError(f"{name}.load_state_dict: the state is of a {state.get('type')!r} optimizer")
        slots = state.get("state", {})
        if set(slots) != set(self.slot_names):
            raise ValueError(
                f"{name}.load_state_dict: expected state slots {list(self.slot_names)}, got {sorted(slots)}"
            )
        hyper = dict(state.get("hyperparameters", {}))
        if set(hyper) != set(self.hyperparameter_names):
            raise ValueError(
                f"{name}.load_state_dict: expected hyperparameters {list(self.hyperparameter_names)}, "
                f"got {sorted(hyper)}"
            )
        for key, value in hyper.items():
            setattr(self, key, float(value))
        self.steps = int(state.get("steps", 0))
        self.state = {
            slot: {key: np.array(buf, copy=True) for key, buf in slots[slot].items()} for slot in self.slot_names
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent: ``W ← W - lr · ∂L/∂W``."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def _step(self, param: NDArray, grad: NDArray) -> None:
        param -= self.lr * grad
        # NOTE: a one-pass BLAS axpy through SciPy halved this step on one core (570 → 290 µs for the wide net's
        # W1), but SciPy loads a second OpenBLAS whose thread pool fights NumPy's: the wide net's Trainer epoch went
        # from 0.70 s to 1.9 s. Two passes through NumPy it stays.


class Momentum(Optimizer):
    """``v ← momentum · v - lr · ∂L/∂W``;  ``W ← W + v`` (a ball rolling downhill, slowed by friction)."""

    hyperparameter_names = ("lr", "momentum")
    slot_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = _fraction("momentum", momentum, type(self).__name__)

    def _step(self, param: NDArray, grad: NDArray, v: NDArray) -> None:
        v *= self.momentum
        v -= self.lr * grad
        param += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the form that needs the gradient at ``W`` only:

    ``W ← W + momentum² · v - (1 + momentum) · lr · g``, then ``v ← momentum · v - lr · g``.

    # NOTE: the order matters: ``W`` moves with the velocity *before* this step's update. (With ``v`` updated first,
    # ``W`` would move by ``momentum³ · v - (1 + momentum + momentum²) · lr · g``, which is not Nesterov's method;
    # the book's repository had that order until commit 89eadd0, 2021-01-18, "Fix Nesterov update function".)
    """

    def _step(self, param: NDArray, grad: NDArray, v: NDArray) -> None:
        param += (self.momentum * self.momentum) * v
        param -= ((1 + self.momentum) * self.lr) * grad
        v *= self.momentum
        v -= self.lr * grad


class AdaGrad(Optimizer):
    """``h ← h + g²``;  ``W ← W - lr · g / (√h + ε)``: each parameter's step shrinks as its gradients add up."""

    slot_names = ("h",)

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def _step(self, param: NDArray, grad: NDArray, h: NDArray) -> None:
        h += grad * grad
        param -= self.lr * grad / (np.sqrt(h) + EPS)


class RMSprop(Optimizer):
    """``h ← ρ · h + (1 - ρ) · g²``;  ``W ← W - lr · g / (√h + ε)``: AdaGrad that forgets old gradients."""

    hyperparameter_names = ("lr", "decay_rate")
    slot_names = ("h",)

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99) -> None:
        super().__init__(lr)
        self.decay_rate = _fraction("decay_rate", decay_rate, type(self).__name__)

    def _step(self, param: NDArray, grad: NDArray, h: NDArray) -> None:
        h *= self.decay_rate
        h += (1 - self.decay_rate) * grad * grad
        param -= self.lr * grad / (np.sqrt(h) + EPS)


class Adam(Optimizer):
    """Momentum and RMSprop together, with bias correction for the zero-initialised averages:

    ``m ← m + (1 - β1)(g - m)``;  ``v ← v + (1 - β2)(g² - v)``;
    ``W ← W - lr · √(1 - β2^t) / (1 - β1^t) · m / (√v + ε)`` at step ``t`` (1, 2, ...).
    """

    hyperparameter_names = ("lr", "beta1", "beta2")
    slot_names = ("m", "v")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999) -> None:
        super().__init__(lr)
        self.beta1 = _fraction("beta1", beta1, type(self).__name__)
        self.beta2 = _fraction("beta2", beta2, type(self).__name__)

    def update(self, params: dict[str, NDArray], grads: dict[str, NDArray]) -> None:
        # the step size is the same for every parameter: compute it once per update
        t = self.steps + 1
        self._lr_t = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        super().update(params, grads)

    def _step(self, param: NDArray, grad: NDArray, m: NDArray, v: NDArray) -> None:
        # NOTE: the three lines of the docstring, operation for operation (the same numbers, bit for bit), but into
        # two scratch arrays: as NumPy expressions each operator allocates a temporary, and Adam on half of
        # SimpleConvNet's W2 took 0.85 ms that way against 0.55 ms this way.
        step = np.asarray(grad - m)  # an array even for one number (a 0-d parameter gives a NumPy scalar)
        step *= 1 - self.beta1
        m += step  # m ← m + (1 - β1)(g - m)
        np.multiply(grad, grad, out=step)
        step -= v
        step *= 1 - self.beta2
        v += step  # v ← v + (1 - β2)(g² - v)
        scaled_m = np.multiply(m, self._lr_t)
        np.sqrt(v, out=step)
        step += EPS
        np.divide(scaled_m, step, out=step)
        param -= step  # W ← W - lr_t · m / (√v + ε)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}

# The learning rate to use when none is given: chapter 5's 0.1 for SGD on MNIST (the book's train_neuralnet.py;
# the SGD class's own default, 0.01, is chapter 6's), and the book's chapter-6 defaults for the others.
DEFAULT_LR: dict[str, float] = {
    "sgd": 0.1,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.01,
    "rmsprop": 0.01,
    "adam": 0.001,
}


def make_optimizer(name: str, **hyperparameters: float) -> Optimizer:
    """An optimizer by (case-insensitive) name: ``make_optimizer("adam", lr=1e-3)``."""
    cls = OPTIMIZERS.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    unknown = set(hyperparameters) - set(cls.hyperparameter_names)
    if unknown:
        raise ValueError(
            f"{cls.__name__} has no hyperparameter {', '.join(sorted(unknown))}; "
            f"it takes {', '.join(cls.hyperparameter_names)}"
        )
    return cls(**hyperparameters)


def optimizer_from_state(state: dict[str, Any]) -> Optimizer:
    """Rebuild the optimizer whose ``state_dict()`` is ``state``."""
    by_class = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    cls = by_class.get(str(state.get("type")))
    if cls is None:
        raise ValueError(f"unknown optimizer type {state.get('type')!r}; expected one of {sorted(by_class)}")
    optimizer = cls(**state.get("hyperparameters", {}))
    optimizer.load_state_dict(state)
    return optimizer


def _positive(name: str, value: float, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{owner}: {name} must be a positive finite number, got {value!r}")
    return float(value)


def _fraction(name: str, value: float, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if not 0 <= value < 1:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value!r}")
    return float(value)
