"""Samplers whose randomness comes from the trial, not from the process: no two workers repeat each other.

Optuna's samplers draw from one stream per process, seeded once: two workers with the same seed try the same
values, and a second run that continues a study starts the stream again, re-sampling the first run's points (with
TPE, its first trials are random ones: trials 4-7 were trials 0-3 again). Here each trial draws from a generator
seeded with ``(seed, the trial's number)``, and trial numbers are unique in a study, so every worker on every
machine, in every run, draws each trial's values from a stream of its own.

- ``TrialSeededRandomSampler``: the book's random search; trial ``k`` has the same values in every run — one
  worker or many, pruned or not — which makes "halving against none on the same 100-trial search" a like-for-like
  comparison.
- ``TrialSeededSampler``: any Optuna sampler (TPE here), made afresh for each trial with that trial's seed; the
  study's history, which TPE learns from, still comes from the storage.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

__all__ = ["TrialSeededRandomSampler", "TrialSeededSampler", "trial_seed"]


def trial_seed(seed: int, number: int) -> int:
    """The 32-bit seed of trial ``number`` in a search seeded with ``seed``."""
    return int(np.random.SeedSequence([int(seed) % 2**63, int(number)]).generate_state(1)[0])


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """``make(seed)``'s sampler for each trial, seeded with ``trial_seed(seed, trial.number)``.

    Every call about a trial goes to that trial's own sampler (made at its first call, dropped when the trial
    ends), so what it draws depends on the study's stored trials and the trial's number, never on the process.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int = 0) -> None:
        self.make, self.seed = make, int(seed)
        self._samplers: dict[int, optuna.samplers.BaseSampler] = {}

    def _sampler(self, trial: Any) -> optuna.samplers.BaseSampler:
        if trial.number not in self._samplers:
            self._samplers = {trial.number: self.make(trial_seed(self.seed, trial.number))}  # one trial at a time
        return self._samplers[trial.number]

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, BaseDistribution]:
        return self._sampler(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self._sampler(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, param_name: str, dist: BaseDistribution) -> Any:
        return self._sampler(trial).sample_independent(study, trial, param_name, dist)

    def before_trial(self, study: Any, trial: Any) -> None:
        self._sampler(trial).before_trial(study, trial)

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        self._sampler(trial).after_trial(study, trial, state, values)
        self._samplers.pop(trial.number, None)

    def reseed_rng(self) -> None:
        pass  # the seeds come from the trials: nothing of the process to reseed


class TrialSeededRandomSampler(optuna.samplers.BaseSampler):
    """Each value independent and uniform (log-uniform on a log distribution), keyed by the trial's number."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: Any, trial: Any, param_name: str, dist: BaseDistribution) -> Any:
        rng = np.random.default_rng([self.seed, trial.number, zlib.crc32(param_name.encode())])
        if isinstance(dist, CategoricalDistribution):
            return dist.choices[int(rng.integers(len(dist.choices)))]
        if isinstance(dist, FloatDistribution):
            if dist.log:  # NOTE: uniform in log space, as the book's 10 ** uniform(-6, -2)
                return float(math.exp(rng.uniform(math.log(dist.low), math.log(dist.high))))
            return float(rng.uniform(dist.low, dist.high))
        if isinstance(dist, IntDistribution):
            if dist.log:  # each integer gets the share of [log low, log high] nearest to it
                value = math.exp(rng.uniform(math.log(dist.low - 0.5), math.log(dist.high + 0.5)))
                return int(min(max(round(value), dist.low), dist.high))
            return int(rng.integers(dist.low, dist.high + 1))
        raise TypeError(f"TrialSeededRandomSampler: unsupported distribution {dist!r}")
