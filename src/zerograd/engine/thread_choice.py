"""Threads chosen by timing the run's own steps, the way cuDNN's benchmark mode picks a kernel.

A setting is a number of BLAS threads and a number of zerograd threads (``zerograd.parallel``, which splits work
only while BLAS runs on one thread). ``zerograd.threads`` gives a rule by the net's sizes — the *reference* — but
the fastest setting also depends on what else runs on the machine: with two busy processes on two cores, the
``784-256-128-10`` net ran 2.4x faster on one BLAS thread than on the rule's two (issue 24). So before the first
epoch the Trainer times a few steps of the net on its first batch under each candidate,

    reference    (rule's BLAS threads, zerograd's threads)
    (1, 1)       everything in the calling thread
    (1, cores)   BLAS on one thread, zerograd's blocks on every core
    (cores, 1)   BLAS's own threads

alternating between them (three rounds of about 20 ms each, five of 60 ms on a busy machine; means), and keeps the
fastest; after each epoch it compares the epoch's time per step with the first epoch under that setting, and times
them again when it drifted by more than ``DRIFT``. ``cores`` is what the process may use: its CPU affinity and its
cgroup's ``cpu.max`` quota.

NOTE: OpenBLAS does not give the same bits on one thread and on two for every product (``(100, 784) @
(784, 256)`` differs in the last bit here), and a convolution's ``dW`` is summed over as many blocks as zerograd has
threads. So each candidate's gradients on the probe batches (the full batch and the last, short one) are compared
bit for bit with the reference's, and the modes differ in what they do with a candidate of other bits:

- ``"auto"`` (the default) keeps the rule's bits unless the timing found the machine busy (stalling steps, a
  single thread kept off the CPU, a load average above the cores: see ``_time``) and a candidate of other bits is at
  least ``COLLAPSE`` times faster on average than every candidate with them (the ``784-256-128-10`` net's step
  2.3x slower on two BLAS threads than on one beside two busy processes). On a quiet machine the run is the rule's
  run, bit for bit; when it takes the faster setting it says so (``note``), decides before the first step and
  records the decision in the config (``blas_threads``, ``zerograd_threads``: saved in the checkpoint, so
  ``--resume`` continues with it, bit for bit).
- ``"identical"`` never uses a candidate of other bits: the run is the rule's run whatever the load.
- ``"fastest"`` takes the fastest candidate, decided and recorded as ``"auto"`` records a rescue; two new runs on
  a machine under different loads may then differ in the last bits.
- ``"off"``: the rule, untimed.

After the first step only candidates with the bits of the setting in use may replace it (when an epoch drifted).
``ZEROGRAD_THREADS`` fixes zerograd's threads and ``blas_threads=`` BLAS's: only the rest is chosen.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import parallel
from .threads import blas_threads, blas_threads_for

__all__ = ["DRIFT", "THREAD_CHOICES", "Setting", "ThreadChoice"]

THREAD_CHOICES = ("auto", "identical", "fastest", "off")
DRIFT = 0.25  # an epoch's time per step this far from the first epoch under the setting: time the candidates again
ROUNDS = 3  # alternating rounds over the candidates; each candidate's time is the median of its rounds
# timed steps per candidate and round (after one untimed step, whose gradients are compared): for about STEP_BUDGET
# seconds; a busy machine (see ThreadChoice._time) gets BUSY_ROUNDS rounds of BUSY_STEP_BUDGET; a stall is a step
# UNSTEADY times another of its window
MIN_STEPS, MAX_STEPS, STEP_BUDGET = 2, 30, 0.02
# (and by STALL seconds at least: a step of microseconds varies threefold with a cache miss on any machine)
UNSTEADY, STALL, BUSY_ROUNDS, BUSY_STEP_BUDGET = 3.0, 0.002, 5, 0.06
# ... and no more steps a window than 1/RUN_SHARE of the run's, spread over the first timing (1/BUSY_RUN_SHARE busy)
RUN_SHARE, BUSY_RUN_SHARE = 20, 4
ON_CPU = 0.8  # a single thread on the CPU less than this share of the wall time: other processes hold the cores
COLLAPSE = 1.5  # "auto": other bits only when this many times faster than every same-bits candidate


@dataclass(frozen=True)
class Setting:
    """BLAS threads and zerograd's threads for a training step."""

    blas: int | None  # None: the BLAS library's own number (what the rule leaves to it for large products)
    zerograd: int

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        with blas_threads(self.blas), parallel.using_threads(self.zerograd):
            yield

    def __str__(self) -> str:
        return f"BLAS {self.blas or 'default'}, zerograd {self.zerograd}"


