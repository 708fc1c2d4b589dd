"""How to train, as data: ``TrainConfig`` (what ``Trainer`` runs and what a checkpoint's ``train_config`` holds)
and ``SAMPLINGS``, the ways a batch is drawn.

It sits below both ``zerograd.train`` (which trains by it) and ``zerograd.checkpoint_schema`` (which checks a saved
one), so neither has to import the other.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from .engine.thread_choice import THREAD_CHOICES
from .optim import OPTIMIZERS, Optimizer, make_optimizer

__all__ = ["SAMPLINGS", "TRAIN_ACCURACIES", "TrainConfig"]

SAMPLINGS = ("epoch", "book")
# how the training accuracy of an epoch is measured: "running", from the epoch's own forward passes (free; what
# Keras reports), or "evaluated", a pass over the first eval_train_samples training samples after the epoch
TRAIN_ACCURACIES = ("running", "evaluated")


@dataclass
class TrainConfig:
    """How to train. Every default reproduces the book's chapter-5 run (``train_neuralnet.py``) or says why not."""

    epochs: int = 17  # the book's 10,000 iterations of 100 samples, over 60,000 training images
    batch_size: int = 100  # the book's mini-batch: small enough to be noisy (it helps), large enough to vectorise
    optimizer: str = "sgd"  # chapter 5 trains with plain SGD; chapter 6's optimizers are a flag away
    lr: float = 0.1  # the book's learning_rate for SGD on MNIST
    # momentum, decay_rate, beta1, beta2 for the other optimizers; empty = their book defaults
    optimizer_params: dict[str, float] = field(default_factory=dict)
    seed: int = 0  # one seed fixes the batch order, so two runs (and a resumed run) are identical
    # "epoch": one shuffled permutation per epoch, each sample once (the standard practice, and what is timed);
    # "book": np.random.choice batches with replacement, as the book's loop draws them
    sampling: str = "epoch"
    eval_batch_size: int = 1000  # accuracy in batches: memory stays bounded on 60k samples, matmuls stay large
    # evaluate train accuracy on the first N training samples only (the book's evaluate_sample_num_per_epoch);
    # None = all of them
    eval_train_samples: int | None = None
    # "running": the accuracy of the epoch's own batches, as they were trained on (costs no forward pass; lower
    # than the end-of-epoch accuracy while the net still learns); "evaluated": a pass after the epoch over the
    # first eval_train_samples. None = "evaluated" when eval_train_samples is given, else "running"
    train_accuracy: str | None = None
    # evaluate (the test set, and the training set when "evaluated") after every N-th epoch and after the last;
    # the epochs between record NaN
    eval_every: int = 1
    # BLAS threads while training; None = one for small nets, where a second thread costs more than it gives
    # (zerograd.engine.threads: the 784-50-10 net at batch 100 ran 1.6x faster on one), else the library's own setting
    blas_threads: int | None = None
    # zerograd.engine.parallel's threads while training; None = one per core (ZEROGRAD_THREADS overrides either)
    zerograd_threads: int | None = None
    # how the threads are chosen (zerograd.engine.thread_choice): "auto" times a few steps under each candidate and
    # keeps the fastest that gives the rule's bits, unless the machine is busy and one of other bits is 1.5x faster,
    # which is then recorded in blas_threads/zerograd_threads; "identical" only the rule's bits; "fastest" any candidate,
    # recorded; "off" the rule alone
    thread_choice: str = "auto"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"TrainConfig: {name} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"TrainConfig: lr must be a positive number, got {self.lr!r}")
        if str(self.optimizer).lower() not in OPTIMIZERS:
            raise ValueError(
                f"TrainConfig: unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}"
            )
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"TrainConfig: sampling must be one of {SAMPLINGS}, got {self.sampling!r}")
        if self.blas_threads is not None and (
            isinstance(self.blas_threads, bool)
            or not isinstance(self.blas_threads, (int, np.integer))
            or self.blas_threads < 1
        ):
            raise ValueError(f"TrainConfig: blas_threads must be a positive integer or None, got {self.blas_threads!r}")
        if self.zerograd_threads is not None and (
            isinstance(self.zerograd_threads, bool)
            or not isinstance(self.zerograd_threads, (int, np.integer))
            or self.zerograd_threads < 1
        ):
            raise ValueError(
                f"TrainConfig: zerograd_threads must be a positive integer or None, got {self.zerograd_threads!r}"
            )
        if self.thread_choice not in THREAD_CHOICES:
            raise ValueError(f"TrainConfig: thread_choice must be one of {THREAD_CHOICES}, got {self.thread_choice!r}")
        if self.eval_train_samples is not None and self.eval_train_samples < 1:
            raise ValueError(
                f"TrainConfig: eval_train_samples must be positive or None, got {self.eval_train_samples!r}"
            )
        if self.train_accuracy is None:
            self.train_accuracy = "running" if self.eval_train_samples is None else "evaluated"
        if self.train_accuracy not in TRAIN_ACCURACIES:
            raise ValueError(
                f"TrainConfig: train_accuracy must be one of {TRAIN_ACCURACIES}, got {self.train_accuracy!r}"
            )

    def make_optimizer(self) -> Optimizer:
        return make_optimizer(self.optimizer, lr=self.lr, **self.optimizer_params)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The config of ``to_dict()``. A saved config without ``train_accuracy`` predates it: its run evaluated
        the training set after each epoch, and a resumed run goes on doing so."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if data and "train_accuracy" not in data:
            values["train_accuracy"] = "evaluated"
        return cls(**values)
