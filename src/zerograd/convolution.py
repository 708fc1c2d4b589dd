"""The layers of chapter 7: ``Convolution`` and max ``Pooling``, vectorised NumPy.

Both take images ``x: (N, C, H, W)`` (samples, channels, height, width) and give ``(N, C', OH, OW)`` with

    OH = (H + 2*pad - FH) / stride + 1,    OW = (W + 2*pad - FW) / stride + 1

where ``FH x FW`` is the filter (or pooling window). Like every zerograd layer they keep their input's dtype
(float32 in, float32 out), never write into ``x`` or ``dout``, and keep the local derivative beside ``backward``.

How they are fast (the book's ``im2col`` with its Python loops stays readable in ``zerograd.book.util``):

- NOTE: a window view instead of copying loops. ``np.lib.stride_tricks.as_strided`` gives every filter window of
  the padded input as a view ``(C, FH, FW, N, OH, OW)``: moving one output pixel moves ``stride`` input pixels, so
  the output axes reuse the input's own strides times ``stride``. One ``reshape`` then copies it into the
  ``(C*FH*FW, N*OH*OW)`` matrix: the transpose of the book's ``col``, which im2col builds with ``FH*FW`` slice
  copies plus a transposing copy. In this order the copy's inner loop runs along image rows (measured for
  SimpleConvNet's first layer: the copy 2.5x and copy-plus-product 1.4x faster than in the book's row layout).
- NOTE: one BLAS product per layer, ``W (FN, C*FH*FW) @ col``, not one per sample: a stack of ``N`` small
  products pays BLAS's thread hand-off ``N`` times, and on a busy 2-core machine that made a 16-channel layer 5x
  slower. The result ``(FN, N*OH*OW)`` is handed on as an ``(N, FN, OH, OW)`` *view* (no transpose copy): NumPy's
  elementwise layers (ReLU) keep that memory layout, pooling reads it through strided views, and backward gets
  ``dout`` in the same layout, so ``dout`` as ``(FN, N*OH*OW)`` for ``dW = dout colᵀ`` is again a free reshape.
- NOTE: backward scatters instead of col2im. Each input pixel received ``W`` times every output it fed; summing
  ``dcol`` back is one vectorised add per filter offset ``(i, j)`` (``FH*FW`` adds of a whole ``(N, C, OH, OW)``
  slab each), never a loop over pixels. The first layer of a net skips it altogether (``need_dx=False``).
- NOTE: max pooling is separable: the max of a window is the max over its rows of each row's max. So it runs as
  two 1-D passes with strided views, along W then along H, each a loop over the window's offsets (two for a 2x2
  pool) keeping a running maximum and the offset that holds it; backward sends ``dout`` back the same two steps.
  ``reshape(..., 2, ..., 2).max(axis=(3, 5))`` was 25x slower here (NumPy reduces short non-contiguous axes
  slowly) and only works when windows tile; one pass over all four offsets of a 2x2 window took 1.5x as long.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import DTypeLike, NDArray

from .engine.parallel import run_blocks
from .layers import Layer, _positive_ints, init_scale, register_layer

__all__ = ["Convolution", "Pooling", "conv_output_size"]


def _pair(value: Any, what: str, layer: str) -> tuple[int, int]:
    """``k`` or ``(kh, kw)`` as two positive ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1 for v in pair):
        raise ValueError(f"{layer}: {what} must be a positive integer or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_int(value: Any, what: str, layer: str, minimum: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{layer}: {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def conv_output_size(size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """``(size + 2*pad - filter_size) / stride + 1`` when it is a whole number >= 1, else ``ValueError``."""
    span = size + 2 * pad - filter_size
    if span < 0 or span % stride:
        raise ValueError(
            f"({size} + 2*{pad} - {filter_size}) / {stride} + 1 = {span / stride + 1:g} is not a positive whole number"
        )
    return span // stride + 1


def _output_shape(
    layer: str, x_shape: tuple[int, ...], what: str, fh: int, fw: int, stride: int, pad: int
) -> tuple[int, int]:
    """(OH, OW) for an input ``(N, C, H, W)``, or a one-line ValueError naming the layer, the shapes and the formula."""
    _, _, h, w = x_shape
    if h + 2 * pad < fh or w + 2 * pad < fw:
        raise ValueError(
            f"{layer}: {what} {fh}x{fw} is larger than the padded input {h + 2 * pad}x{w + 2 * pad} "
            f"(x (N, C, H, W) = {x_shape!r}, pad {pad})"
        )
    for name, size, f in (("height", h, fh), ("width", w, fw)):
        if (size + 2 * pad - f) % stride:
            letter = name[0].upper()
            raise ValueError(
                f"{layer}: output {name} ({letter} + 2*pad - F{letter}) / stride + 1 = ({size} + 2*{pad} - {f}) / "
                f"{stride} + 1 = {(size + 2 * pad - f) / stride + 1:g} is not a whole number "
                f"(x (N, C, H, W) = {x_shape!r}, {what} {fh}x{fw}, stride {stride}, pad {pad}); "
                "change pad or stride so the windows tile the input"
            )
    return (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1


def _pad(x: NDArray, pad: int, value: float = 0.0) -> NDArray:
    """x ``(N, C, H, W)`` with ``pad`` rows/columns of ``value`` on each side: ``(N, C, H+2p, W+2p)``."""
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=value)


def _window_offset(xp: NDArray, i: int, j: int, oh: int, ow: int, stride: int) -> NDArray:
    """The view ``(N, C, OH, OW)`` of the pixel at offset ``(i, j)`` inside every window."""
    return xp[:, :, i : i + stride * (oh - 1) + 1 : stride, j : j + stride * (ow - 1) + 1 : stride]


@register_layer
class Convolution(Layer):
    """2-D convolution (cross-correlation, as in the book and PyTorch) ``out = W * x + b``.

    Shape: x ``(N, C, H, W)`` → out ``(N, FN, OH, OW)``, ``OH = (H + 2*pad - FH) / stride + 1`` (same for OW).
    W: filters ``(FN, C, FH, FW)``; b: ``(FN,)``. ``backward`` returns ``dx (N, C, H, W)`` and leaves
    ``dW (FN, C, FH, FW)``, ``db (FN,)``. Like ``Affine``, the layer uses ``W`` and ``b`` themselves, so in-place
    updates train it.

    >>> conv = Convolution.new(1, 30, 5, rng=0)
    >>> conv.forward(np.zeros((2, 1, 28, 28))).shape
    (2, 30, 24, 24)
    """

    param_names = ("W", "b")
    buffer_names: tuple[str, ...] = ()
    weight_decay_names = ("W",)
    mode_dependent = False
    samplewise = True
    name_prefix = "Conv"

    def __init__(self, W: NDArray, b: NDArray, stride: int = 1, pad: int = 0) -> None:  # noqa: N803 (book names)
        if not isinstance(W, np.ndarray) or W.ndim != 4 or W.dtype.kind != "f":
            raise ValueError(f"Convolution needs W as a 4-D floating array (FN, C, FH, FW), got {_describe(W)}")
        if not isinstance(b, np.ndarray) or b.shape != (W.shape[0],) or b.dtype.kind != "f":
            raise ValueError(f"Convolution needs b as a floating array of shape ({W.shape[0]},), got {_describe(b)}")
        self.W, self.b = W, b
        self.stride = _check_int(stride, "stride", "Convolution", 1)
        self.pad = _check_int(pad, "pad", "Convolution", 0)
        self.x_shape: tuple[int, ...] | None = None
        self.col: NDArray | None = None  # (C*FH*FW, N*OH*OW): every window as a column, kept for dW
        self.dW: NDArray | None = None
        self.db: NDArray | None = None

    @classmethod
    def new(
        cls,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        pad: int = 0,
        init: str | float = "he",
        rng: np.random.Generator | int | None = None,
        dtype: DTypeLike = np.float64,
    ) -> Convolution:
        """Filters drawn from ``N(0, std²)``: ``init="he"`` std ``sqrt(2 / (C*FH*FW))`` (suits ReLU),
        ``"xavier"`` ``sqrt(1 / (C*FH*FW))``, or a number (the book's SimpleConvNet uses 0.01); zero biases."""
        c = _check_int(in_channels, "in_channels", "Convolution", 1)
        fn = _check_int(out_channels, "out_channels", "Convolution", 1)
        fh, fw = _pair(kernel_size, "kernel_size", "Convolution")
        std = init_scale(init, c * fh * fw, "Convolution.new")  # fan-in: the C*FH*FW inputs of each output
        gen: Any = rng if hasattr(rng, "standard_normal") else np.random.default_rng(rng)
        W = (std * gen.standard_normal((fn, c, fh, fw))).astype(dtype)  # noqa: N806
        return cls(W, np.zeros(fn, dtype=dtype), stride=stride, pad=pad)

    @property
    def in_channels(self) -> int:
        return self.W.shape[1]

    @property
    def out_channels(self) -> int:
        return self.W.shape[0]

    @property
    def kernel_size(self) -> tuple[int, int]:
        return self.W.shape[2], self.W.shape[3]

    def output_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """``(N, FN, OH, OW)`` for an input of ``x_shape``; ValueError (one line) when it does not fit."""
        if len(x_shape) != 4 or x_shape[1] != self.in_channels:
            raise ValueError(
                f"Convolution expects x of shape (N, C, H, W) with C = {self.in_channels} channels "
                f"(W (FN, C, FH, FW) = {self.W.shape!r}), got {tuple(x_shape)!r}"
            )
        oh, ow = _output_shape("Convolution", tuple(x_shape), "filter", *self.kernel_size, self.stride, self.pad)
        return x_shape[0], self.out_channels, oh, ow

    def forward(self, x: NDArray) -> NDArray:
        n, fn, oh, ow = self.output_shape(np.shape(x))
        _, c, h, w = x.shape
        fh, fw = self.kernel_size
        s = self.stride
        xp = _pad(x, self.pad)
        sn, sc, sh, sw = xp.strides
        # NOTE: every window as a view, no copy: window (oh, ow) starts at pixel (oh*s, ow*s), so its axes step
        # by the input's strides times s, and the offsets (i, j) inside a window step by the input's own strides.
        # The axes are ordered (C, FH, FW, N, OH, OW) so that one reshape gives im2col's matrix, transposed.
        windows = as_strided(xp, (c, fh, fw, n, oh, ow), (sc, sh, sw, sn, sh * s, sw * s), writeable=False)
        ck = c * fh * fw
        # NOTE: the one copy, im2col, into (C*FH*FW + 1, N*OH*OW) with a last row of ones: the bias is a weight
        # on a constant input 1, so the forward product adds it and backward's dW product also gives db (the row
        # sums of dout), saving a pass each way.
        cols = np.empty((ck + 1, n * oh * ow), dtype=xp.dtype if xp.dtype.kind == "f" else self.W.dtype)
        cols[ck] = 1
        windows_copy = cols[:ck].reshape(c, fh, fw, n, oh, ow)
        w_and_b = np.concatenate([self.W.reshape(fn, ck), self.b[:, None]], axis=1)  # (FN, C*FH*FW + 1)
        out = np.empty((fn, n * oh * ow), dtype=np.result_type(w_and_b, cols))
        pixels = oh * ow

        # NOTE: samples are independent, so blocks of them (their columns of col) are copied and multiplied on
        # separate cores (zerograd.engine.parallel), each product on one BLAS thread.
        def convolve(samples: slice) -> None:
            np.copyto(windows_copy[:, :, :, samples], windows[:, :, :, samples])
            columns = slice(samples.start * pixels, samples.stop * pixels)
            np.matmul(w_and_b, cols[:, columns], out=out[:, columns])  # (FN, CK+1) @ (CK+1, block): one product

        run_blocks(convolve, n, ck * pixels)
        self.col, self._col_and_ones = cols[:ck], cols  # col: (C*FH*FW, N*OH*OW), the book's col transposed
        self.x_shape = x.shape
        # (FN, N, OH, OW) in memory, returned as its (N, FN, OH, OW) view: elementwise layers keep that layout
        return out.reshape(fn, n, oh, ow).transpose(1, 0, 2, 3)

    def infer(self, x: NDArray) -> NDArray:
        """``forward(x)``, then the im2col matrix let go: an evaluation batch's columns (N*OH*OW of them) are not
        kept alive until the next batch."""
        out = self.forward(x)
        self.col = None  # backward now refuses, as before any forward
        self._col_and_ones = np.empty((0, 0), dtype=out.dtype)
        return out

    def backward(self, dout: NDArray, need_dx: bool = True) -> NDArray | None:
        """dout ``(N, FN, OH, OW)`` → dx ``(N, C, H, W)`` (``None`` with ``need_dx=False``, for a net's first layer)."""
        if self.col is None or self.x_shape is None:
            raise self._not_forwarded()
        n, c, h, w = self.x_shape
        fn, _, fh, fw = self.W.shape
        oh, ow = dout.shape[2:]
        pixels = oh * ow
        d = dout.transpose(1, 0, 2, 3).reshape(fn, -1)  # (FN, N*OH*OW): free when dout has forward's layout
        p, s = self.pad, self.stride
        w_t = self.W.reshape(fn, -1).T
        dxp = np.zeros((c, n, h + 2 * p, w + 2 * p), dtype=np.result_type(w_t, d)) if need_dx else None
        # out = W col + b  =>  dW = dout colᵀ,  db = Σ over samples and pixels of dout,  dcol = Wᵀ dout,
        # and each input pixel gets the sum of dcol over every window position that read it.

        def backward_block(samples: slice) -> NDArray:
            columns = slice(samples.start * pixels, samples.stop * pixels)
            dw_db = d[:, columns] @ self._col_and_ones[:, columns].T  # (FN, C*FH*FW + 1): this block's [dW | db]
            if dxp is not None:
                dcol = (w_t @ d[:, columns]).reshape(c, fh, fw, samples.stop - samples.start, oh, ow)
                block = dxp[:, samples]  # (C, n, H+2p, W+2p): dcol's own layout
                # NOTE: the scatter of col2im as FH*FW slab adds: windows overlap (when stride < FH), so
                # contributions to one pixel from different offsets must be added, never assigned.
                for i in range(fh):
                    for j in range(fw):
                        _window_offset(block, i, j, oh, ow, s)[...] += dcol[:, i, j]
            return dw_db

        # blocks of samples on separate cores, as in forward; their dW parts are summed
        dw_db = sum(run_blocks(backward_block, n, (c * fh * fw + fn) * pixels))
        self.dW = np.ascontiguousarray(dw_db[:, :-1]).reshape(self.W.shape)
        self.db = dw_db[:, -1].copy()
        if dxp is None:
            return None
        dx = dxp.transpose(1, 0, 2, 3)
        return dx[:, :, p : p + h, p : p + w] if p else dx

    def spec(self) -> dict[str, Any]:
        return {
            "type": "Convolution",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": self.stride,
            "pad": self.pad,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any], dtype: DTypeLike = np.float64) -> Convolution:
        """A layer of ``spec``'s shape with zero filters (a checkpoint then loads the arrays)."""
        c, fn = _positive_ints(spec, ("in_channels", "out_channels"))
        fh, fw = _pair(spec.get("kernel_size"), "kernel_size", "Convolution spec")
        W = np.zeros((fn, c, fh, fw), dtype=dtype)  # noqa: N806
        return cls(W, np.zeros(fn, dtype=dtype), stride=spec.get("stride", 1), pad=spec.get("pad", 0))

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, pad={self.pad}, dtype={self.W.dtype}"
        )


