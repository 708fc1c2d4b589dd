"""One trial: the seeded train/validation split, the net a trial's values describe, and its training run.

The validation samples come out of the training set (the book shuffles its 500 images and holds out the first
20 %); the test set is not looked at here. Every trial's randomness — initial weights and batch order — is keyed by
the study's seed and the trial's number, so a retried trial and the final retraining of the best trial repeat it
exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..run import RunData, RunSpec
from ..train import History, Trainer
from .config import HYPERPARAMETERS, TuneConfig
from .space import SearchError, hidden_sizes

__all__ = ["Split", "build_net", "load_split", "train_trial", "trial_seeds", "trial_spec"]


@dataclass(frozen=True)
class Split:
    """x_train: (N_train, D), x_val: (N_val, D), x_test: (N_test, D); labels t_*: (N,) integers."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_val: np.ndarray
    t_val: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    num_classes: int
    dataset: str  # the dataset's own name (e.g. "mnist-sample" when MNIST fell back to the bundled sample)

    @property
    def input_size(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))


def load_split(config: TuneConfig, load: Callable[..., Any] | None = None) -> Split:
    """Load ``config.dataset``, keep the first ``train_samples`` training samples, shuffle them (seeded) and hold
    out the first ``val_fraction`` of them for validation, as the book's ``shuffle_dataset`` + slice does.

    Raises ``zerograd.datasets.DatasetError`` for data problems and ``SearchError`` for sizes that do not fit.
    """
    if load is None:
        from ..datasets import load_dataset

        load = load_dataset
    ds = load(config.dataset, root=config.root, dtype=np.dtype(config.dtype))
    x, t = ds.x_train, ds.t_train
    if config.train_samples is not None:
        if config.train_samples > len(x):
            raise SearchError(f"train_samples: {ds.name} has {len(x)} training samples, {config.train_samples} asked")
        x, t = x[: config.train_samples], t[: config.train_samples]
    n_val = int(len(x) * config.val_fraction)  # the book: int(500 * 0.2) = 100
    if n_val < 1 or n_val > len(x) - 1:
        raise SearchError(
            f"val_fraction {config.val_fraction:g} of {len(x)} samples leaves {n_val} for validation "
            f"and {len(x) - n_val} for training; both need at least one"
        )
    order = np.random.default_rng([config.seed, 0]).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    classes = len(ds.classes) if getattr(ds, "classes", None) else int(np.max(ds.t_train)) + 1
    return Split(x[train], t[train], x[val], t[val], ds.x_test, ds.t_test, classes, str(ds.name))


def trial_seeds(study_seed: int, key: int) -> tuple[np.random.Generator, int]:
    """(the generator of the initial weights, the trainer's seed) of the trial numbered ``key``."""
    batch_seed = int(np.random.SeedSequence([study_seed, key, 2]).generate_state(1)[0])
    return np.random.default_rng([study_seed, key, 1]), batch_seed


def trial_spec(config: TuneConfig, values: dict[str, Any], key: int) -> RunSpec:
    """The run of one trial: a ``MultiLayerNet`` (``MultiLayerNetExtend`` with dropout or batch normalization)
    trained on the study's settings, seeded by the study's seed and the trial number ``key``.

    values: one value per name in ``HYPERPARAMETERS`` (hidden as ``"100,100"`` or a tuple of widths).
    """
    missing = [name for name in HYPERPARAMETERS if name not in values]
    if missing:
        raise ValueError(f"train_trial: no value for {', '.join(missing)}")
    _, batch_seed = trial_seeds(config.seed, key)
    hidden = values["hidden"]
    return RunSpec.from_dict(
        {
            "dataset": config.dataset,
            "dtype": config.dtype,
            "net": "multilayer",
            "hidden": hidden_sizes(hidden) if isinstance(hidden, str) else tuple(hidden),
            "activation": config.activation,
            "init": values["init"],
            "batchnorm": config.batchnorm,
            "dropout": float(values["dropout"]),
            "weight_decay": float(values["weight_decay"]),
            "init_seed": (config.seed, key, 1),
            "optimizer": str(values["optimizer"]),
            "lr": float(values["lr"]),
            "epochs": config.epochs,
            "batch_size": int(values["batch_size"]),
            "sampling": config.sampling,
            "seed": batch_seed,
            "blas_threads": 1,  # one thread: workers run side by side
        }
    )


def build_net(
    config: TuneConfig, values: dict[str, Any], input_size: int, num_classes: int, rng: np.random.Generator
) -> Any:
    """The net of one trial (``trial_spec``'s), its initial weights drawn from ``rng``."""
    return trial_spec(config, values, 0).build_net(input_size, num_classes, rng=rng)


# Called after each epoch with (epoch, train accuracy, validation accuracy); returning True stops the run there.
EpochHook = Callable[[int, float, float], bool]


def train_trial(
    config: TuneConfig,
    split: Split,
    values: dict[str, Any],
    key: int,
    on_epoch: EpochHook | None = None,
    net_out: list[Any] | None = None,
) -> History:
    """Train the net ``values`` describe on ``split``'s training part, validating after each epoch.

    key: the trial number that seeds it (the original trial's for a retry). Returns the history, whose
    ``test_acc`` holds the *validation* accuracies. Raises ``zerograd.train.DivergedError`` when the loss becomes
    NaN or infinite. net_out: when given, the trained net is appended to it.
    """
    spec = trial_spec(config, values, key)

    def after_epoch(trainer: Trainer) -> None:
        h = trainer.history
        if on_epoch is not None and on_epoch(trainer.epoch, h.train_acc[-1], h.test_acc[-1]):
            raise StopIteration  # the Trainer's clean stop after this epoch

    data = RunData(
        split.x_train, split.t_train, split.x_val, split.t_val, num_classes=split.num_classes, name=split.dataset
    )
    trainer = spec.run(callbacks=[after_epoch], data=data)
    if net_out is not None:
        net_out.append(trainer.net)
    return trainer.history
