"""The chapter's training loop as a library: mini-batches, a gradient, an optimizer step; accuracy each epoch.

    config = TrainConfig(epochs=10, lr=0.1)
    trainer = Trainer(net, config, x_train, t_train, x_test, t_test)
    history = trainer.fit()

The loop uses only the net's public interface (``net.gradient``, ``net.accuracy``, ``net.params``) and the
optimizer's ``update``, so it trains zerograd's nets, the ``zerograd.book`` nets, or a net of your own.

What each epoch measures (``TrainConfig``): the training accuracy is by default the *running* accuracy of the
epoch's own batches, read from the softmax the training step computed anyway (Keras reports the same); with
``eval_train_samples=N`` (or ``train_accuracy="evaluated"``) it is a pass over the first N training samples after
the epoch, as the book's ``Trainer`` does with ``evaluate_sample_num_per_epoch``. The test set is evaluated after
every ``eval_every``-th epoch and the last, through the net's inference walk (nothing kept for backward).
``trainer.state_dict()`` / ``load_state_dict`` (and ``zerograd.checkpoint``) capture everything that decides the
rest of a run — parameters, optimizer state, epoch, the random generator — so a resumed run is bit-for-bit the
run that was never interrupted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .engine.thread_choice import ThreadChoice
from .engine.threads import blas_threads, blas_threads_for
from .optim import Optimizer
from .train_config import SAMPLINGS, TRAIN_ACCURACIES, TrainConfig

__all__ = [
    "SAMPLINGS",
    "TRAIN_ACCURACIES",
    "Callback",
    "DivergedError",
    "History",
    "TrainConfig",
    "Trainer",
    "train_accuracy_source",
]


@dataclass
class History:
    """What a run recorded: the loss of every iteration and, per epoch, mean loss, accuracies and seconds."""

    loss: list[float] = field(default_factory=list)  # per iteration: the batch's loss before its update
    epoch_loss: list[float] = field(default_factory=list)  # per epoch: mean of that epoch's iteration losses
    # per epoch, as TrainConfig.train_accuracy says (train_accuracy_source(config) names it); NaN = not evaluated
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)  # empty when the trainer has no test set; NaN = skipped
    seconds: list[float] = field(default_factory=list)  # per epoch: training time, evaluation excluded
    iterations_per_epoch: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        values: dict[str, Any] = {
            f.name: (list(map(float, data[f.name])) if f.name != "iterations_per_epoch" else int(data[f.name]))
            for f in fields(cls)
            if f.name in data
        }
        return cls(**values)


class DivergedError(FloatingPointError):
    """The loss became NaN or infinite: training stopped, the net's parameters are no longer usable."""

    def __init__(self, iteration: int, epoch: int, loss: float, lr: float) -> None:
        self.iteration, self.epoch, self.loss, self.lr = iteration, epoch, loss, lr
        super().__init__(
            f"the loss became {loss} at iteration {iteration} (epoch {epoch}): training diverged. "
            f"The learning rate {lr:g} is probably too high; try a lower one, e.g. {lr / 10:g}"
        )


class TrainableNet(Protocol):
    params: dict[str, NDArray]

    def gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]: ...
    def accuracy(self, x: NDArray, t: NDArray, batch_size: int | None = ...) -> float: ...


Callback = Callable[["Trainer"], Any]  # called after each epoch with the trainer; read trainer.history


