"""zerograd.engine.parallel: row blocks on threads give the same numbers as one call; and zerograd.engine.memory's allocator
setting."""

import multiprocessing
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from zerograd.engine import parallel
from zerograd.engine.threads import blas_threads


@pytest.fixture
def two_threads():
    """Two zerograd threads, with BLAS held to one (work is split only then)."""
    before = parallel.threads()
    parallel.set_threads(2)
    with blas_threads(1):
        yield
    parallel.set_threads(before)


def test_blocks_cover_the_rows_once_and_small_work_is_not_split(two_threads):
    big = parallel.blocks(1001, parallel.MIN_BLOCK)
    assert len(big) == 2
    assert [r for s in big for r in range(1001)[s]] == list(range(1001))
    assert parallel.blocks(1001, 1) == [slice(0, 1001)]  # 1001 elements: not worth a hand-off
    assert parallel.blocks(1, 10**9) == [slice(0, 1)]  # one row cannot be split
    with blas_threads(None):
        assert len(parallel.blocks(1001, parallel.MIN_BLOCK)) == 2  # still held by the fixture's outer block
    parallel.set_threads(1)
    assert parallel.blocks(1001, parallel.MIN_BLOCK) == [slice(0, 1001)]


def test_nothing_is_split_while_blas_has_threads_of_its_own():
    before = parallel.threads()
    parallel.set_threads(2)
    try:
        with blas_threads(2):
            assert parallel.blocks(1001, parallel.MIN_BLOCK) == [slice(0, 1001)]
        assert parallel.blocks(1001, parallel.MIN_BLOCK) == [slice(0, 1001)]  # nothing held outside a step
    finally:
        parallel.set_threads(before)


def test_run_blocks_runs_blocks_at_once_on_different_threads_and_keeps_their_order(two_threads):
    barrier = threading.Barrier(2, timeout=10)  # passes only when both blocks run at the same time
    seen = []

    def work(rows):
        barrier.wait()
        seen.append(threading.get_ident())
        return rows.start

    assert parallel.run_blocks(work, 10, parallel.MIN_BLOCK) == [0, 5]
    assert len(set(seen)) == 2


def test_an_error_in_a_block_is_raised_after_every_block_has_finished(two_threads):
    finished = []

    def work(rows):
        if rows.start == 0:  # the pool's block fails at once; the caller's own block is slow
            raise ValueError("block 0 failed")
        threading.Event().wait(0.2)
        finished.append(rows.start)

    with pytest.raises(ValueError, match="block 0 failed"):
        parallel.run_blocks(work, 10, parallel.MIN_BLOCK)
    assert finished == [5]


def test_a_block_that_splits_again_runs_its_parts_inline(two_threads):
    def inner(rows):
        return threading.get_ident()

    def outer(rows):
        return parallel.run_blocks(inner, 10, parallel.MIN_BLOCK)  # would wait on the busy pool if it split

    results = parallel.run_blocks(outer, 10, parallel.MIN_BLOCK)
    assert [len(r) for r in results] == [1, 2]  # inside the pool's block: one inline call; the caller splits


@pytest.mark.parametrize("layout", ["C", "transposed"])
def test_elementwise_is_the_ufunc_bit_for_bit_with_its_dtype_and_layout(two_threads, layout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 100, 24, 24)).astype(np.float32)
    if layout == "transposed":
        x = x.transpose(1, 0, 2, 3)  # a convolution's (C, N, H, W) memory seen as (N, C, H, W)
    for ufunc, operands in [(np.maximum, (x, 0)), (np.greater, (x, 0)), (np.multiply, (x, x > 0))]:
        expected = ufunc(*operands)
        got = parallel.elementwise(ufunc, *operands)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        assert got.strides == expected.strides  # the same memory layout NumPy's own call gives


def test_elementwise_leaves_small_or_odd_operands_to_numpy(two_threads):
    assert parallel.elementwise(np.maximum, np.float32(-2), 0) == 0
    np.testing.assert_array_equal(parallel.elementwise(np.maximum, np.array([-1.0, 2.0]), 0), [0.0, 2.0])
    np.testing.assert_array_equal(parallel.elementwise(np.maximum, [-1.0, 2.0], 0), [0.0, 2.0])


