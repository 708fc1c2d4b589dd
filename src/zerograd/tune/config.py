"""``TuneConfig``: the data, the net, the training and the search space of a study, and the book's preset.

Every hyperparameter field holds a fixed value or a ``FloatRange``/``IntRange``/``Choice`` (``zerograd.tune.space``).
``spec()`` is the part that decides what a trial *means* — data, epochs, net, search space — and is stored with the
study when it is created: a later run against the same study must ask for the same spec (sampler, pruner and seed
may change: they choose which trials run, not what a trial measures).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..optim import OPTIMIZERS
from ..train import SAMPLINGS
from .space import Choice, FloatRange, IntRange, SearchError, describe, hidden_sizes, is_searched

__all__ = ["HYPERPARAMETERS", "PRUNERS", "SAMPLERS", "TuneConfig", "book_preset"]

SAMPLERS = ("random", "tpe")
PRUNERS = ("halving", "median", "none")
# The searchable hyperparameters, in the order trials sample them.
HYPERPARAMETERS = ("lr", "weight_decay", "optimizer", "hidden", "batch_size", "dropout", "init")
INITS = ("he", "xavier")


@dataclass
class TuneConfig:
    """A study's settings. Defaults: a quick practical search; ``book_preset()`` gives chapter 6's exactly."""

    dataset: str = "mnist"  # mnist, fashion-mnist, mnist-sample or a PATH.npz
    root: str | None = None  # where the dataset's files are; None = the datasets' own search order
    train_samples: int | None = None  # use the first N training samples (the book: 500); None = all of them
    val_fraction: float = 0.2  # the book's validation_rate: this share of the training samples validates
    epochs: int = 10  # per trial (pruning may stop a trial earlier)
    activation: str = "relu"
    batchnorm: bool = False  # BatchNormalization after every hidden Affine (MultiLayerNetExtend)
    dtype: str = "float32"  # twice float64's speed, the same accuracy (README, Speed)
    sampling: str = "epoch"  # "epoch": a shuffled pass per epoch; "book": np.random.choice batches as the book's
    seed: int = 0  # seeds the split, every trial's weights and batches, and the random sampler
    # hyperparameters: a fixed value, or a range / choices to search
    lr: Any = field(default_factory=lambda: FloatRange(1e-4, 1.0, log=True))
    weight_decay: Any = 0.0
    optimizer: Any = "sgd"
    hidden: Any = (50,)  # widths; a Choice of "100,100"-style strings when searched
    batch_size: Any = 100
    dropout: Any = 0.0  # dropout ratio after every hidden activation; 0 = no Dropout layers
    init: Any = "he"  # he, xavier or a standard deviation
    sampler: str = "tpe"  # "random" (the book) or "tpe" (Optuna's Tree-structured Parzen Estimator)
    prune: str = "halving"  # "halving" (successive halving), "median", or "none"

    def __post_init__(self) -> None:
        if isinstance(self.hidden, (list, tuple)):
            self.hidden = tuple(int(s) for s in self.hidden)
        elif isinstance(self.hidden, (int, str)) and not isinstance(self.hidden, bool):
            self.hidden = hidden_sizes(str(self.hidden))

    def check(self) -> None:
        """Raise ``SearchError`` (one line) for anything a study cannot run with."""
        if self.train_samples is not None and (_not_int(self.train_samples) or self.train_samples < 2):
            raise SearchError(f"train_samples must be an integer >= 2 or None, got {self.train_samples!r}")
        if not (isinstance(self.val_fraction, (int, float)) and 0 < self.val_fraction < 1):
            raise SearchError(f"val_fraction must be between 0 and 1, got {self.val_fraction!r}")
        if _not_int(self.epochs) or self.epochs < 1:
            raise SearchError(f"epochs must be a positive integer, got {self.epochs!r}")
        for name, allowed, value in (
            ("activation", ("relu", "sigmoid"), self.activation),
            ("dtype", ("float32", "float64"), self.dtype),
            ("sampling", SAMPLINGS, self.sampling),
            ("sampler", SAMPLERS, self.sampler),
            ("prune", PRUNERS, self.prune),
        ):
            if value not in allowed:
                raise SearchError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        for name in HYPERPARAMETERS:
            value = getattr(self, name)
            if is_searched(value):
                value.check(name)
            self._check_values(name, value)

    def _check_values(self, name: str, value: Any) -> None:
        if isinstance(value, Choice):
            for option in value.options:
                self._check_values(name, option)
            return
        if isinstance(value, (FloatRange, IntRange)):
            if name not in ("lr", "weight_decay", "dropout", "batch_size", "init"):
                raise SearchError(f"{name}: a range does not apply here; give choices a/b/c")
            if name == "batch_size" and not isinstance(value, IntRange):
                raise SearchError(f"batch_size: the range must hold whole numbers, got {describe(value)}")
            self._check_values(name, value.low)
            self._check_values(name, value.high)
            return
        checks: dict[str, Callable[[Any], bool]] = {
            "lr": lambda v: not _positive(v),
            "weight_decay": lambda v: not (_number(v) and v >= 0),
            "dropout": lambda v: not (_number(v) and 0 <= v < 1),
            "batch_size": lambda v: _not_int(v) or v < 1,
            "optimizer": lambda v: str(v).lower() not in OPTIMIZERS,
            "init": lambda v: not (str(v).lower() in INITS or _positive_text(v)),
            "hidden": lambda v: not _hidden_ok(v),
        }
        bad = checks[name](value)
        if bad:
            expected = {
                "lr": "a positive number",
                "weight_decay": "a number >= 0",
                "dropout": "a ratio in [0, 1)",
                "batch_size": "a positive integer",
                "optimizer": f"one of {', '.join(OPTIMIZERS)}",
                "init": "he, xavier or a positive standard deviation",
                "hidden": "positive widths such as 100,100",
            }[name]
            raise SearchError(f"{name}: expected {expected}, got {value!r}")

    def searched(self) -> dict[str, Any]:
        """``{name: range or choice}`` of the hyperparameters this study searches."""
        return {name: getattr(self, name) for name in HYPERPARAMETERS if is_searched(getattr(self, name))}

    def spec(self) -> dict[str, Any]:
        """What a trial measures, as JSON-able text: stored with the study, compared when a run continues it."""
        keep = (
            "dataset",
            "train_samples",
            "val_fraction",
            "epochs",
            "activation",
            "batchnorm",
            "dtype",
            "sampling",
            *HYPERPARAMETERS,
        )
        return {
            name: describe(getattr(self, name))
            if name != "hidden" or is_searched(self.hidden)
            else ",".join(map(str, self.hidden))
            for name in keep
        }

    def replace(self, **changes: Any) -> TuneConfig:
        return dataclasses.replace(self, **changes)


def book_preset() -> TuneConfig:
    """Chapter 6's ``hyperparameter_optimization.py``: 100 random trials of ``lr = 10^U(-6,-2)`` and
    ``weight_decay = 10^U(-8,-4)`` for a ``MultiLayerNet(784, [100]*6, 10)`` (He init, ReLU) trained 50 epochs with
    SGD in batches of 100 (``np.random.choice`` draws, as the book's Trainer) on the first 500 MNIST training
    images, 20 % of them (shuffled, seeded) held out for validation. No pruning: every trial runs its 50 epochs."""
    return TuneConfig(
        dataset="mnist",
        train_samples=500,
        val_fraction=0.2,
        epochs=50,
        activation="relu",
        sampling="book",
        lr=FloatRange(1e-6, 1e-2, log=True),
        weight_decay=FloatRange(1e-8, 1e-4, log=True),
        optimizer="sgd",
        hidden=(100,) * 6,
        batch_size=100,
        dropout=0.0,
        init="he",
        sampler="random",
        prune="none",
    )


PRESETS = {"book": book_preset}
BOOK_TRIALS = 100  # the book's optimization_trial


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive(v: Any) -> bool:
    return _number(v) and v > 0


def _not_int(v: Any) -> bool:
    return isinstance(v, bool) or not isinstance(v, int)


def _positive_text(v: Any) -> bool:
    try:
        return _positive(float(v))
    except (TypeError, ValueError):
        return False


def _hidden_ok(v: Any) -> bool:
    try:
        return bool(hidden_sizes(v if isinstance(v, str) else ",".join(map(str, v))))
    except SearchError:
        return False
