"""Convolution and Pooling: central differences, PyTorch, the book's im2col path, dtypes, no mutation, errors.

Tolerances: check_layer perturbs by h = 1e-6 in float64 (central differences accurate to ~1e-9 relative); we ask
for 1e-6 relative to the gradient's scale plus 1e-9 absolute, as tests/test_layers.py does. Against PyTorch both
sides compute the same sums in float64, in another order: relative error (max |a - b| / max |b|) <= 1e-10.
"""

import numpy as np
import pytest
from conftest import optional

from zerograd.book import layers as book_layers
from zerograd.book.util import col2im, conv_output_size, im2col
from zerograd.convolution import Convolution, Pooling
from zerograd.gradcheck import check_layer

RTOL, ATOL = 1e-6, 1e-9
TORCH_RTOL = 1e-10

# (N, C, H, W), (FN, FH, FW), stride, pad: strides 1-2, pads 0-2, non-square inputs and filters
CONV_CASES = [
    ((2, 2, 7, 5), (3, 3, 3), 1, 0),
    ((2, 3, 6, 8), (2, 2, 4), 1, 1),
    ((1, 2, 5, 4), (3, 3, 2), 1, 2),
    ((2, 2, 7, 9), (3, 3, 3), 2, 0),
    ((2, 1, 8, 6), (2, 4, 2), 2, 1),
    ((1, 2, 5, 7), (2, 3, 3), 2, 2),
]
# (N, C, H, W), (pool_h, pool_w), stride, pad (PyTorch allows pad <= pool/2)
POOL_CASES = [
    ((2, 3, 6, 8), (2, 2), 2, 0),
    ((2, 2, 7, 5), (3, 3), 1, 0),
    ((1, 2, 6, 9), (2, 3), 1, 1),
    ((2, 2, 7, 9), (3, 3), 2, 1),
    ((1, 3, 8, 6), (4, 4), 2, 2),
    ((2, 2, 5, 7), (5, 3), 1, 1),
]


def conv_case(x_shape, filt, stride, pad, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    fn, fh, fw = filt
    layer = Convolution(
        rng.standard_normal((fn, x_shape[1], fh, fw)).astype(dtype),
        rng.standard_normal(fn).astype(dtype),
        stride=stride,
        pad=pad,
    )
    return layer, rng.standard_normal(x_shape).astype(dtype)


def assert_passes(report):
    assert report.passed, f"\n{report}"


# -- central differences --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("x_shape", "filt", "stride", "pad"), CONV_CASES)
def test_convolution_backward_matches_finite_differences(x_shape, filt, stride, pad):
    layer, x = conv_case(x_shape, filt, stride, pad)
    report = check_layer(layer, x, rtol=RTOL, atol=ATOL)
    assert_passes(report)
    assert [c.name for c in report] == ["x", "W", "b"]


@pytest.mark.parametrize(("x_shape", "pool", "stride", "pad"), POOL_CASES)
def test_pooling_backward_matches_finite_differences(x_shape, pool, stride, pad):
    # Distinct random values: the largest of a window is ahead of the next by far more than h = 1e-6.
    x = np.random.default_rng(1).standard_normal(x_shape)
    assert_passes(check_layer(Pooling(*pool, stride=stride, pad=pad), x, rtol=RTOL, atol=ATOL))


# -- PyTorch --------------------------------------------------------------------------------------------------


def torch_or_skip():
    return optional("torch", "torch")  # skips locally without PyTorch, fails in CI


def rel_err(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


@pytest.mark.parametrize(("x_shape", "filt", "stride", "pad"), CONV_CASES + [((3, 4, 12, 10), (5, 3, 5), 1, 2)])
def test_convolution_agrees_with_torch_conv2d(x_shape, filt, stride, pad):
    torch = torch_or_skip()
    layer, x = conv_case(x_shape, filt, stride, pad, seed=2)
    out = layer.forward(x)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx = layer.backward(dout)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, layer.W, layer.b))
    expected = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad)
    expected.backward(torch.from_numpy(dout))
    errors = {
        "out": rel_err(out, expected),
        "dx": rel_err(dx, xt.grad),
        "dW": rel_err(layer.dW, wt.grad),
        "db": rel_err(layer.db, bt.grad),
    }
    assert max(errors.values()) <= TORCH_RTOL, errors