class Trainer:
    """Mini-batch training of ``net`` on ``x_train: (N, D)``, ``t_train: (N,)`` integer labels (or ``(N, C)``
    one-hot), evaluated each epoch on the training set and on ``x_test``/``t_test`` when given.

    optimizer: defaults to ``config.make_optimizer()``. callbacks: each called as ``callback(trainer)`` after every
    epoch (save a checkpoint, print a line, stop early by raising ``StopIteration``).
    """

    def __init__(
        self,
        net: TrainableNet,
        config: TrainConfig,
        x_train: NDArray,
        t_train: NDArray,
        x_test: NDArray | None = None,
        t_test: NDArray | None = None,
        optimizer: Optimizer | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        self.net = net
        self.config = config
        self.x_train, self.t_train = _check_split("train", x_train, t_train)
        if (x_test is None) != (t_test is None):
            raise ValueError("Trainer: give both x_test and t_test, or neither")
        self.x_test: NDArray | None = None
        self.t_test: NDArray | None = None
        if x_test is not None:
            self.x_test, self.t_test = _check_split("test", x_test, t_test)
        self.optimizer = optimizer if optimizer is not None else config.make_optimizer()
        self.callbacks = list(callbacks)
        self.rng = np.random.default_rng(config.seed)
        self.epoch = 0  # finished epochs
        n = len(self.x_train)
        self.history = History(iterations_per_epoch=math.ceil(n / config.batch_size))
        # the running accuracy needs the step's softmax; a net that does not keep one is evaluated instead
        self._read_predictions = _predictions_reader(net) if config.train_accuracy == "running" else None
        self._labels = self.t_train if self.t_train.ndim == 1 else np.argmax(self.t_train, axis=1)
        # what history.train_acc measures, in a few words (metrics.csv's train_acc_on column)
        self.train_acc_on = train_accuracy_source(config, n, running=self._read_predictions is not None)
        self.eval_seconds: list[float] = []  # per epoch of this process: the time spent evaluating (not saved)
        self.thread_choice: ThreadChoice | None = None  # how fit() chose its threads (its .log, .excluded)

    # -- the loop ----------------------------------------------------------------------------------------------

    def fit(self, progress: Any = None) -> History:
        """Train until ``config.epochs`` epochs are done (from ``self.epoch``, so a restored trainer continues).

        progress: an object with ``update(n)`` (a tqdm bar over all iterations), told every few iterations.
        A ``DivergedError`` stops training at the first NaN/inf loss; ``StopIteration`` from a callback stops it
        cleanly after that epoch. ``KeyboardInterrupt`` leaves the history as it was after the last finished epoch.
        """
        cfg = self.config
        choice = ThreadChoice.for_trainer(
            self.net, self.x_train, self.t_train, cfg.batch_size, cfg, resumed=self.epoch > 0
        )
        self.thread_choice = choice
        setting = None if choice is None else choice.choose(self.epoch)
        if (
            choice is not None
            and setting is not None
            and self.epoch == 0
            and (cfg.thread_choice == "fastest" or choice.left_the_rules_bits)
        ):
            cfg.blas_threads, cfg.zerograd_threads = setting.blas, setting.zerograd  # recorded: --resume keeps it
        rule = cfg.blas_threads or blas_threads_for(self.net.params.values(), cfg.batch_size)
        while self.epoch < cfg.epochs:
            recorded = len(self.history.loss)
            try:
                with blas_threads(rule) if setting is None else setting.applied():
                    self.train_epoch(progress)
            except BaseException:
                del self.history.loss[recorded:]  # the unfinished epoch is not part of the record
                raise
            if choice is not None:
                setting = choice.after_epoch(self.epoch, self.history.seconds[-1] / self.history.iterations_per_epoch)
            try:
                for callback in self.callbacks:
                    callback(self)
            except StopIteration:
                break
        return self.history

    def train_epoch(self, progress: Any = None) -> None:
        """One epoch: ``ceil(N / batch_size)`` updates, then the accuracies. Appends to ``self.history``."""
        net, optimizer, cfg = self.net, self.optimizer, self.config
        x, t, n = self.x_train, self.t_train, len(self.x_train)
        batch = cfg.batch_size
        iterations = self.history.iterations_per_epoch
        if cfg.sampling == "epoch":
            order = self.rng.permutation(n)  # one permutation per epoch: batches are index slices of it
        losses = self.history.loss
        first = len(losses)
        loss_of = _loss_reader(net)
        predictions_of, labels = self._read_predictions, self._labels
        correct = 0
        report_every = max(1, iterations // 100)
        start = time.perf_counter()
        # NaN/inf is detected from the loss below; NumPy's overflow warnings on the way would only be noise
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for i in range(iterations):
                if cfg.sampling == "epoch":
                    idx = order[i * batch : (i + 1) * batch]  # the last batch may be short: it is used, not dropped
                else:
                    idx = self.rng.choice(n, batch)  # the book's draw: with replacement
                x_batch, t_batch = x[idx], t[idx]
                grads = net.gradient(x_batch, t_batch)
                loss = loss_of(x_batch, t_batch)
                if not math.isfinite(loss):
                    raise DivergedError(first + i + 1, self.epoch + 1, loss, getattr(optimizer, "lr", float("nan")))
                losses.append(loss)
                if predictions_of is not None:
                    # NOTE: the running accuracy: the predictions of the forward pass this step made anyway, before
                    # its update, in training mode (dropout on) — a few microseconds, where a pass over the
                    # training set after the epoch costs a third of the epoch's own work
                    batch_labels = t_batch if labels is t else labels[idx]  # one-hot t: its argmax, taken once
                    correct += int(np.count_nonzero(predictions_of() == batch_labels))
                optimizer.update(net.params, grads)
                if progress is not None and (i + 1) % report_every == 0:
                    progress.update(report_every)
        seconds = time.perf_counter() - start
        if progress is not None and iterations % report_every:
            progress.update(iterations % report_every)
        for param in net.params.values():  # the last update can overflow although its loss was finite
            if not np.all(np.isfinite(param)):
                raise DivergedError(
                    first + iterations, self.epoch + 1, float("nan"), getattr(optimizer, "lr", float("nan"))
                )
        self.epoch += 1
        self.history.epoch_loss.append(float(np.mean(losses[first:])))
        self.history.seconds.append(seconds)
        start = time.perf_counter()
        evaluating = self.epoch % cfg.eval_every == 0 or self.epoch >= cfg.epochs
        if predictions_of is not None:
            self.history.train_acc.append(correct / (iterations * batch if cfg.sampling == "book" else n))
        else:
            self.history.train_acc.append(self.evaluate_train() if evaluating else math.nan)
        if self.x_test is not None and self.t_test is not None:
            self.history.test_acc.append(self.evaluate(self.x_test, self.t_test) if evaluating else math.nan)
        self.eval_seconds.append(time.perf_counter() - start)

    def evaluate(self, x: NDArray, t: NDArray) -> float:
        """Accuracy of the net on ``x``, ``t``, computed in batches of ``config.eval_batch_size`` (zerograd's nets
        run their inference walk, which keeps nothing for backward)."""
        return float(self.net.accuracy(x, t, batch_size=self.config.eval_batch_size))

    def evaluate_train(self) -> float:
        limit = self.config.eval_train_samples
        x, t = (self.x_train, self.t_train) if limit is None else (self.x_train[:limit], self.t_train[:limit])
        return self.evaluate(x, t)

    # -- saving and restoring ----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything besides the net's parameters that decides the rest of the run (JSON-able but the arrays
        of the optimizer state)."""
        return {
            "epoch": self.epoch,
            "rng_state": self.rng.bit_generator.state,
            "optimizer": self.optimizer.state_dict(),
            "history": self.history.to_dict(),
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.rng.bit_generator.state = state["rng_state"]
        self.optimizer.load_state_dict(state["optimizer"])
        self.history = History.from_dict(state["history"])
        expected = math.ceil(len(self.x_train) / self.config.batch_size)
        if self.history.iterations_per_epoch != expected:
            raise ValueError(
                f"the saved run had {self.history.iterations_per_epoch} iterations per epoch, this one would have "
                f"{expected}: resume on the same training set with the same batch size"
            )

    def save_checkpoint(self, path: Any, metadata: dict[str, Any] | None = None) -> None:
        """Write net, optimizer, epoch, random state and history to ``path`` (see ``zerograd.checkpoint``)."""
        from .checkpoint import save

        save(
            path,
            self.net,
            optimizer=self.optimizer,
            epoch=self.epoch,
            rng_state=dict(self.rng.bit_generator.state),
            history=self.history.to_dict(),
            train_config=self.config.to_dict(),
            metadata=metadata,
        )

    @classmethod
    def from_checkpoint(
        cls,
        path: Any,
        x_train: NDArray,
        t_train: NDArray,
        x_test: NDArray | None = None,
        t_test: NDArray | None = None,
        callbacks: Sequence[Callback] = (),
        **config_changes: Any,
    ) -> Trainer:
        """A trainer that continues the run saved at ``path`` (or in a ``Checkpoint`` already loaded);
        ``config_changes`` may raise ``epochs``."""
        from .checkpoint import Checkpoint, load

        ckpt = path if isinstance(path, Checkpoint) else load(path)
        if ckpt.optimizer is None or ckpt.train_config is None or ckpt.rng_state is None:
            raise ValueError(f"{path}: this checkpoint holds a net only, not a training run to resume")
        config = TrainConfig.from_dict({**ckpt.train_config, **config_changes})
        trainer = cls(ckpt.net, config, x_train, t_train, x_test, t_test, optimizer=ckpt.optimizer, callbacks=callbacks)
        trainer.load_state_dict(
            {
                "epoch": ckpt.epoch,
                "rng_state": ckpt.rng_state,
                "optimizer": ckpt.optimizer.state_dict(),
                "history": ckpt.history,
                "config": ckpt.train_config,
            }
        )
        return trainer


def _loss_reader(net: Any) -> Callable[[NDArray, NDArray], float]:
    """How to read the batch's loss after ``net.gradient``: the chapter's nets keep it in their last layer
    (``SoftmaxWithLoss.loss``), so no second forward pass is needed; any other net is asked ``net.loss``."""
    last = getattr(net, "last_layer", None) or getattr(net, "lastLayer", None)
    if last is not None and hasattr(last, "loss") and not callable(last.loss):
        # NOTE: this is the cross-entropy alone; a weight-decay penalty is not part of the recorded loss
        return lambda x, t: float(last.loss)
    return lambda x, t: float(net.loss(x, t))


def train_accuracy_source(config: TrainConfig, n_train: int | None = None, running: bool = True) -> str:
    """What ``history.train_acc`` measures under ``config``, in a few words: ``running``, ``first 1000``, ``all``
    (``all 60000`` when ``n_train`` is given). running: False when the net keeps no softmax to read, so a
    "running" config is evaluated on every training sample instead."""
    if config.train_accuracy == "running" and running:
        return "running"
    limit = config.eval_train_samples
    if limit is None or (n_train is not None and limit >= n_train):
        return "all" if n_train is None else f"all {n_train}"
    return f"first {limit}"


def _predictions_reader(net: Any) -> Callable[[], NDArray] | None:
    """How to read the predicted classes ``(N,)`` of the last training step's forward pass: the chapter's loss
    layer keeps its softmax ``y: (N, C)``; None for a net that keeps none (its accuracy is then evaluated)."""
    last = getattr(net, "last_layer", None) or getattr(net, "lastLayer", None)
    if last is None or not hasattr(last, "y"):
        return None
    return lambda: np.argmax(last.y, axis=1)


def _check_split(name: str, x: Any, t: Any) -> tuple[NDArray, NDArray]:
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim < 2:
        raise ValueError(f"Trainer: x_{name} must be (N, D) or (N, ...), got shape {x.shape!r}")
    if len(x) != len(t):
        raise ValueError(f"Trainer: x_{name} has {len(x)} samples but t_{name} has {len(t)} labels")
    if len(x) == 0:
        raise ValueError(f"Trainer: the {name} set is empty")
    return x, t
