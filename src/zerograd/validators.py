"""One validator per kind of option value: each returns the value it accepts, or raises ``OptionError`` naming the
option and the value it got.

``zerograd.run.RunSpec`` checks its fields with these (named as fields: ``epochs``); the CLI checks its flags with
the same functions (named as flags: ``--epochs``) and prints the error as its one line. Standard library only, so
``zerograd --help`` stays fast.

    >>> positive_int(3, "epochs")
    3
    >>> parse_hidden("100,100")
    [100, 100]
    >>> positive_int(0, "--epochs")
    Traceback (most recent call last):
    ...
    zerograd.validators.OptionError: --epochs must be a positive integer, got 0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "INIT_NAMES",
    "SEED_MAX",
    "OptionError",
    "RunError",
    "choice",
    "fraction",
    "init_scale",
    "non_negative_float",
    "parse_hidden",
    "positive_float",
    "positive_int",
    "seed",
]

SEED_MAX = 2**32 - 1  # NumPy seeds are unsigned 32-bit words
INIT_NAMES = ("he", "xavier", "relu", "sigmoid")  # he = relu = sqrt(2/n), xavier = sigmoid = sqrt(1/n)


class RunError(ValueError):
    """A run (or a command) that cannot go ahead as asked: a bad option, a damaged checkpoint to resume, data that
    does not fit the net. The message is one line; the CLI prints it and exits with 2."""


class OptionError(RunError):
    """An option with a bad value. ``option`` is its name as the caller knows it (``epochs`` or ``--epochs``);
    ``problem`` the rest of the one-line message, where ``{name}`` stands for each other option it ``mentions``."""

    def __init__(
        self, option: str, problem: str, mentions: Sequence[str] = (), names: dict[str, str] | None = None
    ) -> None:
        self.option, self.problem, self.mentions = option, problem, tuple(mentions)
        names = names or {}
        for other in self.mentions:
            problem = problem.replace("{" + other + "}", names.get(other, other))
        super().__init__(f"{names.get(option, option)}{problem}")

    def renamed(self, names: dict[str, str]) -> OptionError:
        """The same error naming the options as ``names`` does (``{"epochs": "--epochs"}``)."""
        return OptionError(self.option, self.problem, self.mentions, names)


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(name, f" must be a positive integer, got {value}")
    return value


def positive_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise OptionError(name, f" must be a positive number, got {value}")
    return float(value)


def non_negative_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise OptionError(name, f" must be a finite number >= 0, got {value}")
    return float(value)


def fraction(value: Any, name: str) -> float:
    """A ratio in [0, 1): dropout."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value < 1):
        raise OptionError(name, f" must be in [0, 1), got {value}")
    return float(value)


def seed(value: Any, name: str = "--seed") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise OptionError(name, f" must be an integer in 0..{SEED_MAX} (2**32 - 1), got {value}")
    return value


def choice(value: Any, allowed: Sequence[str], name: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise OptionError(name, f" must be one of {', '.join(allowed)}, got {str(value)[:40]!r}")
    return value


def init_scale(value: Any, name: str = "--init") -> float | str | None:
    """An initial weight scale: None (the net's default), a name in ``INIT_NAMES``, or a finite std >= 0 (given as
    a number or as text such as ``"0.01"``)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            if value.lower() not in INIT_NAMES:
                raise OptionError(name, f" must be a number (standard deviation) or he/xavier, got {value!r}") from None
            return value.lower()
    return non_negative_float(value, name)


def parse_hidden(text: Any, name: str = "--hidden") -> list[int]:
    """``"100,100"`` (or ``[100, 100]``, or ``50``) → ``[100, 100]``; anything but positive integers is an error."""
    problem = f" must be comma-separated positive integers such as 50 or 100,100; got {text!r}"
    if isinstance(text, (list, tuple)):
        if not text or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in text):
            raise OptionError(name, problem)
        return [int(s) for s in text]
    if isinstance(text, bool):
        raise OptionError(name, problem)
    try:
        sizes = [int(s) for s in str(text).replace(" ", "").split(",") if s]
    except ValueError:
        raise OptionError(name, problem) from None
    if not sizes or any(s < 1 for s in sizes):
        raise OptionError(name, problem)
    return sizes
