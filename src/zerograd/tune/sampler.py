"""Random search whose values depend on the trial number alone: the book's sampler, made reproducible.

Optuna's ``RandomSampler(seed)`` draws from one stream per process: two workers with the same seed would try the
same values, and a run's values depend on which worker took which trial. Here trial ``k`` draws from a generator
seeded with ``(seed, k, the parameter's name)``, so trial ``k`` has the same values in every run — one worker or
many, pruned or not — which makes "halving against none on the same 100-trial search" a like-for-like comparison.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

__all__ = ["TrialSeededRandomSampler"]


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
