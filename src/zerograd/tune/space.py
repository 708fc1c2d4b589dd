"""What a study searches: each hyperparameter is a fixed value, a range, or a set of choices.

    FloatRange(1e-6, 1e-2, log=True)      # the book's lr = 10 ** uniform(-6, -2)
    IntRange(32, 256, log=True)           # batch sizes, log-uniform integers
    Choice(("sgd", "adam"))               # one of these, each equally likely under the random sampler
    0.01                                  # fixed: not searched, the same in every trial

On the command line the same three forms are written ``1e-6..1e-2`` (``:log`` or ``:linear`` may follow),
``sgd/adam`` and ``0.01``; ``parse_param`` reads them. ``to_distribution`` turns a range or a choice into the
Optuna distribution a trial samples from; ``describe`` writes it back as the command line spells it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Choice",
    "FloatRange",
    "IntRange",
    "Param",
    "SearchError",
    "describe",
    "is_searched",
    "parse_hidden",
    "parse_param",
    "to_distribution",
]


class SearchError(ValueError):
    """A search space that cannot be searched: an empty range, a log range through 0, an unknown choice."""


@dataclass(frozen=True)
class FloatRange:
    """Real numbers in ``[low, high]``; ``log=True`` samples ``exp(uniform(log low, log high))``."""

    low: float
    high: float
    log: bool = False

    def check(self, name: str) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise SearchError(f"{name}: the range {self.low:g}..{self.high:g} must have finite ends")
        if not self.low < self.high:
            raise SearchError(
                f"{name}: the range {self.low:g}..{self.high:g} is empty (low must be below high); "
                f"for one value write it alone"
            )
        if self.log and self.low <= 0:
            raise SearchError(
                f"{name}: a log range needs low > 0, got {self.low:g}..{self.high:g}; add :linear or raise low"
            )


@dataclass(frozen=True)
class IntRange:
    """Integers in ``[low, high]``; ``log=True`` makes each factor of 2 equally likely (batch sizes, widths)."""

    low: int
    high: int
    log: bool = False

    def check(self, name: str) -> None:
        if not self.low < self.high:
            raise SearchError(
                f"{name}: the range {self.low}..{self.high} is empty (low must be below high); "
                f"for one value write it alone"
            )
        if self.log and self.low < 1:
            raise SearchError(f"{name}: a log range needs low >= 1, got {self.low}..{self.high}")


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (numbers or strings; hidden sizes as ``"100,100"``)."""

    options: tuple[Any, ...]

    def check(self, name: str) -> None:
        if len(self.options) < 2:
            raise SearchError(f"{name}: give at least two choices, got {list(self.options)!r}")
        if len(set(self.options)) != len(self.options):
            raise SearchError(f"{name}: a choice is repeated in {list(self.options)!r}")


Param = FloatRange | IntRange | Choice  # or a plain fixed value


def is_searched(value: Any) -> bool:
    return isinstance(value, (FloatRange, IntRange, Choice))


def to_distribution(value: Param) -> Any:
    """The Optuna distribution of a searched value (needs optuna)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(value, FloatRange):
        return FloatDistribution(value.low, value.high, log=value.log)
    if isinstance(value, IntRange):
        return IntDistribution(value.low, value.high, log=value.log)
    return CategoricalDistribution(list(value.options))


def describe(value: Any) -> str:
    """The command line's spelling: ``1e-06..0.01:log``, ``sgd/adam``, ``0.01``, ``100,100``."""
    if isinstance(value, (FloatRange, IntRange)):
        return f"{value.low:g}..{value.high:g}:{'log' if value.log else 'linear'}"
    if isinstance(value, Choice):
        return "/".join(str(o) for o in value.options)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_param(name: str, text: str, kind: type, log: bool = False, choices: tuple[str, ...] | None = None) -> Any:
    """Read ``LOW..HIGH[:log|:linear]``, ``A/B/C`` or a single value of ``kind`` (float, int or str).

    log: whether a range without a suffix is log-uniform (lr and weight decay: yes, as in the book).
    choices: the allowed strings for a ``str`` parameter (optimizer names).
    """
    text = str(text).strip()
    if ".." in text:
        if kind is str:
            raise SearchError(f"{name}: a range needs numbers; write choices as a/b/c, got {text!r}")
        bounds, _, scale = text.partition(":")
        if scale not in ("", "log", "linear", "lin"):
            raise SearchError(f"{name}: the range scale must be :log or :linear, got {text!r}")
        low_text, _, high_text = bounds.partition("..")
        low, high = _number(name, low_text, kind), _number(name, high_text, kind)
        use_log = log if scale == "" else scale == "log"
        value: Any = FloatRange(float(low), float(high), use_log) if kind is float else IntRange(low, high, use_log)
        value.check(name)
        return value
    parts = [p.strip() for p in text.split("/")]
    values = tuple(_number(name, p, kind) if kind is not str else p.lower() for p in parts)
    if kind is str and choices is not None:
        for v in values:
            if v not in choices:
                raise SearchError(f"{name}: unknown value {v!r}; choose from {', '.join(choices)}")
    if len(values) == 1:
        return values[0]
    choice = Choice(values)
    choice.check(name)
    return choice


def parse_hidden(text: str) -> tuple[int, ...] | Choice:
    """Hidden widths ``100,100`` (``100x6`` repeats a width), or choices of them ``50/100,100/100x6``.

    A choice is kept as its canonical text (``"100,100"``): Optuna's categorical values are plain scalars.
    """
    options = [hidden_sizes(part.strip()) for part in str(text).split("/")]
    if len(options) == 1:
        return options[0]
    choice = Choice(tuple(",".join(map(str, sizes)) for sizes in options))
    choice.check("hidden")
    return choice


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``"100,100"`` or ``"100x2"`` → ``(100, 100)``; raises ``SearchError`` on anything else."""
    sizes: list[int] = []
    for item in str(text).replace(" ", "").split(","):
        width, _, times = item.partition("x")
        try:
            sizes += [int(width)] * (int(times) if times else 1)
        except ValueError:
            sizes = []
            break
    if not sizes or any(s < 1 for s in sizes):
        raise SearchError(f"hidden: widths must be positive integers such as 50, 100,100 or 100x6; got {text!r}")
    return tuple(sizes)


def _number(name: str, text: str, kind: type) -> Any:
    try:
        value = kind(text.strip())
    except ValueError:
        raise SearchError(f"{name}: expected a {'whole ' if kind is int else ''}number, got {text.strip()!r}") from None
    if kind is float and not math.isfinite(value):
        raise SearchError(f"{name}: expected a finite number, got {text.strip()!r}")
    return value