@register_layer
class Pooling(Layer):
    """Max pooling: each output is the largest input of its ``pool_h x pool_w`` window, per channel.

    Shape: x ``(N, C, H, W)`` → out ``(N, C, OH, OW)``, ``OH = (H + 2*pad - pool_h) / stride + 1`` (same for OW).
    Padding counts as ``-inf`` (never the maximum), as in PyTorch's ``max_pool2d``; ``pad`` must be smaller than the
    pool so that every window holds a real pixel. ``stride`` defaults to 1 here; pass it: the usual 2x2 pooling is
    ``Pooling(2, 2, stride=2)``. (The book's repository changed its own default from 1 to 2 on 2020-09-14, commit
    77a0807; ``zerograd.book.layers.Pooling`` follows the repository.)

    >>> Pooling(2, 2, stride=2).forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    param_names: tuple[str, ...] = ()
    buffer_names: tuple[str, ...] = ()
    weight_decay_names: tuple[str, ...] = ()
    mode_dependent = False
    samplewise = True
    name_prefix = "Pool"

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0) -> None:
        self.pool_h = _check_int(pool_h, "pool_h", "Pooling", 1)
        self.pool_w = _check_int(pool_w, "pool_w", "Pooling", 1)
        self.stride = _check_int(stride, "stride", "Pooling", 1)
        self.pad = _check_int(pad, "pad", "Pooling", 0)
        if self.pad >= min(self.pool_h, self.pool_w):
            raise ValueError(
                f"Pooling: pad must be smaller than the pool {self.pool_h}x{self.pool_w} (a window of "
                f"padding alone has no maximum), got pad {pad}"
            )
        self.x_shape: tuple[int, ...] | None = None
        self.arg_w: NDArray | None = None  # (N, C, H+2p, OW): column offset of each row's maximum in its window
        self.arg_h: NDArray | None = None  # (N, C, OH, OW): row offset of each window's maximum

    def output_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """``(N, C, OH, OW)`` for an input of ``x_shape``; ValueError (one line) when it does not fit."""
        if len(x_shape) != 4:
            raise ValueError(f"Pooling expects x of shape (N, C, H, W), got {tuple(x_shape)!r}")
        oh, ow = _output_shape("Pooling", tuple(x_shape), "pool", self.pool_h, self.pool_w, self.stride, self.pad)
        return x_shape[0], x_shape[1], oh, ow

    def forward(self, x: NDArray) -> NDArray:
        _, _, oh, ow = self.output_shape(np.shape(x))
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = _pad(x, self.pad, fill)
        n, c, hp, _ = xp.shape
        self._x_c_major = x.strides[0] < x.strides[1]  # (C, N, H, W) in memory, as a convolution hands it on
        # the row maxima keep x's layout (as a ufunc over x would), the output is (N, C, OH, OW)
        rows = _empty_like_layout((n, c, hp, ow), x.dtype, self._x_c_major)
        self.arg_w = arg_w = _empty_like_layout((n, c, hp, ow), _arg_dtype(self.pool_w), self._x_c_major)
        out = np.empty((n, c, oh, ow), dtype=x.dtype)
        self.arg_h = arg_h = np.empty((n, c, oh, ow), dtype=_arg_dtype(self.pool_h))

        # NOTE: the max of a window is the max over its rows of each row's max, so pooling runs as two 1-D passes:
        # along W (windows of pool_w columns), then along H over those row maxima. A 2x2 pool then costs two
        # compare-and-max passes (the first on half the pixels) instead of three over every offset.
        # NOTE: samples are independent, so blocks of them run on separate cores (zerograd.engine.parallel).
        def pool(samples: slice) -> None:
            _running_max(xp[samples], 3, self.pool_w, self.stride, rows[samples], arg_w[samples])
            _running_max(rows[samples], 2, self.pool_h, self.stride, out[samples], arg_h[samples])

        run_blocks(pool, n, xp[0].size)
        self.x_shape = x.shape
        return out

    def infer(self, x: NDArray) -> NDArray:
        """``forward(x)``, then the argmax maps let go (nothing is kept for backward)."""
        out = self.forward(x)
        self.arg_w = self.arg_h = None
        return out

    def backward(self, dout: NDArray) -> NDArray:
        """dout ``(N, C, OH, OW)`` → dx ``(N, C, H, W)``."""
        arg_w, arg_h = self.arg_w, self.arg_h
        if arg_w is None or arg_h is None or self.x_shape is None:
            raise self._not_forwarded()
        n, c, h, w = self.x_shape
        p, s = self.pad, self.stride
        oh, ow = dout.shape[2:]
        # d max(x_1..x_k)/dx_i = 1 for the (first) largest x_i, 0 for the others: dout goes to the argmax alone,
        # first to the winning row of each window (through the H pass), then to the winning column of that row.
        dtype = np.result_type(dout.dtype, np.float32)
        # where windows tile an axis exactly, every element is written: no need to zero it first
        rows_tiled = s == self.pool_h and s * oh == h + 2 * p
        cols_tiled = s == self.pool_w and s * ow == w + 2 * p
        # give dx the layout x had, so that the ReLU and convolution below see one layout
        drows = _empty_like_layout((n, c, h + 2 * p, ow), dtype, self._x_c_major, zero=not rows_tiled)
        dxp = _empty_like_layout(
            (n, c, h + 2 * p, w + 2 * p), dtype, self._x_c_major, zero=not (rows_tiled and cols_tiled)
        )

        def unpool(samples: slice) -> None:
            _scatter_max(drows[samples], dout[samples], arg_h[samples], 2, self.pool_h, s, oh)
            _scatter_max(dxp[samples], drows[samples], arg_w[samples], 3, self.pool_w, s, ow)

        run_blocks(unpool, n, dxp[0].size)
        return dxp[:, :, p : p + h, p : p + w] if p else dxp

    @property
    def arg_max(self) -> NDArray | None:
        """The book's name: offset ``i*pool_w + j`` of each window's maximum, ``(N, C, OH, OW)``."""
        if self.arg_h is None:
            return None
        s, oh, ow = self.stride, *self.arg_h.shape[2:]
        n_, c_ = self.arg_h.shape[:2]
        # the winning column of the winning row: arg_w at row (oh*s + arg_h)
        row = np.arange(oh)[:, None] * s + self.arg_h.astype(np.intp)
        cols = np.take_along_axis(self.arg_w, row.reshape(n_, c_, oh, ow), axis=2)
        return self.arg_h.astype(np.intp) * self.pool_w + cols

    def spec(self) -> dict[str, Any]:
        return {"type": "Pooling", "pool_h": self.pool_h, "pool_w": self.pool_w, "stride": self.stride, "pad": self.pad}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], dtype: DTypeLike = np.float64) -> Pooling:
        pool_h, pool_w = _positive_ints(spec, ("pool_h", "pool_w"))
        return cls(pool_h, pool_w, stride=spec.get("stride", 1), pad=spec.get("pad", 0))

    def extra_repr(self) -> str:
        return f"pool_h={self.pool_h}, pool_w={self.pool_w}, stride={self.stride}, pad={self.pad}"


def _strided(a: NDArray, axis: int, k: int, stride: int, count: int) -> NDArray:
    """The view of ``a`` at offset ``k`` of every window along ``axis``: ``k, k + stride, ...`` (``count`` of them)."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(k, k + stride * (count - 1) + 1, stride)
    return a[tuple(index)]


