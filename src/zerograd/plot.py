"""Figures of a training run, drawn like the book's: loss and accuracy curves, and a confusion matrix.

Each function takes recorded numbers and returns a ``matplotlib.figure.Figure`` (no pyplot, no display: the
figure renders with the Agg backend wherever it runs); ``save_figure`` writes it atomically. matplotlib is
imported when a figure is drawn, not when zerograd is imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .io.fileio import atomic_open

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_confusion", "plot_curves", "save_figure"]


def plot_curves(history: Any, title: str | None = None) -> Figure:
    """Loss (every iteration, and its per-epoch mean) and train/test accuracy against the epoch.

    history: a ``zerograd.train.History`` or its ``to_dict()`` (``loss``, ``epoch_loss``, ``train_acc``,
    ``test_acc``, ``iterations_per_epoch``).
    """
    from matplotlib.figure import Figure

    h = history if isinstance(history, dict) else history.to_dict()
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)

    per_epoch = max(int(h.get("iterations_per_epoch") or 0), 1)
    loss = np.asarray(h.get("loss", []), dtype=float)
    if loss.size:
        ax_loss.plot(np.arange(1, loss.size + 1) / per_epoch, loss, lw=0.5, alpha=0.4, label="per iteration")
    epoch_loss = h.get("epoch_loss", [])
    if epoch_loss:
        ax_loss.plot(np.arange(1, len(epoch_loss) + 1), epoch_loss, "o-", label="epoch mean")
    ax_loss.set(xlabel="epochs", ylabel="loss", title="training loss")
    _legend(ax_loss)

    for name, marker, label in (("train_acc", "o", "train"), ("test_acc", "s", "test")):
        acc = h.get(name, [])
        if acc:
            ax_acc.plot(np.arange(1, len(acc) + 1), acc, marker=marker, markevery=max(len(acc) // 20, 1), label=label)
    ax_acc.set(xlabel="epochs", ylabel="accuracy", title="accuracy", ylim=(0, 1.0))
    _legend(ax_acc, loc="lower right")
    if title:
        fig.suptitle(title)
    return fig


def _legend(ax: Any, **options: Any) -> None:
    # NOTE: matplotlib warns ("No artists with labels found") for a legend of nothing: a run with no finished epoch
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)


def plot_confusion(confusion: ArrayLike, classes: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """A confusion matrix: rows are true classes, columns predicted ones; each cell shows its count.

    confusion: ``(C, C)`` integer counts; classes: ``C`` names (default ``0 … C-1``).
    """
    from matplotlib.figure import Figure

    cm = np.asarray(confusion)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion: expected a square (C, C) matrix, got shape {cm.shape!r}")
    n = cm.shape[0]
    names = [str(c) for c in (classes if classes is not None else range(n))]
    if len(names) != n:
        raise ValueError(f"plot_confusion: {n} classes in the matrix but {len(names)} names")
    fig = Figure(figsize=(1.0 + 0.6 * n, 0.6 + 0.6 * n), layout="constrained")
    ax = fig.subplots()
    # row-normalised colours, so a rare class's errors show as clearly as a common one's
    rows = cm.sum(axis=1, keepdims=True)
    image = ax.imshow(cm / np.maximum(rows, 1), cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            share = cm[i, j] / max(rows[i, 0], 1)
            ax.text(
                j,
                i,
                str(int(cm[i, j])),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if share > 0.5 else "black",
            )
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    return fig


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (``zerograd.io.fileio``), creating its folder if needed."""
    path = Path(path)
    with atomic_open(path, "wb", make_dirs=True) as f:
        fig.savefig(f, format="png", dpi=dpi)
    return path
