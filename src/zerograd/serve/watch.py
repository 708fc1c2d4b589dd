"""Watching a run of ``zerograd train`` from its folder (``zerograd serve --watch RUN_DIR``): its ``metrics.csv``
epoch by epoch and its first layer's weights, from the ``checkpoint.npz`` written after each epoch, as images.

Only the folder named on the command line is read, and only those two files in it; a request chooses nothing.
Both files are written atomically by the run (``zerograd.io.fileio``), so a read never sees half a file. The
checkpoint is read again only when its modification time changes.

    watcher = RunWatcher("runs/train")
    watcher.snapshot()  # {"folder": ..., "epochs": [{"epoch": 1, "loss": ..., ...}], "weights": {...} | None}
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoint import CheckpointError, load
from ..run import CHECKPOINT, METRICS

__all__ = ["MAX_METRICS_BYTES", "MAX_TILES", "RunWatcher", "WatchError", "first_layer_images"]

MAX_METRICS_BYTES = 1 << 20  # a run's metrics.csv is ~50 bytes an epoch
MAX_TILES = 64  # weight images shown: the first 64 hidden units or filters


class WatchError(ValueError):
    """The folder to watch is missing or is not a folder; the message is one line."""


class RunWatcher:
    """The state of the run in ``folder``, read fresh at each ``snapshot()``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            what = "not a folder" if self.folder.exists() else "no such folder"
            raise WatchError(f"--watch {folder}: {what} (give the --out folder of a zerograd train run)")
        self._lock = threading.Lock()
        self._checkpoint_mtime: int | None = None
        self._weights: dict[str, Any] | None = None
        self._checkpoint_epoch: int | None = None
        self._total: int | None = None  # the run's planned epochs, from its checkpoint's settings
        self._error = ""

    def snapshot(self) -> dict[str, Any]:
        """``folder``, ``epochs`` (metrics.csv's rows), ``total_epochs``, ``checkpoint_epoch``, ``weights`` (see
        ``first_layer_images``) and ``error`` (why the checkpoint could not be read, or "")."""
        with self._lock:
            self._read_checkpoint()
            return {
                "folder": str(self.folder),
                "epochs": self._read_metrics(),
                "total_epochs": self._total,
                "checkpoint_epoch": self._checkpoint_epoch,
                "weights": self._weights,
                "error": self._error,
            }

    def _read_metrics(self) -> list[dict[str, float | None]]:
        path = self.folder / METRICS
        try:
            if path.stat().st_size > MAX_METRICS_BYTES:
                return []
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        rows: list[dict[str, float | None]] = []
        header = lines[0].split(",") if lines else []
        for line in lines[1:]:
            cells = line.split(",")
            if len(cells) != len(header):
                continue
            row = {name: _number(cell) for name, cell in zip(header, cells, strict=True)}
            if row.get("epoch") is not None and row.get("loss") is not None:
                rows.append({**row, "epoch": int(row["epoch"] or 0)})
        return rows

    def _read_checkpoint(self) -> None:
        path = self.folder / CHECKPOINT
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return
        if mtime == self._checkpoint_mtime:
            return
        self._checkpoint_mtime = mtime
        try:
            saved = load(path)
        except CheckpointError as err:
            self._error = str(err).splitlines()[0]
            return
        self._error = ""
        self._checkpoint_epoch = saved.epoch
        config = saved.train_config or {}
        self._total = int(config["epochs"]) if isinstance(config.get("epochs"), int) else None
        self._weights = first_layer_images(saved.net)


def first_layer_images(net: Any) -> dict[str, Any] | None:
    """The first layer's weights as grey images in [0, 1] (0.5 is zero; each image scaled by its own largest
    magnitude): ``{"kind": "filters" | "tiles", "parameter": "W1", "shape": [...], "images": [[[...]]]}``.

    A conv net's first filters (FN, C, FH, FW): one FH×FW image per filter (the mean over the channels). An MLP's
    first weights (D, H) with D a square (784): one √D×√D tile per hidden unit. Other nets: None.
    """
    params = getattr(net, "params", {})
    for name, w in params.items():
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 4:
            images = w[:MAX_TILES].mean(axis=1)  # (FN, FH, FW)
            return _scaled("filters", name, w.shape, images)
        if w.ndim == 2:
            side = math.isqrt(w.shape[0])
            if side * side != w.shape[0]:
                return None
            images = w[:, :MAX_TILES].T.reshape(-1, side, side)  # column j: the weights into hidden unit j
            return _scaled("tiles", name, w.shape, images)
    return None


def _scaled(kind: str, name: str, shape: tuple[int, ...], images: np.ndarray) -> dict[str, Any]:
    # NOTE: each image by its own largest |w|: a unit with small weights still shows its pattern
    peak = np.abs(images).reshape(len(images), -1).max(axis=1).reshape(-1, 1, 1)
    grey = 0.5 + 0.5 * images / np.where(peak > 0, peak, 1.0)
    return {"kind": kind, "parameter": name, "shape": list(shape), "images": np.round(grey, 3).tolist()}


def _number(cell: str) -> float | None:
    try:
        x = float(cell)
    except ValueError:
        return None
    return x if math.isfinite(x) else None
