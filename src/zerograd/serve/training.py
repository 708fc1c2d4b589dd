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

__all__ = ["DATASETS", "LIMITS", "OPTIMIZERS", "TrainingBusyError", "TrainingManager", "TrainingRun",
           "TrainInputError", "TrainSettings"]

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
            return self.events[max(0, since):]

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
        from ..datasets import load_dataset
        from ..nets import TwoLayerNet
        from ..train import TrainConfig, Trainer

        s = self.settings
        started = time.perf_counter()
        # download=False: a request never makes the server fetch anything; MNIST falls back to the bundled sample
        ds = load_dataset(s.dataset, dtype=np.float32, download=False, progress=False)
        net = TwoLayerNet(ds.x_train.shape[1], s.hidden, int(ds.t_train.max()) + 1, rng=s.seed, dtype=np.float32)
        config = TrainConfig(epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, optimizer=s.optimizer, seed=s.seed,
                             eval_train_samples=10_000)
        run = self

        class Progress:
            """Told every few iterations by ``Trainer``: record the mean loss since the last report."""

            def __init__(self) -> None:
                self.reported = 0
                self.every = 0  # iterations between two recorded points: about 25 points per epoch


            def update(self, n: int) -> None:
                if run.stop_requested:
                    raise _StopRequestedError
                losses = trainer.history.loss
                self.every = self.every or max(1, trainer.history.iterations_per_epoch // 25)
                if len(losses) - self.reported >= self.every:
                    run._emit("progress", iteration=len(losses),
                              epoch=len(losses) / trainer.history.iterations_per_epoch,
                              loss=float(np.mean(losses[self.reported:])))
                    self.reported = len(losses)

        def on_epoch(t: Trainer) -> None:
            h = t.history
            run._emit("epoch", epoch=t.epoch, epochs=s.epochs, loss=h.epoch_loss[-1], train_acc=h.train_acc[-1],
                      test_acc=h.test_acc[-1] if h.test_acc else None, seconds=h.seconds[-1])

        trainer = Trainer(net, config, ds.x_train, ds.t_train, ds.x_test, ds.t_test, callbacks=[on_epoch])
        self._emit("start", settings=asdict(s), dataset=getattr(ds, "name", s.dataset),
                   train_size=len(ds.x_train), test_size=len(ds.x_test),
                   iterations_per_epoch=trainer.history.iterations_per_epoch)
        trainer.fit(progress=Progress())
        self._emit("done", seconds=time.perf_counter() - started, test_acc=trainer.history.test_acc[-1])


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
