"""The book's ``common/util.py`` helpers: ``smooth_curve``, ``shuffle_dataset`` (chapter 6) and ``im2col``,
``col2im``, ``conv_output_size`` (chapter 7).

``im2col``/``col2im`` are written to be read, with one loop over the filter offsets, and give the book's layout.
``zerograd.convolution`` builds the same matrix (transposed, per sample) from a strided view without the loop.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["col2im", "conv_output_size", "im2col", "np", "shuffle_dataset", "smooth_curve"]


def smooth_curve(x: ArrayLike, window: int = 11) -> NDArray[np.float64]:
    """A loss curve smoothed for plotting: a Kaiser-window (beta 2) moving average, same length as ``x``.

    The ends are padded by reflecting the curve, so the first and last points are averages too.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"smooth_curve expects a 1-D curve, got shape {x.shape!r}")
    if len(x) < window:
        return x.copy()
    half = window // 2
    padded = np.concatenate([x[half:0:-1], x, x[-2 : -half - 2 : -1]])
    weights = np.kaiser(window, 2)
    return np.convolve(padded, weights / weights.sum(), mode="valid")


def shuffle_dataset(x: NDArray, t: NDArray) -> tuple[NDArray, NDArray]:
    """``x`` and ``t`` shuffled by one permutation of the global ``np.random`` (the book's scripts seed it)."""
    order = np.random.permutation(x.shape[0])
    return x[order], t[order]


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> float:
    """Output length of a convolution or pooling along one axis: ``(input_size + 2*pad - filter_size) / stride + 1``.

    A true division, as in the book: a result that is not a whole number means the filter does not fit evenly.
    """
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data: NDArray, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> NDArray:
    """Unroll every filter window into one row: images ``(N, C, H, W)`` → ``col (N*OH*OW, C*filter_h*filter_w)``.

    Row ``(n*OH + y)*OW + x`` holds the window whose top-left corner is at ``(y*stride, x*stride)`` of the padded
    image ``n``, ordered channel, then filter row, then filter column. With the filters as columns,
    ``W.reshape(FN, -1).T``, one matrix product ``col @ W_col`` computes the whole convolution.
    """
    n, c, h, w = input_data.shape
    out_h = (h + 2 * pad - filter_h) // stride + 1
    out_w = (w + 2 * pad - filter_w) // stride + 1
    padded = np.pad(input_data, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.empty((n, out_h, out_w, c, filter_h, filter_w), dtype=padded.dtype)
    # Offset (dy, dx) inside the window reads pixel (y*stride + dy, x*stride + dx) for every output position
    # (y, x): one strided slice of the padded image per offset fills that entry of every window at once.
    for dy in range(filter_h):
        for dx in range(filter_w):
            rows = slice(dy, dy + stride * (out_h - 1) + 1, stride)
            cols = slice(dx, dx + stride * (out_w - 1) + 1, stride)
            windows[:, :, :, :, dy, dx] = padded[:, :, rows, cols].transpose(0, 2, 3, 1)  # (N, OH, OW, C)
    return windows.reshape(n * out_h * out_w, c * filter_h * filter_w)


def col2im(
    col: NDArray, input_shape: tuple[int, int, int, int], filter_h: int, filter_w: int, stride: int = 1, pad: int = 0
) -> NDArray:
    """The way back for gradients: ``col (N*OH*OW, C*filter_h*filter_w)`` → images ``input_shape (N, C, H, W)``.

    Every entry of ``col`` is added to the pixel that ``im2col`` copied it from, so a pixel shared by several
    windows receives the sum of their gradients. (Not the inverse of ``im2col``: that would take one copy, not
    the sum.) The result keeps ``col``'s floating dtype.
    """
    n, c, h, w = input_shape
    out_h = (h + 2 * pad - filter_h) // stride + 1
    out_w = (w + 2 * pad - filter_w) // stride + 1
    windows = col.reshape(n, out_h, out_w, c, filter_h, filter_w)
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=np.result_type(col.dtype, np.float32))
    for dy in range(filter_h):
        for dx in range(filter_w):
            rows = slice(dy, dy + stride * (out_h - 1) + 1, stride)
            cols = slice(dx, dx + stride * (out_w - 1) + 1, stride)
            # += not =: with stride < filter size, windows overlap and one pixel collects several gradients
            padded[:, :, rows, cols] += windows[:, :, :, :, dy, dx].transpose(0, 3, 1, 2)
    return padded[:, :, pad : pad + h, pad : pad + w]