def test_matmul_splits_only_while_blas_is_on_one_thread_and_agrees_with_the_product(monkeypatch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((256, 784)).astype(np.float32)
    b = rng.standard_normal((784, 1000)).astype(np.float32)
    bias = rng.standard_normal(1000).astype(np.float32)
    splits = []
    real_run_blocks = parallel.run_blocks
    monkeypatch.setattr(parallel, "run_blocks", lambda *args: splits.append(args[1]) or real_run_blocks(*args))
    before = parallel.threads()
    parallel.set_threads(2)
    try:
        np.testing.assert_array_equal(parallel.matmul(a, b, add=bias), a @ b + bias)  # BLAS as it is: not split
        assert splits == []
        with blas_threads(1):
            got = parallel.matmul(a, b, add=bias)
            transposed = parallel.matmul(a.T[:300], b[:256])  # a transposed view, as Affine's xᵀ dout
            with pytest.raises(ValueError):
                parallel.matmul(a, b.T)  # mismatched shapes: NumPy's own error
    finally:
        parallel.set_threads(before)
    assert splits == [256, 300]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, a.astype(np.float64) @ b + bias, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(transposed, a.T[:300].astype(np.float64) @ b[:256], rtol=1e-4, atol=1e-3)


def test_threads_from_the_environment_and_bad_values():
    code = "from zerograd.engine import parallel; print(parallel.threads())"
    env = {**os.environ, "ZEROGRAD_THREADS": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
    env["ZEROGRAD_THREADS"] = "many"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "ZEROGRAD_THREADS must be a whole number" in out.stderr
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="whole number >= 1"):
            parallel.set_threads(bad)


def _relu_in_child(queue):
    x = np.linspace(-1, 1, 4 * parallel.MIN_BLOCK, dtype=np.float32)
    with blas_threads(1):
        queue.put(float(parallel.elementwise(np.maximum, x, 0).sum()))


def test_a_forked_child_gets_a_fresh_pool(two_threads):
    parallel.elementwise(np.maximum, np.ones(4 * parallel.MIN_BLOCK), 0)  # the parent's pool exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_relu_in_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0, "the child hung or failed on the parent's pool"
    x = np.linspace(-1, 1, 4 * parallel.MIN_BLOCK, dtype=np.float32)
    assert queue.get(timeout=5) == float(np.maximum(x, 0).sum())


def _train_steps(threads):
    from zerograd.convnets import SimpleConvNet
    from zerograd.optim import Adam

    parallel.set_threads(threads)
    rng = np.random.default_rng(3)
    x, t = rng.random((40, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 40)
    net = SimpleConvNet(hidden_size=100, dtype=np.float32, rng=0)
    optimizer = Adam()
    for _ in range(3):
        optimizer.update(net.params, net.gradient(x, t))
    return net


def test_a_convnet_trains_to_the_same_weights_on_one_thread_and_two():
    before = parallel.threads()
    try:
        one, two = _train_steps(1), _train_steps(2)
    finally:
        parallel.set_threads(before)
    # ReLU, pooling and Adam are elementwise (bit for bit); the products are split by rows or summed by blocks,
    # which may round differently in float32
    for key in one.params:
        np.testing.assert_allclose(two.params[key], one.params[key], rtol=1e-4, atol=1e-6, err_msg=key)


def test_keep_freed_memory_applies_once_and_can_be_declined():
    code = (
        "from zerograd.engine.memory import keep_freed_memory as k; import sys; "
        "print(k(), k(), sys.platform.startswith('linux'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False"  # the second call does nothing
    if out[2] == "True":
        assert out[0] == "True"  # glibc took the setting
    env = {**os.environ, "ZEROGRAD_MALLOC": "system"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[:2] == ["False", "False"]


def test_elementwise_broadcasts_as_numpy_does(two_threads):
    x = np.random.default_rng(2).standard_normal((8, 4 * parallel.MIN_BLOCK // 8)).astype(np.float32)
    row = x[:1]  # (1, M): broadcast over the rows, which must not be split with x's
    np.testing.assert_array_equal(parallel.elementwise(np.multiply, row, x > 0), row * (x > 0))
    np.testing.assert_array_equal(parallel.elementwise(np.multiply, x, row), x * row)