@pytest.mark.parametrize(("x_shape", "pool", "stride", "pad"), POOL_CASES)
def test_pooling_agrees_with_torch_max_pool2d(x_shape, pool, stride, pad):
    torch = torch_or_skip()
    x = np.random.default_rng(4).standard_normal(x_shape)
    layer = Pooling(*pool, stride=stride, pad=pad)
    out = layer.forward(x)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    dx = layer.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.max_pool2d(xt, pool, stride=stride, padding=pad)
    expected.backward(torch.from_numpy(dout))
    assert max(rel_err(out, expected), rel_err(dx, xt.grad)) <= TORCH_RTOL


def test_pooling_ties_go_to_the_first_maximum_like_torch():
    # After a ReLU whole windows are 0: the gradient must reach one element per window, not every tied one.
    x = np.zeros((1, 2, 4, 6))
    x[0, 1, 1, 1] = 1.0
    layer = Pooling(2, 2, stride=2)
    layer.forward(x)
    dout = np.arange(1.0, 13.0).reshape(1, 2, 2, 3)
    dx = layer.backward(dout)
    assert dx.sum() == dout.sum()
    assert dx[0, 0, 0, 0] == 1.0 and dx[0, 0, 0, 1] == 0.0 and dx[0, 1, 1, 1] == 7.0  # top-left of each window
    torch = torch_or_skip()
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 2, stride=2).backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(dx, xt.grad.numpy())


# -- a hand-worked example ------------------------------------------------------------------------------------


def test_convolution_by_hand():
    # 3x3 image 1..9, one 2x2 filter [[1, 0], [0, -1]] (top-left minus bottom-right), bias 10:
    # windows [[1,2],[4,5]] → 1 - 5 + 10 = 6, [[2,3],[5,6]] → 6, [[4,5],[7,8]] → 6, [[5,6],[8,9]] → 6.
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    layer = Convolution(np.array([[[[1.0, 0.0], [0.0, -1.0]]]]), np.array([10.0]))
    np.testing.assert_array_equal(layer.forward(x), [[[[6.0, 6.0], [6.0, 6.0]]]])
    # dout all ones: dW[i, j] = sum of the pixels that offset (i, j) saw = 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(layer.dW, [[[[12.0, 16.0], [24.0, 28.0]]]])
    np.testing.assert_array_equal(layer.db, [4.0])
    # dx: +1 where a window's top-left fell, -1 where its bottom-right fell
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 0], [1, 0, -1], [0, -1, -1]])


# -- the book's im2col path -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("x_shape", "filt", "stride", "pad"), CONV_CASES)
def test_book_im2col_is_the_fast_layers_matrix(x_shape, filt, stride, pad):
    layer, x = conv_case(x_shape, filt, stride, pad, seed=6)
    out = layer.forward(x)
    n, _, oh, ow = out.shape
    col = im2col(x, filt[1], filt[2], stride, pad)  # (N*OH*OW, C*FH*FW)
    # the fast layer keeps the same matrix transposed, with rows in the same (N, OH, OW) order: (C*FH*FW, N*OH*OW)
    np.testing.assert_array_equal(col, layer.col.T)
    assert conv_output_size(x_shape[2], filt[1], stride, pad) == oh


@pytest.mark.parametrize(("x_shape", "filt", "stride", "pad"), CONV_CASES)
def test_book_col2im_sums_what_the_fast_backward_scatters(x_shape, filt, stride, pad):
    layer, x = conv_case(x_shape, filt, stride, pad, seed=7)
    out = layer.forward(x)
    dout = np.random.default_rng(8).standard_normal(out.shape)
    dx = layer.backward(dout)
    fn = filt[0]
    dcol = dout.transpose(0, 2, 3, 1).reshape(-1, fn) @ layer.W.reshape(fn, -1)  # the book's dcol
    np.testing.assert_allclose(col2im(dcol, x.shape, filt[1], filt[2], stride, pad), dx, rtol=1e-12, atol=1e-12)
    # col2im adds one copy per window a pixel belongs to: on ones it counts them (entries that came from padding
    # are dropped, and im2col of an image of ones has exactly those as 0)
    counts = col2im(np.ones_like(dcol), x.shape, filt[1], filt[2], stride, pad)
    assert counts.sum() == im2col(np.ones(x.shape), filt[1], filt[2], stride, pad).sum()
    assert counts.min() >= 1 or stride > 1


