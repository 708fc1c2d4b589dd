"""A small training run in a background thread, recording events a page can stream while it runs.

``TrainingManager.start(settings)`` starts one run at a time (a second start while one runs is refused). The run
is the library's own ``Trainer``; its progress hook records the loss every few iterations and its epoch callback
the epoch's loss and accuracies. ``run.events`` is an append-only list of JSON-able dicts, each with its position
``id``, so a client that reconnects asks for what it has not seen (``events_since``).

Settings arrive from the web and are checked here: a dataset *name* from a fixed list (never a path; loaded from
local copies only, never downloaded by a request), and bounded sizes, so one request cannot start an hour of work.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..run import Built, RunCallback, RunSpec
from ..train import Trainer

__all__ = [
    "DATASETS",
    "LIMITS",
    "OPTIMIZERS",
    "TrainingBusyError",
    "TrainingManager",
    "TrainingRun",
    "TrainInputError",
    "TrainSettings",
]

DATASETS = ("mnist-sample", "mnist", "fashion-mnist")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
LIMITS = {"epochs": (1, 50), "hidden": (1, 512), "batch_size": (1, 1000), "seed": (0, 2**31 - 1)}
MAX_LR = 10.0


class TrainInputError(ValueError):
    """A training setting out of range or of the wrong type; the message is one line."""


class TrainingBusyError(RuntimeError):
    """A run is already going; stop it first."""


@dataclass(frozen=True)
class TrainSettings:
    """What the page may choose. Defaults: the chapter's net and SGD on the bundled sample (about 3 s)."""

    dataset: str = "mnist-sample"  # offline and bundled; "mnist"/"fashion-mnist" only from a local copy
    hidden: int = 50  # the chapter's TwoLayerNet(784, 50, 10)
    epochs: int = 20
    batch_size: int = 100
    lr: float = 0.1
    optimizer: str = "sgd"
    seed: int = 0

    @classmethod
    def from_json(cls, data: Any) -> TrainSettings:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise TrainInputError(f"the settings must be a JSON object, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrainInputError(f"unknown setting {str(unknown[0])[:40]!r}; the settings are {', '.join(known)}")
        values = {**asdict(cls()), **data}
        for name, (low, high) in LIMITS.items():
            v = values[name]
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise TrainInputError(f"{name} must be an integer from {low} to {high}, got {v!r}")
        lr = values["lr"]
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= MAX_LR:
            raise TrainInputError(f"lr must be a number in (0, {MAX_LR:g}], got {lr!r}")
        for name, allowed in (("dataset", DATASETS), ("optimizer", OPTIMIZERS)):
            if values[name] not in allowed:
                raise TrainInputError(f"{name} must be one of {', '.join(allowed)}, got {str(values[name])[:40]!r}")
        return cls(**{**values, "lr": float(lr)})

    def spec(self) -> RunSpec:
        """The run these settings describe: the chapter's TwoLayerNet, float32, local data only (MNIST falls back to
        the bundled sample), train accuracy on at most 10,000 samples so an epoch's evaluation stays short."""
        return RunSpec.from_dict(
            {
                **asdict(self),
                "hidden": (self.hidden,),
                "net": "twolayer",
                "dtype": "float32",
                "download": False,
                "eval_train_samples": 10_000,
            }
        )


class _StopRequestedError(Exception):
    """Raised inside the training loop when the page asks the run to stop."""


class TrainingRun:
    """One run: its settings, its events, and whether it is still going (``finished``)."""

    def __init__(self, run_id: int, settings: TrainSettings) -> None:
        self.id = run_id
        self.settings = settings
        self.events: list[dict[str, Any]] = []
        self.finished = False
        self.stop_requested = False
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"zerograd-train-{run_id}", daemon=True)

    def events_since(self, since: int) -> list[dict[str, Any]]:
        with self._lock:
            return self.events[max(0, since) :]

    def _emit(self, kind: str, **fields: Any) -> None:
        with self._lock:
            self.events.append({"id": len(self.events), "type": kind, "run": self.id, **fields})

    def _run(self) -> None:
        try:
            self._train()
        except _StopRequestedError:
            self._emit("stopped", message="stopped on request")
        except Exception as err:  # noqa: BLE001 - reported to the page as one line, never raised into the server
            self._emit("error", message=f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
        finally:
            self.finished = True

    def _train(self) -> None:
        started = time.perf_counter()
        trainer = self.settings.spec().run(callbacks=[_Events(self)])
        self._emit("done", seconds=time.perf_counter() - started, test_acc=trainer.history.test_acc[-1])


class _Events(RunCallback):
    """The run's events for the page: ``start``, a ``progress`` point about 25 times an epoch (the mean loss since
    the last one), and ``epoch`` with its loss and accuracies. A stop request ends the run at the next point."""

    def __init__(self, run: TrainingRun) -> None:
        self.run = run
        self.reported = 0  # iterations already averaged into a progress point
        self.every = 1

    def on_start(self, built: Built) -> None:
        iterations = built.trainer.history.iterations_per_epoch
        self.every = max(1, iterations // 25)
        self.run._emit(
            "start",
            settings=asdict(self.run.settings),
            dataset=getattr(built.data, "name", "?"),
            source=getattr(built.data, "source", ""),
            train_size=len(built.data.x_train),
            test_size=len(built.data.x_test),
            iterations_per_epoch=iterations,
        )

    def on_batches(self, trainer: Trainer, n: int) -> None:
        if self.run.stop_requested:
            raise _StopRequestedError
        losses = trainer.history.loss
        if len(losses) - self.reported >= self.every:
            self.run._emit(
                "progress",
                iteration=len(losses),
                epoch=len(losses) / trainer.history.iterations_per_epoch,
                loss=float(np.mean(losses[self.reported :])),
            )
            self.reported = len(losses)

    def on_epoch(self, trainer: Trainer) -> None:
        h = trainer.history
        self.run._emit(
            "epoch",
            epoch=trainer.epoch,
            epochs=trainer.config.epochs,
            loss=h.epoch_loss[-1],
            train_acc=h.train_acc[-1],
            test_acc=h.test_acc[-1] if h.test_acc else None,
            seconds=h.seconds[-1],
        )


class TrainingManager:
    """At most one run at a time; the last run stays readable after it ends."""

    def __init__(self) -> None:
        self.current: TrainingRun | None = None
        self._lock = threading.Lock()
        self._next_id = 1

    def start(self, settings: TrainSettings) -> TrainingRun:
        with self._lock:
            if self.current is not None and not self.current.finished:
                raise TrainingBusyError(f"run {self.current.id} is still training; stop it first")
            run = TrainingRun(self._next_id, settings)
            self._next_id += 1
            self.current = run
        run.thread.start()
        return run

    def stop(self) -> TrainingRun | None:
        run = self.current
        if run is not None and not run.finished:
            run.stop_requested = True
        return run
