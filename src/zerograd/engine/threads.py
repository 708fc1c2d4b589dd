"""How many BLAS threads a training run gets: one for small layers and convolutional nets, the library's default
for large products.

On small products — the chapter's ``(100, 784) @ (784, 50)`` — a second BLAS thread costs more in hand-offs and
spinning than it saves: measured here, an epoch of the 784-50-10 net at batch 100 took 0.30 s on one thread and
0.50 s on two. From about ``(100, 784) @ (784, 100)`` upwards the two are even, and for the 784-1000-10 net at
batch 256 two threads are 1.4x faster.

A convolutional net (any 4-D weight) gets one BLAS thread too, and then zerograd uses the cores itself
(``zerograd.parallel``): its epoch is dominated by passes over large activations (ReLU, pooling, the im2col copy)
and its products are skinny, so blocks of samples go to separate threads, each product on one BLAS thread.
Measured on SimpleConvNet (batch 100, float32, 2 cores), a step took 12.6 ms this way against 16.9 ms on one
thread for everything (medians of 5 alternating processes), and a second BLAS thread alone had tripled the CPU
time of an epoch: its workers spin on a core after each product, while NumPy's next pass needs it. zerograd
splits work only while BLAS is held to one thread, so the two pools never share the cores.

Two ways to apply the choice: ``blas_threads(limit)``, a block for a whole run (the Trainer's; it costs about a
millisecond, threadpoolctl looks up the loaded libraries), and ``BlasLimit``, which a net's ``gradient`` applies on
every call (microseconds: it keeps the library handles), so a user's own loop over ``net.gradient`` gets the
same choice. Inside a ``blas_threads`` block the nets leave the setting alone: an explicit choice wins. Both tell
``zerograd.parallel`` while BLAS is held to one thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from . import parallel

__all__ = ["SMALL_PRODUCT", "BlasLimit", "blas_threads", "blas_threads_for"]

# Multiply-adds of a net's largest matrix product below which one BLAS thread is faster (see the docstring).
SMALL_PRODUCT = 8_000_000


def blas_threads_for(weights: Iterable[np.ndarray], batch_size: int) -> int | None:
    """1 when every ``(batch, n_in) @ W`` product of a net is small, else ``None`` (no limit).

    weights: the net's parameter arrays (``net.params.values()``); the 2-D ones ``W: (n_in, n_out)`` count, and
    any 4-D one (convolution filters) makes it 1.
    """
    weights = list(weights)
    if any(np.ndim(w) == 4 for w in weights):
        return 1
    largest = max((batch_size * w.shape[0] * w.shape[1] for w in weights if np.ndim(w) == 2), default=0)
    return 1 if largest < SMALL_PRODUCT else None


# Open blas_threads() blocks: while one is open, an explicit choice is in force and BlasLimit does nothing.
_explicit_blocks = 0


@contextlib.contextmanager
def blas_threads(limit: int | None) -> Iterator[None]:
    """Within the block, BLAS uses at most ``limit`` threads (``None``: leave it as it is); the nets' own
    per-call choice (``BlasLimit``) is switched off inside."""
    global _explicit_blocks
    _explicit_blocks += 1
    try:
        if limit is None:
            yield
            return
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=limit, user_api="blas"):
            if limit == 1:
                parallel.hold_blas_to_one_thread(True)
            try:
                yield
            finally:
                if limit == 1:
                    parallel.hold_blas_to_one_thread(False)
    finally:
        _explicit_blocks -= 1


class BlasLimit:
    """At most ``limit`` BLAS threads between ``enter()`` and ``exit()``, cheap enough to wrap every training step.

        limit = BlasLimit(1)
        limit.enter()
        try:
            ...  # the products of one step
        finally:
            limit.exit()

    Does nothing inside a ``blas_threads`` block, or when the BLAS already runs on ``limit`` threads or fewer.
    """

    _libraries: list | None = None  # threadpoolctl's handles on the loaded BLAS libraries, found once

    def __init__(self, limit: int) -> None:
        self.limit = int(limit)
        self._restore: list[tuple[Any, int]] = []
        self._held = False  # told zerograd.parallel that BLAS is on one thread

    @classmethod
    def _blas(cls) -> list:
        if cls._libraries is None:
            from threadpoolctl import ThreadpoolController

            cls._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        return cls._libraries

    def enter(self) -> None:
        if _explicit_blocks:
            return
        for library in self._blas():
            threads = library.num_threads
            if threads > self.limit:
                library.set_num_threads(self.limit)
                self._restore.append((library, threads))
        if self.limit == 1:
            self._held = True
            parallel.hold_blas_to_one_thread(True)

    def exit(self) -> None:
        if self._held:
            self._held = False
            parallel.hold_blas_to_one_thread(False)
        while self._restore:
            library, threads = self._restore.pop()
            library.set_num_threads(threads)
