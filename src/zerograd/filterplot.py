"""Figure 7-24: the first convolution layer's filters as small grey images, before and after training.

``plot_filters(W)`` draws filters ``W: (FN, C, FH, FW)`` in a grid, one tile per filter (channel 0, or the mean
over channels when ``C > 1``); given a second array it draws both grids side by side with the same layout. Each
tile is scaled to its own minimum and maximum, as in the book's figure: it is the pattern that matters, not the
scale. White is large, black small. Returns a ``matplotlib.figure.Figure``; ``zerograd.plot.save_figure`` writes it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_filters"]


def _tiles(filters: ArrayLike) -> np.ndarray:
    """``(FN, FH, FW)`` images, each scaled to [0, 1]; ValueError unless ``filters`` is ``(FN, C, FH, FW)``."""
    w = np.asarray(filters, dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"plot_filters expects convolution filters (FN, C, FH, FW), got shape {w.shape!r}")
    images = w[:, 0] if w.shape[1] == 1 else w.mean(axis=1)
    low = images.min(axis=(1, 2), keepdims=True)
    span = images.max(axis=(1, 2), keepdims=True) - low
    return (images - low) / np.where(span > 0, span, 1.0)


def plot_filters(
    before: ArrayLike,
    after: ArrayLike | None = None,
    titles: tuple[str, str] = ("before", "after"),
    columns: int | None = None,
) -> Figure:
    """Filters ``(FN, C, FH, FW)`` as a grid of tiles; with ``after``, two grids side by side (figure 7-24)."""
    from matplotlib.figure import Figure

    panels = [_tiles(before)] + ([] if after is None else [_tiles(after)])
    if after is not None and panels[0].shape != panels[1].shape:
        raise ValueError(
            f"plot_filters: the two sets of filters differ in shape, {np.shape(before)!r} and {np.shape(after)!r}"
        )
    count = len(panels[0])
    cols = columns or min(count, 6 if count <= 36 else math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(1.0 * cols * len(panels) + 0.5 * (len(panels) - 1), 1.0 * rows + 0.4), layout="constrained")
    subfigs = fig.subfigures(1, len(panels), squeeze=False)[0]
    for subfig, tiles, title in zip(subfigs, panels, titles, strict=False):
        axes = subfig.subplots(rows, cols, squeeze=False)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k < count:
                ax.imshow(tiles[k], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        if len(panels) == 2:
            subfig.suptitle(title)
    return fig
