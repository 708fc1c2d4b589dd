"""The BLAS thread choice for training runs."""

import pytest
from threadpoolctl import threadpool_info

from zerograd.engine import parallel
from zerograd.engine.threads import SMALL_PRODUCT, BlasLimit, blas_threads, blas_threads_for
from zerograd.nets import MultiLayerNet


def _blas_threads() -> list[int]:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


@pytest.fixture
def zerograd_threads():
    """Run a test with zerograd.engine.parallel set to a given number of threads, restored after."""
    before = parallel.threads()
    yield parallel.set_threads
    parallel.set_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "sizes, batch, expected",
    [
        ([784, 50, 10], 100, 1),  # the chapter's net: 3.9 M multiply-adds per product
        ([784, 1000, 10], 256, None),
        ([784, 256, 128, 10], 100, None),
        ([10, 3, 10], 1, 1),
    ],
)
def test_one_thread_for_small_products_only(sizes, batch, expected, threads, zerograd_threads):
    zerograd_threads(threads)  # the same choice whatever zerograd's own threads
    net = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], rng=0)
    assert blas_threads_for(net.params.values(), batch) == expected


def test_zerograd_is_told_while_blas_is_held_to_one_thread():
    assert not parallel._blas_one_thread
    with blas_threads(1):
        assert parallel._blas_one_thread
        with blas_threads(None):
            assert parallel._blas_one_thread  # still on one thread: the outer block set it
    assert not parallel._blas_one_thread
    limit = BlasLimit(1)
    limit.enter()
    try:
        assert parallel._blas_one_thread
    finally:
        limit.exit()
    assert not parallel._blas_one_thread
    with blas_threads(2):
        assert not parallel._blas_one_thread


def test_the_threshold_is_on_the_largest_product():
    n_out = SMALL_PRODUCT // (100 * 784)
    assert blas_threads_for(MultiLayerNet(784, [n_out], 10, rng=0).params.values(), 100) == 1
    assert blas_threads_for(MultiLayerNet(784, [n_out + 1], 10, rng=0).params.values(), 100) is None


def test_the_limit_applies_inside_the_block_and_is_undone_after():
    before = _blas_threads()
    if not before:
        pytest.skip("NumPy reports no BLAS thread pool")
    with blas_threads(1):
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before
    with blas_threads(None):
        assert _blas_threads() == before


class _Probe:
    """A shape-keeping layer that records how many BLAS threads the products around it may use."""

    def __init__(self):
        self.seen = []

    def forward(self, x):
        self.seen.append(_blas_threads())
        return x

    def backward(self, dout):
        return dout


def _probed_net(hidden):
    from zerograd.layers import Affine, Relu
    from zerograd.nets import Sequential

    probe = _Probe()
    return Sequential(Affine.new(784, hidden, rng=0), Relu(), probe, Affine.new(hidden, 10, rng=1)), probe


def test_gradient_runs_a_small_net_on_one_thread_in_any_loop():
    import numpy as np

    before = _blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS runs on one thread already: nothing to limit")
    x, t = np.random.default_rng(0).random((100, 784)), np.arange(100) % 10
    small, probe = _probed_net(50)
    small.gradient(x, t)  # a user's own loop: no Trainer, no blas_threads block
    assert all(n == 1 for n in probe.seen[-1])
    assert _blas_threads() == before  # undone after the step
    small.predict(x)  # inference is left alone
    assert probe.seen[-1] == before
    wide, probe = _probed_net(1000)
    wide.gradient(x, t)
    assert probe.seen[-1] == before


def test_an_explicit_choice_wins_over_the_nets_own():
    import numpy as np

    before = _blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS runs on one thread already: nothing to limit")
    x, t = np.random.default_rng(0).random((100, 784)), np.arange(100) % 10
    net, probe = _probed_net(50)
    with blas_threads(None):  # "leave BLAS as it is", said explicitly
        net.gradient(x, t)
    assert probe.seen[-1] == before
    net.auto_blas_threads = False
    net.gradient(x, t)
    assert probe.seen[-1] == before
