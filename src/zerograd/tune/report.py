"""What a study found, for people: the trials as records, a table of the best, the best configuration as a
``zerograd train`` command, ``trials.csv``, and the book's figures (``tune-curves.png``, ``tune-space.png``).

Everything here reads records (``TrialRecord``), not Optuna objects, except ``records_of``, which makes them.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..io.fileio import write_text
from .config import HYPERPARAMETERS, TuneConfig
from .space import describe

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "TrialRecord",
    "best_table",
    "plot_best_curves",
    "plot_space",
    "records_of",
    "train_command",
    "write_trials_csv",
]


@dataclass
class TrialRecord:
    """One trial. value: the last epoch's validation accuracy (a pruned trial's last reported one; None when it
    reported none). val_acc / train_acc: per epoch. values: every hyperparameter, searched or fixed."""

    number: int
    state: str  # COMPLETE, PRUNED, RUNNING, WAITING or FAIL
    value: float | None
    val_acc: list[float]
    train_acc: list[float]
    values: dict[str, Any]
    seconds: float | None = None
    worker: str = ""
    seed_key: int = 0
    retry_of: int | None = None
    note: str = ""  # "diverged at epoch 3", "surplus", ...
    searched: tuple[str, ...] = field(default=())

    @property
    def epochs(self) -> int:
        return len(self.val_acc)


def records_of(study: Any, config: TuneConfig) -> list[TrialRecord]:
    """The study's trials as records, in trial order."""
    searched = tuple(config.searched())
    fixed = {name: getattr(config, name) for name in HYPERPARAMETERS}
    if isinstance(fixed["hidden"], tuple):
        fixed["hidden"] = ",".join(map(str, fixed["hidden"]))
    records = []
    for t in study.get_trials(deepcopy=False):
        val = [float(t.intermediate_values[k]) for k in sorted(t.intermediate_values)]
        value = t.value if t.state.name == "COMPLETE" else (val[-1] if val else None)
        note = (
            ("diverged at " + t.user_attrs["diverged"])
            if "diverged" in t.user_attrs
            else ("surplus" if t.user_attrs.get("surplus") else "")
        )
        records.append(
            TrialRecord(
                number=t.number,
                state=t.state.name,
                value=None if value is None else float(value),
                val_acc=val,
                train_acc=[float(a) for a in t.user_attrs.get("train_acc", [])],
                values={**fixed, **t.params},
                seconds=t.user_attrs.get("seconds"),
                worker=t.user_attrs.get("worker", ""),
                seed_key=int(t.user_attrs.get("seed_key", t.number)),
                retry_of=t.system_attrs.get("failed_trial"),
                note=note,
                searched=searched,
            )
        )
    return records


