"""Chapter 6's comparisons, on real data: update rules, initial weights, batch normalization, overfitting.

Each ``compare_*`` function trains small nets the way the book's chapter-6 script does (the book's sizes unless
its arguments say otherwise), returns the curves it recorded, and ``figure(result)`` draws them as the book's
figure does. All randomness comes from ``seed``: a run is repeatable. The nets take the data's dtype (float32 from
``zerograd.datasets``: twice as fast as the book's float64, with the same curves).

| function | the book's script | figure |
|---|---|---|
| ``compare_optimizers`` | ``ch06/optimizer_compare_mnist.py`` | 6-9 |
| ``compare_init`` | ``ch06/weight_init_compare.py`` | 6-15 |
| ``compare_batchnorm`` | ``ch06/batch_norm_test.py`` | 6-18, 6-19 |
| ``compare_overfit`` | ``ch06/overfit_weight_decay.py``, ``ch06/overfit_dropout.py`` | 6-20 to 6-23 |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .engine.threads import blas_threads
from .optim import make_optimizer
from .run import RunSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "EXPERIMENTS",
    "Comparison",
    "compare_batchnorm",
    "compare_init",
    "compare_optimizers",
    "compare_overfit",
    "figure",
]


@dataclass
class Comparison:
    """What one experiment recorded: per panel (one for most experiments, one per weight scale for batch norm),
    per labelled run, a curve against ``x_label``."""

    name: str
    title: str
    x_label: str
    y_label: str
    panels: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    smooth: bool = False  # loss curves are noisy: the figure smooths them as the book's smooth_curve does

    def final(self, panel: str | None = None) -> dict[str, float]:
        """The last value of each curve of ``panel`` (the only one by default)."""
        curves = self.panels[panel] if panel is not None else next(iter(self.panels.values()))
        return {label: values[-1] for label, values in curves.items()}


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> Callable[[], NDArray]:
    """The book's draw: ``batch_size`` indices with replacement, every call."""
    return lambda: rng.choice(n, batch_size)


def _net(x: NDArray, t: NDArray, hidden: int, seed: int, **options: Any) -> Any:
    """A ReLU MultiLayerNet of ``hidden`` layers of 100 for this data, its weights drawn from ``seed`` (as the book
    seeds the global generator once), through the one place options become a net."""
    spec = RunSpec(net="multilayer", hidden=(100,) * hidden, dtype=x.dtype.name, init_seed=(seed,), **options)
    return spec.build_net(x.shape[1:], int(t.max()) + 1)


def compare_optimizers(
    x: NDArray,
    t: NDArray,
    iterations: int = 2000,
    batch_size: int = 128,
    seed: int = 0,
    optimizers: Sequence[str] = ("sgd", "momentum", "adagrad", "adam"),
) -> Comparison:
    """SGD, Momentum, AdaGrad and Adam (the book's default learning rates) on the same ``[100]*4`` ReLU net:
    the training loss of every iteration. Shape: x ``(N, D)``, t ``(N,)``."""
    result = Comparison(
        "optimizers", "update rules on the same net (book figure 6-9)", "iterations", "loss", smooth=True
    )
    curves: dict[str, list[float]] = {}
    for name in optimizers:
        net = _net(x, t, 4, seed, init="he")
        curves[name] = _train_loss(net, make_optimizer(name), x, t, iterations, batch_size, seed)
    result.panels["loss"] = curves
    return result


def compare_init(x: NDArray, t: NDArray, iterations: int = 2000, batch_size: int = 128, seed: int = 0) -> Comparison:
    """Initial weights std 0.01, Xavier and He on a ``[100]*4`` ReLU net, SGD lr 0.01: the training loss."""
    result = Comparison(
        "init", "initial weight scales, ReLU net, SGD (book figure 6-15)", "iterations", "loss", smooth=True
    )
    curves: dict[str, list[float]] = {}
    for label, init in (("std=0.01", 0.01), ("Xavier", "xavier"), ("He", "he")):
        net = _net(x, t, 4, seed, init=init)
        curves[label] = _train_loss(net, make_optimizer("sgd", lr=0.01), x, t, iterations, batch_size, seed)
    result.panels["loss"] = curves
    return result