def _arg_dtype(size: int) -> np.dtype:
    """The smallest unsigned integer type holding the offsets ``0 .. size-1`` of a window."""
    return np.dtype(np.min_scalar_type(max(size - 1, 1)))


def _empty_like_layout(
    shape: tuple[int, int, int, int], dtype: DTypeLike, c_major: bool, zero: bool = False
) -> NDArray:
    """A new ``(N, C, H, W)`` array, laid out in memory as ``(C, N, H, W)`` when ``c_major`` (a convolution's
    output layout), zero-filled when ``zero``."""
    n, c, h, w = shape
    make = np.zeros if zero else np.empty
    return make((c, n, h, w), dtype=dtype).transpose(1, 0, 2, 3) if c_major else make(shape, dtype=dtype)


def _running_max(a: NDArray, axis: int, size: int, stride: int, out: NDArray, arg: NDArray) -> None:
    """Max over windows of ``size`` along ``axis`` into ``out``, and the offset of the first maximum into ``arg``."""
    count = out.shape[axis]
    first = _strided(a, axis, 0, stride, count)
    if size == 1:
        out[...] = first
        arg[...] = 0
        return
    second = _strided(a, axis, 1, stride, count)
    # NOTE: a strictly greater value takes over, so ties keep the first maximum (in reading order, over the two
    # passes), as the book's argmax and PyTorch do. (After a ReLU whole windows are 0: passing dout to every tied
    # element would multiply the gradient.) Offsets grow, so "arg = k where greater" is max(arg, k * greater).
    if arg.dtype.itemsize == 1:
        np.greater(second, first, out=arg.view(np.bool_))  # offset 0 or 1: for a pair, the arg itself
    else:
        arg[...] = np.greater(second, first)
    np.maximum(first, second, out=out)
    if size > 2:
        greater = np.empty(out.shape, dtype=bool)
        for k in range(2, size):
            view = _strided(a, axis, k, stride, count)
            np.greater(view, out, out=greater)
            np.maximum(out, view, out=out)
            np.maximum(arg, greater.view(np.uint8) * arg.dtype.type(k), out=arg)


def _scatter_max(target: NDArray, dout: NDArray, arg: NDArray, axis: int, size: int, stride: int, count: int) -> None:
    """Send ``dout`` to offset ``arg`` of each window along ``axis`` of ``target``, in place.

    Windows that do not overlap write their parts straight into ``target`` (which need not be zeroed where they
    cover it); overlapping ones add, since one element may win several windows.
    """
    views = [_strided(target, axis, k, stride, count) for k in range(size)]
    if stride < size:
        for k, view in enumerate(views):
            view += dout * (arg == k)
        return
    if size == 1:
        views[0][...] = dout
        return
    for k in range(size - 1, 0, -1):
        np.multiply(dout, arg if size == 2 else (arg == k), out=views[k])  # for a pair, arg is 0 or 1 itself
    if size == 2:
        np.subtract(dout, views[1], out=views[0])  # offset 0 gets what offset 1 did not take
    else:
        np.multiply(dout, arg == 0, out=views[0])


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape!r} and dtype {a.dtype}"
    return f"{type(a).__name__}"