class ThreadChoice:
    """The setting a Trainer trains under: ``choose()`` before the first epoch, ``after_epoch()`` after each.

    ``log`` keeps each timing: ``(epoch, {setting: seconds per step}, chosen)``; ``excluded`` the candidates left
    out because their gradients differ in the last bits from the reference's.
    """

    def __init__(
        self,
        net: Any,
        probes: list[tuple[NDArray, NDArray]],
        reference: Setting,
        candidates: list[Setting],
        mode: str,
        planned_steps: int | None = None,
        cores: int = 1,
    ) -> None:
        """planned_steps: the run's steps, which bound the timing's (None: no bound but MAX_STEPS); cores: what
        the process may use."""
        self.net, self.probes, self.reference, self.mode = net, probes, reference, mode
        self.candidates = candidates
        self.excluded: list[Setting] = []
        self.log: list[tuple[int, dict[Setting, float], Setting]] = []
        self.setting = reference
        self.note: str | None = None  # "auto": why the run left the rule's bits, when it did (one line)
        self.busy = False  # the last timing found other processes taking the cores
        self.cores = cores
        # timed steps per window at most, quiet and busy. NOTE: the timing may take about 1/RUN_SHARE of the
        # run's own steps: a tune trial of 250 steps (or the browser's short runs) times 2 steps a window, as
        # before, where a 10,000-step run affords MAX_STEPS; where a wrong choice costs more, more of it
        self.max_steps = self.busy_max_steps = MAX_STEPS
        if planned_steps is not None:
            quiet, busy = RUN_SHARE * len(candidates) * ROUNDS, BUSY_RUN_SHARE * len(candidates) * BUSY_ROUNDS
            self.max_steps = max(MIN_STEPS, min(MAX_STEPS, planned_steps // quiet))
            self.busy_max_steps = max(MIN_STEPS, min(MAX_STEPS, planned_steps // busy))
        self._baseline: float | None = None  # seconds per step of the first epoch under self.setting

    @classmethod
    def for_trainer(
        cls,
        net: Any,
        x: NDArray,
        t: NDArray,
        batch_size: int,
        config: Any,
        resumed: bool = False,
        cores: int | None = None,
    ) -> ThreadChoice | None:
        """The choice for this run, or None for a net whose state the timing steps could not put back (only
        zerograd's nets are timed; others train under the rule). resumed: the run continues a checkpoint, so a
        "fastest" run's recorded decision stands (only same-bits candidates may replace it)."""
        mode = getattr(config, "thread_choice", "identical")
        if mode in ("fastest", "auto") and resumed:
            mode = "identical"  # a decision to leave the rule's bits was recorded in the config, if one was made
        if not (hasattr(net, "buffers") and hasattr(net, "random_states")) or len(x) == 0:
            return None
        cores = parallel.cores() if cores is None else cores
        # "identical" leaves a large net's BLAS at the library's own count, as the rule does; "fastest" and "auto"
        # may record the setting, so they name a number
        many = None if mode == "identical" else cores
        rule = blas_threads_for(net.params.values(), batch_size)
        fixed_blas = getattr(config, "blas_threads", None)
        fixed_zerograd = getattr(config, "zerograd_threads", None)
        if parallel.from_environment():
            fixed_zerograd = parallel.threads()
        reference = Setting(fixed_blas or rule or many, fixed_zerograd or parallel.threads())
        if mode == "off" or cores < 2:
            return cls(net, [], reference, [reference], mode, cores=cores)
        options = [reference, Setting(1, 1), Setting(1, cores), Setting(many, 1)]
        candidates: list[Setting] = []
        for option in options:
            option = Setting(fixed_blas or option.blas, fixed_zerograd or option.zerograd)
            if option not in candidates:
                candidates.append(option)
        n = len(x)
        probes = [(x[:batch_size], t[:batch_size])]
        if n % batch_size and n > batch_size and getattr(config, "sampling", "epoch") == "epoch":
            probes.append((x[: n % batch_size], t[: n % batch_size]))  # the short last batch has its own shapes
        planned = math.ceil(n / batch_size) * int(getattr(config, "epochs", 1))
        return cls(net, probes, reference, candidates, mode, planned_steps=planned, cores=cores)

    def choose(self, epoch: int) -> Setting:
        """Time the candidates and keep the fastest allowed (the reference when there is one candidate)."""
        if len(self.candidates) > 1:
            self._choose(epoch, first=True)
        return self.setting

    def after_epoch(self, epoch: int, seconds_per_step: float) -> Setting:
        """Told each epoch's training time per step; times the candidates again when it drifted."""
        if self._baseline is None:
            self._baseline = seconds_per_step
        elif len(self.candidates) > 1 and abs(seconds_per_step / self._baseline - 1) > DRIFT:
            self._choose(epoch, first=False)
            self._baseline = None  # the next epoch under the (new) setting is the new baseline
        return self.setting

    # -- timing ----------------------------------------------------------------------------------------------

    def _choose(self, epoch: int, first: bool) -> None:
        state = _NetState(self.net)
        try:
            times, rounds, grads = self._time(self.candidates)
        finally:
            state.restore()
        if first:
            self.excluded = [s for s in self.candidates if not _same_bits(grads[s], grads[self.reference])]
        allowed = [s for s in self.candidates if not (first and self.mode != "fastest" and s in self.excluded)]
        self.setting = min(allowed, key=times.__getitem__)
        if first and self.mode == "auto" and self.excluded:
            other = min(self.excluded, key=times.__getitem__)
            # NOTE: only on a machine the timing found busy (steps stalling), so that a quiet machine's run is always
            # the rule's, bit for bit; there, 1.5x on the mean (the stalls come and go: an epoch pays for them all)
            if self.busy and times[other] * COLLAPSE <= times[self.setting]:
                self.note = (
                    f"threads: {other}, {times[self.setting] / times[other]:.1f}x faster than {self.setting} on "
                    "this busy machine; the last bits may differ from a quiet machine's run "
                    "(--thread-choice identical keeps them)"
                )
                self.setting = other
        if first:
            # NOTE: decided before the first step and kept for the run (a checkpoint records a setting of other
            # bits): from here on only candidates that give this setting's bits may replace it
            self.candidates = [s for s in self.candidates if _same_bits(grads[s], grads[self.setting])]
        self.log.append((epoch, times, self.setting))

    @property
    def left_the_rules_bits(self) -> bool:
        """The setting in use gives other bits than the rule's (what ``fastest`` or a rescue by ``auto`` may do)."""
        return self.setting in self.excluded

    def _time(
        self, candidates: list[Setting]
    ) -> tuple[dict[Setting, float], dict[Setting, list[float]], dict[Setting, list[NDArray]]]:
        """Seconds per step of each candidate (the mean of its rounds), its rounds, and its probe gradients.

        Each candidate-round (a window) takes steps for about ``STEP_BUDGET`` seconds (``MIN_STEPS`` to
        ``max_steps``). The first round also asks whether another process is taking the cores: a step that stalled
        (``UNSTEADY`` times another of its window and ``STALL`` seconds longer), the single-threaded setting's
        thread running less than ``ON_CPU`` of its window's wall time, or a load average above the cores. Then the
        timing goes on for ``BUSY_ROUNDS`` rounds of ``BUSY_STEP_BUDGET`` and up to ``busy_max_steps``: a wrong choice
        there costs twice the run.

        NOTE: the mean, not the median: on a busy machine a setting's steps are fast for a while and then stall for
        tens of milliseconds when a thread is descheduled. An epoch pays for the stalls, so the timing must too.
        """
        rounds: dict[Setting, list[float]] = {s: [] for s in candidates}
        grads: dict[Setting, list[NDArray]] = {}
        x, t = self.probes[0]
        n_rounds, budget, max_steps = ROUNDS, STEP_BUDGET, self.max_steps
        stalled, on_cpu = False, []
        round_ = 0
        while round_ < n_rounds:
            for setting in candidates if round_ % 2 == 0 else reversed(candidates):
                with setting.applied():
                    if round_ == 0:  # also the window's warm-up step
                        grads[setting] = [
                            np.array(g) for x_, t_ in self.probes for g in self.net.gradient(x_, t_).values()
                        ]
                    steps, fastest, slowest = 0, math.inf, 0.0
                    start, cpu_start = time.perf_counter(), time.thread_time()
                    while True:
                        begun = time.perf_counter()
                        self.net.gradient(x, t)
                        ended = time.perf_counter()
                        steps += 1
                        if steps > 1:  # the first step of a window may wake sleeping threads
                            fastest, slowest = min(fastest, ended - begun), max(slowest, ended - begun)
                        if steps >= max_steps or (steps >= MIN_STEPS and ended - start >= budget):
                            break
                    rounds[setting].append((ended - start) / steps)
                    stalled = stalled or (slowest > UNSTEADY * fastest and slowest - fastest > STALL)
                    if setting == Setting(1, 1):  # all of it in this thread: its CPU time is the step's
                        on_cpu.append((time.thread_time() - cpu_start) / (ended - start))
            round_ += 1
            if round_ == 1 and (stalled or (on_cpu and min(on_cpu) < ON_CPU) or _loaded(self.cores)):
                self.busy = True
                n_rounds, budget, max_steps = BUSY_ROUNDS, BUSY_STEP_BUDGET, self.busy_max_steps
            elif round_ == 1:
                self.busy = False
        return {s: statistics.fmean(r) for s, r in rounds.items()}, rounds, grads


def _loaded(cores: int) -> bool:
    """The last minute's load average says other processes want the cores (more runnable than cores, by half
    one): a few timed steps can fall between their time slices, a minute's average does not."""
    try:
        return os.getloadavg()[0] >= cores + 0.5
    except OSError:  # no load average on this system
        return False


class _NetState:
    """What a timing step changes in a net and the run must not see: BatchNorm's running statistics (updated by
    every training-mode forward) and Dropout's generators (each step draws masks)."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.buffers = {key: np.array(value) for key, value in net.buffers.items()}
        self.random = net.random_states()

    def restore(self) -> None:
        for key, value in self.buffers.items():
            np.copyto(self.net.buffers[key], value)
        self.net.set_random_states(self.random)


def _same_bits(a: list[NDArray], b: list[NDArray]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True)
    )