@pytest.mark.parametrize(("x_shape", "filt", "stride", "pad"), CONV_CASES)
def test_book_convolution_layer_gives_the_same_numbers(x_shape, filt, stride, pad):
    fast, x = conv_case(x_shape, filt, stride, pad, seed=9)
    book = book_layers.Convolution(fast.W, fast.b, stride, pad)
    out = book.forward(x)
    np.testing.assert_allclose(out, fast.forward(x), rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(10).standard_normal(out.shape)
    np.testing.assert_allclose(book.backward(dout), fast.backward(dout), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(book.dW, fast.dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(book.db, fast.db, rtol=1e-12, atol=1e-12)
    assert book.col.shape == (out.shape[0] * out.shape[2] * out.shape[3], x_shape[1] * filt[1] * filt[2])
    assert book.col_W.shape == (x_shape[1] * filt[1] * filt[2], filt[0])
    assert_passes(check_layer(book_layers.Convolution(fast.W, fast.b, stride, pad), x, rtol=RTOL, atol=ATOL))


@pytest.mark.parametrize(("x_shape", "pool", "stride", "pad"), POOL_CASES)
def test_book_pooling_layer_gives_the_same_numbers_on_relu_outputs(x_shape, pool, stride, pad):
    # The book pads with 0 and PyTorch (and zerograd) with -inf: the same maxima once inputs are >= 0.
    x = np.abs(np.random.default_rng(11).standard_normal(x_shape))
    fast, book = Pooling(*pool, stride=stride, pad=pad), book_layers.Pooling(*pool, stride=stride, pad=pad)
    out = book.forward(x)
    np.testing.assert_array_equal(out, fast.forward(x))
    dout = np.random.default_rng(12).standard_normal(out.shape)
    # overlapping windows add several gradients into one pixel, in another order: equal up to rounding
    np.testing.assert_allclose(book.backward(dout), fast.backward(dout), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(book.arg_max.reshape(-1), fast.arg_max.transpose(0, 2, 3, 1).reshape(-1))


# -- dtypes, no mutation, errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_keep_the_dtype_and_leave_their_arguments_alone(dtype):
    conv, x = conv_case((2, 2, 8, 8), (3, 3, 3), 1, 1, dtype=dtype)
    pool = Pooling(2, 2, stride=2, pad=1)
    for layer in (conv, pool, book_layers.Convolution(conv.W, conv.b, 1, 1), book_layers.Pooling(2, 2, 2)):
        x_before = x.copy()
        out = layer.forward(x)
        dout = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
        dout_before = dout.copy()
        dx = layer.backward(dout)
        assert out.dtype == dtype and dx.dtype == dtype, type(layer)
        assert dx.shape == x.shape
        np.testing.assert_array_equal(x, x_before)
        np.testing.assert_array_equal(dout, dout_before)
    assert conv.dW.dtype == dtype and conv.db.dtype == dtype


def test_first_layer_may_skip_dx():
    conv, x = conv_case((2, 1, 6, 6), (2, 3, 3), 1, 0)
    out = conv.forward(x)
    assert conv.backward(np.ones_like(out), need_dx=False) is None
    assert conv.dW.shape == conv.W.shape


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="Convolution.backward called before forward"):
        Convolution.new(1, 2, 3, rng=0).backward(np.ones((1, 2, 2, 2)))
    with pytest.raises(RuntimeError, match="Pooling.backward called before forward"):
        Pooling(2, 2).backward(np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize(
    ("layer", "x_shape", "message"),
    [
        (
            Convolution.new(1, 4, 5, rng=0),
            (2, 784),
            r"Convolution expects x of shape \(N, C, H, W\) with C = 1 .*"
            r"got \(2, 784\)",
        ),
        (Convolution.new(3, 4, 3, rng=0), (2, 1, 8, 8), r"C = 3 channels .*\(4, 3, 3, 3\).*got \(2, 1, 8, 8\)"),
        (
            Convolution.new(1, 4, 5, pad=1, rng=0),
            (2, 1, 2, 9),
            r"Convolution: filter 5x5 is larger than the padded input 4x11 \(x \(N, C, H, W\) = \(2, 1, 2, 9\), pad 1\)",
        ),
        (
            Convolution.new(1, 4, 5, stride=2, rng=0),
            (2, 1, 28, 28),
            r"Convolution: output height \(H \+ 2\*pad - FH\) / stride \+ 1 = \(28 \+ 2\*0 - 5\) / 2 \+ 1 = 12.5 is not "
            r"a whole number \(x \(N, C, H, W\) = \(2, 1, 28, 28\), filter 5x5, stride 2, pad 0\)",
        ),
        (Convolution.new(1, 4, (3, 4), stride=2, rng=0), (1, 1, 9, 9), r"output width \(W \+ 2\*pad - FW\)"),
        (Pooling(2, 2, stride=2), (2, 30, 24), r"Pooling expects x of shape \(N, C, H, W\), got \(2, 30, 24\)"),
        (Pooling(2, 2, stride=2), (1, 1, 7, 8), r"Pooling: output height .* = \(7 \+ 2\*0 - 2\) / 2 \+ 1 = 3.5"),
        (Pooling(4, 4), (1, 1, 3, 8), r"Pooling: pool 4x4 is larger than the padded input 3x8"),
    ],
)
def test_bad_input_is_one_line_naming_layer_shapes_and_formula(layer, x_shape, message):
    with pytest.raises(ValueError, match=message) as info:
        layer.forward(np.zeros(x_shape))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Convolution(np.zeros((3, 3)), np.zeros(3)), "4-D floating array"),
        (lambda: Convolution(np.zeros((3, 1, 2, 2)), np.zeros(2)), r"b as a floating array of shape \(3,\)"),
        (lambda: Convolution(np.zeros((3, 1, 2, 2)), np.zeros(3), stride=0), "stride must be an integer >= 1"),
        (lambda: Convolution.new(1, 3, 0), "kernel_size must be a positive integer"),
        (lambda: Convolution.new(1, 3, 3, init="lecun"), "weight init must be a number or one of"),
        (lambda: Pooling(2, 2, pad=2), "pad must be smaller than the pool 2x2"),
        (lambda: Pooling(0, 2), "pool_h must be an integer >= 1"),
    ],
)
def test_bad_construction_raises(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_spec_round_trip_and_repr():
    conv = Convolution.new(3, 8, (3, 5), stride=2, pad=1, rng=0, dtype=np.float32)
    spec = conv.spec()
    assert spec == {
        "type": "Convolution",
        "in_channels": 3,
        "out_channels": 8,
        "kernel_size": [3, 5],
        "stride": 2,
        "pad": 1,
    }
    again = Convolution.from_spec(spec, np.float32)
    assert again.spec() == spec and again.W.shape == conv.W.shape and again.W.dtype == np.float32
    pool = Pooling(3, 2, stride=2, pad=1)
    assert (
        Pooling.from_spec(pool.spec()).spec()
        == pool.spec()
        == {"type": "Pooling", "pool_h": 3, "pool_w": 2, "stride": 2, "pad": 1}
    )
    assert repr(conv) == (
        "Convolution(in_channels=3, out_channels=8, kernel_size=(3, 5), stride=2, pad=1, dtype=float32)"
    )
    assert repr(pool) == "Pooling(pool_h=3, pool_w=2, stride=2, pad=1)"


def test_he_initialisation_scale():
    conv = Convolution.new(16, 32, 3, rng=0)
    assert conv.W.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert Convolution.new(1, 30, 5, init=0.01, rng=0).W.std() == pytest.approx(0.01, rel=0.1)
