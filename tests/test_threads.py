"""The BLAS thread choice for training runs."""

import pytest
from threadpoolctl import threadpool_info

from zerograd.nets import MultiLayerNet
from zerograd.threads import SMALL_PRODUCT, blas_threads, blas_threads_for


def _blas_threads() -> list[int]:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


@pytest.mark.parametrize("sizes, batch, expected", [
    ([784, 50, 10], 100, 1),  # the chapter's net: 3.9 M multiply-adds per product
    ([784, 1000, 10], 256, None),
    ([784, 256, 128, 10], 100, None),
    ([10, 3, 10], 1, 1),
])
def test_one_thread_for_small_products_only(sizes, batch, expected):
    net = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], rng=0)
    assert blas_threads_for(net.params.values(), batch) == expected


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