def ranked(records: Sequence[TrialRecord]) -> list[TrialRecord]:
    """Completed trials, best validation accuracy first (ties: the earlier trial)."""
    done = [r for r in records if r.state == "COMPLETE" and r.value is not None]
    return sorted(done, key=lambda r: (-(r.value or 0.0), r.number))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def best_table(records: Sequence[TrialRecord], top: int = 10) -> str:
    """A plain-text table of the ``top`` best completed trials: rank, trial, validation accuracy, epochs, the
    searched values."""
    best = ranked(records)[:top]
    if not best:
        return "no completed trials yet"
    names = list(best[0].searched)
    header = ["rank", "trial", "val acc", "epochs", *names]
    rows = [
        [str(i + 1), str(r.number), f"{r.value:.4f}", str(r.epochs), *(_fmt(r.values[n]) for n in names)]
        for i, r in enumerate(best)
    ]
    widths = [max(len(h), *(len(row[j]) for row in rows)) for j, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def train_command(config: TuneConfig, record: TrialRecord) -> str:
    """The ``zerograd train ...`` command that trains ``record``'s configuration on the whole training set."""
    v = record.values
    args = ["zerograd", "train", "--dataset", config.dataset]
    if config.root:
        args += ["--root", config.root]
    init = v["init"]
    args += [
        "--hidden",
        str(v["hidden"]),
        "--activation",
        config.activation,
        "--init",
        init if isinstance(init, str) else f"{float(init):.4g}",
        "--optimizer",
        str(v["optimizer"]),
        "--lr",
        f"{float(v['lr']):.4g}",
        "--weight-decay",
        f"{float(v['weight_decay']):.4g}",
        "--batch-size",
        str(v["batch_size"]),
        "--epochs",
        str(config.epochs),
        "--sampling",
        config.sampling,
        "--dtype",
        config.dtype,
    ]
    if float(v["dropout"]) > 0:
        args += ["--dropout", f"{float(v['dropout']):.4g}"]
    if config.batchnorm:
        args += ["--batchnorm"]
    return shlex.join(args)


CSV_COLUMNS = ("trial", "state", "val_acc", "epochs", *HYPERPARAMETERS, "seconds", "worker", "retry_of", "note")


def trials_csv(records: Sequence[TrialRecord]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(
            [
                r.number,
                r.state,
                "" if r.value is None else f"{r.value:.6f}",
                r.epochs,
                *(r.values[n] if not isinstance(r.values[n], float) else repr(r.values[n]) for n in HYPERPARAMETERS),
                "" if r.seconds is None else r.seconds,
                r.worker,
                "" if r.retry_of is None else r.retry_of,
                r.note,
            ]
        )
    return buf.getvalue()


def write_trials_csv(records: Sequence[TrialRecord], path: str | os.PathLike[str]) -> Path:
    """``trials.csv``: one row per trial (every state), written atomically."""
    return write_text(path, trials_csv(records), make_dirs=True)


def plot_best_curves(records: Sequence[TrialRecord], top: int = 20, columns: int = 5) -> Figure:
    """The book's figure: for the ``top`` best completed trials, best first, validation accuracy per epoch (solid)
    and training accuracy (dashed), five panels a row, y from 0 to 1."""
    from matplotlib.figure import Figure

    best = ranked(records)[:top]
    rows = max(1, math.ceil(len(best) / columns))
    # NOTE: a fixed layout; matplotlib's constrained layout took 2.5 s to place 20 panels
    fig = Figure(figsize=(2.4 * columns, 2.0 * rows + 0.6))
    axes = fig.subplots(rows, columns, squeeze=False)
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.08, top=1 - 0.55 / (2.0 * rows + 0.6), wspace=0.12, hspace=0.55)
    for i, ax in enumerate(axes.flat):
        if i >= len(best):
            ax.axis("off")
            continue
        r = best[i]
        epochs = range(1, r.epochs + 1)
        dots = dict(marker="o", markersize=3) if r.epochs <= 10 else {}  # a curve of a few epochs shows its points
        ax.plot(epochs, r.val_acc, color="C0", label="validation", **dots)
        if r.train_acc:
            ax.plot(range(1, len(r.train_acc) + 1), r.train_acc, "--", color="C1", label="train", **dots)
        ax.set_ylim(0.0, 1.0)
        ax.set_title(f"Best-{i + 1} (val {r.value:.3f})", fontsize=9)
        ax.set_xlabel(", ".join(f"{n} {_fmt(r.values[n])}" for n in r.searched[:2]), fontsize=7)
        ax.tick_params(labelsize=7)
        if i % columns:
            ax.set_yticklabels([])
    if not best:
        axes.flat[0].text(0.5, 0.5, "no completed trials yet", ha="center", va="center")
    else:
        axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"the {len(best)} best trials: validation (solid) and training (dashed) accuracy per epoch")
    return fig


def plot_space(records: Sequence[TrialRecord], names: Sequence[str] = ("lr", "weight_decay")) -> Figure:
    """Validation accuracy against each of ``names`` on log axes: completed trials filled, pruned ones hollow
    (at their last reported accuracy)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0 * len(names), 4.0), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        shown = [r for r in records if r.value is not None and r.state in ("COMPLETE", "PRUNED")]
        xs = [float(r.values[name]) for r in shown]
        if not shown or not all(x > 0 for x in xs):
            fixed = describe(records[0].values[name]) if records else "?"
            ax.text(
                0.5,
                0.5,
                f"{name} = {fixed} in every trial" if records else "no trials yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set(xlabel=name, ylabel="validation accuracy")
            continue
        for state, style in (
            ("COMPLETE", dict(color="C0", label="completed")),
            ("PRUNED", dict(facecolors="none", edgecolors="C7", label="pruned (last epoch run)")),
        ):
            pts = [(float(r.values[name]), r.value) for r in shown if r.state == state]
            if pts:
                ax.scatter(*zip(*pts, strict=True), s=18, **style)
        ax.set_xscale("log")
        ax.set(xlabel=f"{name} (log scale)", ylabel="validation accuracy", ylim=(0.0, 1.0))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("validation accuracy against the searched values")
    return fig
