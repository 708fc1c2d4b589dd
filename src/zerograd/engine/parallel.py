"""Large work over every core: a batch split into row blocks that threads work on at once.

NumPy runs a ufunc (``np.maximum``, ``np.multiply``, a strided copy) on one core, but it releases the GIL while it
does, so two threads, each given half of an array's rows, really run side by side. ``run_blocks(work, n)`` calls
``work(rows)`` for a few ``slice`` s covering ``range(n)`` — the last in the calling thread, the others in a small
pool — and returns when all are done. Each block's ``work`` writes its own rows of arrays allocated beforehand, so
an elementwise result is the same, bit for bit, as one call over every row (a product summed over blocks, a
convolution's ``dW``, may round differently in the last bit).

Work is split only while ``zerograd.threads`` holds BLAS to one thread — during a training step of a net whose
products are small or convolutional, the nets' own choice — so that BLAS's threads and zerograd's never share
the cores. Measured here (2 cores, OpenBLAS 0.3.31): ReLU over SimpleConvNet's ``(100, 30, 24, 24)`` float32
activations 1.46 → 0.95 ms, the convolution's ``(30, 26) @ (26, 57600)`` product on one BLAS thread per block
2.07 → 1.26 ms. A hand-off to the pool costs some 20–50 µs, and the halves end up in two cores' caches, so
arrays under ``2 * MIN_BLOCK`` elements are not split.

The number of threads is the number of cores this process may use; ``set_threads(n)`` or the environment variable
``ZEROGRAD_THREADS`` changes it (``1``: everything in the calling thread, as ``zerograd tune`` workers run, one
process per core).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MIN_BLOCK",
    "MIN_PRODUCT_BLOCK",
    "blocks",
    "cgroup_cpu_limit",
    "cores",
    "elementwise",
    "from_environment",
    "matmul",
    "run_blocks",
    "set_threads",
    "threads",
    "using_threads",
]

# Elements a block must hold before a split of a one-pass job (ReLU, pooling) pays: below it, the hand-off and
# the halves left in two cores' caches for the next (unsplit) step cost more than the second core saves.
# Measured here: ReLU on the wide net's (256, 1000) activations took 0.25-0.31 ms split, 0.13 ms whole; on
# SimpleConvNet's (100, 30, 24, 24) 0.95 ms split, 1.46 ms whole.
MIN_BLOCK = 1 << 18
# Multiply-adds a block of a matrix product must hold: the chapter's (100, 784) @ (784, 50), 3.9 M in all, is
# not split (its step is a few hundred microseconds, hand-offs would show), SimpleConvNet's (100, 4320) @ (4320,
# 100) is (forward 0.80 → 0.72 ms, dW 0.9–1.1 → 0.6–0.8 ms, dx about even).
MIN_PRODUCT_BLOCK = 1 << 21

# Above zero while zerograd.threads holds BLAS to one thread. Only then is work split here: a split product on a
# BLAS with its own threads would run (our threads) x (BLAS threads) at once, and BLAS's threads keep spinning on
# the cores for a while after each product, so elementwise blocks beside them lose too. Either BLAS's threads or
# zerograd's, never both: the 784-1000-10 net, whose big products get BLAS's own threads, is left as it was.
_blas_one_thread = 0

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def cores() -> int:
    """The cores this process may use: its CPU affinity, bounded by a cgroup CPU quota (a container's
    ``--cpus 1.5`` allows 2 threads at once, so 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    return max(1, min(cores, quota)) if quota is not None else cores


def cgroup_cpu_limit(path: str = "/sys/fs/cgroup/cpu.max") -> int | None:
    """Whole CPUs the cgroup v2 quota ``cpu.max`` allows (``"150000 100000"`` → 2), None when unlimited/absent."""
    try:
        with open(path, encoding="ascii") as f:
            fields = f.read(64).split()
    except OSError:
        return None
    if len(fields) != 2 or fields[0] == "max" or not (fields[0].isdigit() and fields[1].isdigit()):
        return None
    quota, period = int(fields[0]), int(fields[1])
    return -(-quota // period) if quota > 0 and period > 0 else None


def threads() -> int:
    """How many threads ``run_blocks`` splits work between (1: no split)."""
    global _threads
    if _threads is None:
        value = os.environ.get("ZEROGRAD_THREADS", "").strip()
        if not value:
            _threads = min(cores(), 8)
        elif value.isdigit() and int(value) >= 1:
            _threads = int(value)
        else:
            raise ValueError(f"ZEROGRAD_THREADS must be a whole number of threads >= 1, got {value!r}")
    return _threads


def from_environment() -> bool:
    """True when ``ZEROGRAD_THREADS`` sets the thread count (no choice of zerograd's then changes it)."""
    return bool(os.environ.get("ZEROGRAD_THREADS", "").strip())


@contextlib.contextmanager
def using_threads(count: int) -> Iterator[None]:
    """Split work between ``count`` threads within the block, then back to the setting before it."""
    global _threads, _pool
    before = _threads
    if count == threads():
        yield
        return
    set_threads(count)
    try:
        yield
    finally:
        with _lock:
            _threads = before
            if _pool is not None:
                _pool.shutdown(wait=False)
                _pool = None


def set_threads(count: int | None) -> None:
    """Split work between ``count`` threads from now on (``None``: back to the default, one per core)."""
    global _threads, _pool
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError(f"the number of threads must be a whole number >= 1, got {count!r}")
    with _lock:
        _threads = count
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def blocks(n: int, elements_per_row: int = 1, minimum: int = MIN_BLOCK) -> list[slice]:
    """``range(n)`` as at most ``threads()`` slices of near-equal length, each holding at least ``minimum``
    elements (rows times ``elements_per_row``); a single ``slice(0, n)`` when the work is too small to split, or
    while BLAS is not held to one thread (its own threads then use the cores, and would spin on ours)."""
    if not _blas_one_thread:
        return [slice(0, n)]
    parts = max(1, min(threads(), n, (n * elements_per_row) // minimum))
    bounds = [n * k // parts for k in range(parts + 1)]
    return [slice(bounds[k], bounds[k + 1]) for k in range(parts)]


def run_blocks(work: Callable[[slice], object], n: int, elements_per_row: int = 1, minimum: int = MIN_BLOCK) -> list:
    """Call ``work(rows)`` for each of ``blocks(n, elements_per_row, minimum)`` at once; their results in order.

    ``work`` must touch only its own rows of the outputs. An exception in any block is raised here, after every
    block has finished (none is left writing into arrays the caller may reuse).
    """
    parts = blocks(n, elements_per_row, minimum)
    if len(parts) == 1 or getattr(_inside, "block", False):  # one block, or already in one: no nested hand-off
        return [work(parts[0])]
    pool = _get_pool()
    futures: list[Future] = [pool.submit(_as_block, work, rows) for rows in parts[:-1]]
    try:
        last = work(parts[-1])
    finally:
        for future in futures:
            future.exception()  # wait for every block, even when the caller's own block failed
    return [future.result() for future in futures] + [last]


def elementwise(ufunc: np.ufunc, *operands: Any) -> NDArray:
    """``ufunc(*operands)`` with its work split over row blocks: ``elementwise(np.maximum, x, 0)``.

    Split when the array operands all have the first one's shape (scalars are fine); otherwise (broadcasting
    between arrays) NumPy's own call. The result has the memory layout of the first operand, like NumPy's own.
    """
    first = operands[0]
    # the common case first, cheaply: a small array (the chapter's nets) goes straight to NumPy
    if (
        getattr(first, "size", 0) < 2 * MIN_BLOCK
        or not _blas_one_thread
        or not isinstance(first, np.ndarray)
        or threads() == 1
    ):
        return ufunc(*operands)
    arrays = [isinstance(a, np.ndarray) and a.ndim > 0 for a in operands]
    if any(is_array and a.shape != first.shape for a, is_array in zip(operands, arrays, strict=True)):
        return ufunc(*operands)  # a broadcast: rows of one operand are not rows of the other
    # the result's dtype as NumPy would choose it, from the same call on no rows (a microsecond)
    dtype = ufunc(*(a[:0] if is_array else a for a, is_array in zip(operands, arrays, strict=True))).dtype
    out = np.empty_like(first, dtype=dtype)  # keeps the first operand's memory layout

    def work(rows: slice) -> None:
        ufunc(*(a[rows] if is_array else a for a, is_array in zip(operands, arrays, strict=True)), out=out[rows])

    run_blocks(work, first.shape[0], first.size // first.shape[0])
    return out


def matmul(a: NDArray, b: NDArray, add: NDArray | None = None) -> NDArray:
    """``a @ b`` (plus ``add``, broadcast over the rows: a bias) for 2-D arrays, in blocks of ``a``'s rows on
    separate threads when the product is large and BLAS is held to one thread (as a net's training step holds it).

    Shape: a (N, K), b (K, M), add (M,) → (N, M).
    """
    try:  # the common case first, cheaply (a microsecond a call shows on the chapter's net): a small product
        small = a.shape[0] * b.size < 2 * MIN_PRODUCT_BLOCK  # rows x K x M multiply-adds
    except (AttributeError, IndexError):
        small = True
    if (
        small
        or not _blas_one_thread
        or not isinstance(a, np.ndarray)
        or not isinstance(b, np.ndarray)
        or a.ndim != 2
        or b.ndim != 2
        or a.shape[1] != b.shape[0]
        or threads() == 1
    ):
        out = a @ b
        if add is not None:
            out += add
        return out
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))

    def multiply(rows: slice) -> None:
        np.matmul(a[rows], b, out=out[rows])
        if add is not None:
            out[rows] += add  # while this block's rows are still in this core's cache

    run_blocks(multiply, a.shape[0], a.shape[1] * b.shape[1], MIN_PRODUCT_BLOCK)
    return out


def hold_blas_to_one_thread(held: bool) -> None:
    """Called by ``zerograd.threads`` as it starts (True) and stops (False) holding BLAS to one thread."""
    global _blas_one_thread
    with _lock:  # a server may train in one thread while others predict
        _blas_one_thread += 1 if held else -1


_inside = threading.local()  # .block is True in the pool's threads while they run a block


def _as_block(work: Callable[[slice], object], rows: slice) -> object:
    _inside.block = True
    try:
        return work(rows)
    finally:
        _inside.block = False


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, threads() - 1), thread_name_prefix="zerograd")
        return _pool


def _forget_pool_after_fork() -> None:
    # a forked child has none of the parent's threads: a pool inherited from the parent would wait forever
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool_after_fork)