def compare_batchnorm(
    x: NDArray,
    t: NDArray,
    scales: Sequence[float] = tuple(np.logspace(0, -4, num=16)),
    epochs: int = 20,
    train_size: int = 1000,
    batch_size: int = 100,
    lr: float = 0.01,
    seed: int = 0,
) -> Comparison:
    """With and without batch normalization, ``[100]*5`` nets at each initial weight scale, SGD: the training
    accuracy after each epoch on ``train_size`` samples (book figures 6-18 and 6-19)."""
    result = Comparison(
        "batchnorm",
        "batch normalization against none, per initial weight std (figure 6-18)",
        "epochs",
        "training accuracy",
    )
    x, t = x[:train_size], t[:train_size]
    per_epoch = max(len(x) // batch_size, 1)
    for scale in scales:
        curves: dict[str, list[float]] = {}
        for label, use_batchnorm in (("batch norm", True), ("none", False)):
            net = _net(x, t, 5, seed, init=float(scale), batchnorm=use_batchnorm)
            optimizer, draw = make_optimizer("sgd", lr=lr), _batches(len(x), batch_size, np.random.default_rng(seed))
            accuracy = []
            with blas_threads(1), np.errstate(all="ignore"):  # an unnormalised net at std 1 overflows, as the book's
                for _ in range(epochs):
                    for _ in range(per_epoch):
                        idx = draw()
                        optimizer.update(net.params, net.gradient(x[idx], t[idx]))
                    accuracy.append(net.accuracy(x, t))
            curves[label] = accuracy
        result.panels[f"W std {scale:.2g}"] = curves
    return result


def compare_overfit(
    x: NDArray,
    t: NDArray,
    x_test: NDArray,
    t_test: NDArray,
    epochs: int = 201,
    train_size: int = 300,
    test_size: int = 2000,
    weight_decay: float = 0.1,
    dropout: float = 0.2,
    seed: int = 0,
) -> Comparison:
    """A ``[100]*6`` net on ``train_size`` samples, plain, with weight decay, with dropout: training and test
    accuracy after each epoch (book figures 6-20 to 6-23), SGD lr 0.01, batches of 100.

    The test accuracy is taken on the first ``test_size`` test samples (the book: all 10,000): 600 evaluations of
    the whole test set would cost more than the training itself, and 2,000 samples pin the accuracy to ±1 %.
    """
    result = Comparison(
        "overfit", f"overfitting {train_size} samples, and two remedies (figures 6-20 to 6-23)", "epochs", "accuracy"
    )
    x, t = x[:train_size], t[:train_size]
    x_test, t_test = x_test[:test_size], t_test[:test_size]
    runs: tuple[tuple[str, dict[str, float]], ...] = (
        ("no regularisation", {}),
        (f"weight decay λ={weight_decay:g}", {"weight_decay": weight_decay}),
        (f"dropout {dropout:g}", {"dropout": dropout}),
    )
    for label, options in runs:
        net = _net(x, t, 6, seed, init="he", **options)  # He: MultiLayerNetExtend's default, as the book's
        optimizer, draw = make_optimizer("sgd", lr=0.01), _batches(len(x), 100, np.random.default_rng(seed))
        train_acc, test_acc = [], []
        with blas_threads(1):
            for _ in range(epochs):
                for _ in range(max(len(x) // 100, 1)):
                    idx = draw()
                    optimizer.update(net.params, net.gradient(x[idx], t[idx]))
                train_acc.append(net.accuracy(x, t))
                test_acc.append(net.accuracy(x_test, t_test))
        result.panels[label] = {"train": train_acc, "test": test_acc}
    return result


def _train_loss(
    net: Any, optimizer: Any, x: NDArray, t: NDArray, iterations: int, batch_size: int, seed: int
) -> list[float]:
    draw = _batches(len(x), batch_size, np.random.default_rng(seed))  # the same batches for every contender
    losses = []
    with blas_threads(1):
        for _ in range(iterations):
            idx = draw()
            grads = net.gradient(x[idx], t[idx])
            losses.append(float(net.last_layer.loss))
            optimizer.update(net.params, grads)
    return losses


EXPERIMENTS = ("optimizers", "init", "batchnorm", "overfit")


def figure(result: Comparison, dataset: str = "") -> Figure:
    """The comparison drawn as the book draws it: one panel per entry of ``result.panels``, with a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .book.util import smooth_curve

    n = len(result.panels)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols + 1, 3.0 * rows + 0.8), squeeze=False, sharey=True)
    for ax, (panel, curves) in zip(axes.flat, result.panels.items(), strict=False):
        for label, values in curves.items():
            y = smooth_curve(values) if result.smooth and len(values) > 11 else values
            style = "--" if label in ("none", "test") else "-"
            ax.plot(np.arange(1, len(y) + 1), y, style, label=label, linewidth=1.4)
        if n > 1:
            ax.set_title(panel, fontsize=10)
        ax.set_xlabel(result.x_label)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(result.y_label)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if result.smooth:
        axes[0, 0].set_ylim(0, max(1.0, min(2.5, axes[0, 0].get_ylim()[1])))
    else:
        axes[0, 0].set_ylim(0, 1.0)
    axes[0, 0].legend(loc="best", fontsize=9)
    fig.suptitle(result.title + (f" — {dataset}" if dataset else ""), fontsize=11)
    fig.tight_layout()
    return fig
