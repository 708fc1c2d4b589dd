"""What the machine can hold: sizes from the command line checked before anything is allocated.

``zerograd train --hidden 1000000000`` would ask NumPy for 5.7 TiB of weights and end in a MemoryError traceback
(or in the kernel's OOM killer after minutes of swapping). ``check_fits`` estimates the bytes first and refuses
in one line that names the option to lower:

    >>> mlp_bytes(784, [50], 10, batch_size=100, itemsize=8)  # the chapter's TwoLayerNet, a batch of 100
    2043520

The estimate is deliberately plain — every array a training step keeps, not the allocator's overhead — so it errs
low: what it refuses surely does not fit; what it lets through may still be slow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CapacityError", "available_bytes", "check_fits", "check_mlp", "format_bytes", "mlp_bytes"]

PARAMETER_COPIES = 4  # weights, gradients and an optimizer's two buffers (Adam's m and v)
ACTIVATION_COPIES = 3  # each layer's output, what its backward keeps (a mask, its input) and the gradient flowing back


class CapacityError(ValueError):
    """A size the machine cannot hold; the message is one line naming the option."""


def available_bytes() -> int | None:
    """Memory a new allocation can get now without swapping: Linux's ``MemAvailable`` (free plus reclaimable
    cache), else free physical pages, and no more than the address space ``ulimit -v`` leaves this process;
    None where nothing is known."""
    known = [n for n in (_meminfo_available(), _address_space_left()) if n is not None]
    if not known:
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return min(known)


def _meminfo_available() -> int | None:
    return _proc_kib("/proc/meminfo", "MemAvailable:")


def _address_space_left() -> int | None:
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError, ValueError):
        return None
    if limit == resource.RLIM_INFINITY:
        return None
    used = _proc_kib("/proc/self/status", "VmSize:") or 0
    return max(0, limit - used)


def _proc_kib(path: str, field: str) -> int | None:
    """A ``field: N kB`` line of a /proc file, in bytes."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def format_bytes(n: float) -> str:
    """``1536`` → ``"1.5 KiB"``; ``6.27e12`` → ``"5.7 TiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def mlp_bytes(input_size: int, hidden: list[int], classes: int, batch_size: int, itemsize: int) -> int:
    """Bytes a training step of a ``input_size → hidden… → classes`` net holds: its parameters
    (``PARAMETER_COPIES`` times) and a batch's activations (``ACTIVATION_COPIES`` times), plus the batch itself."""
    widths = [input_size, *hidden, classes]
    parameters = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    activations = batch_size * sum(widths[1:])
    return itemsize * (PARAMETER_COPIES * parameters + ACTIVATION_COPIES * activations + batch_size * input_size)


def check_mlp(sizes: Mapping[str, Any], flags: Mapping[str, str], itemsize: int, what: str = "this net") -> None:
    """``check_fits`` of ``mlp_bytes``: sizes has ``input_size``, ``hidden``, ``classes``, ``batch_size``; flags
    names the command-line option of those the user sets (``{"hidden": "--hidden"}``)."""
    check_fits(lambda **v: mlp_bytes(**v, itemsize=itemsize), sizes, flags, what)


def check_fits(
    needed: Callable[..., int],
    sizes: Mapping[str, Any],
    flags: Mapping[str, str],
    what: str,
    available: int | None = None,
) -> None:
    """Refuse (``CapacityError``) when ``needed(**sizes)`` bytes exceed the memory available now.

    flags: the command-line option of each size the user sets. The message names the option that, put to 1 (each
    width of a list to 1), would shrink the estimate most: the one to lower. what: the thing being built.
    """
    available = available_bytes() if available is None else available
    total = needed(**sizes)
    if available is None or total <= available or not flags:
        return

    def saved(name: str) -> int:
        value = sizes[name]
        return total - needed(**{**sizes, name: [1] * len(value) if isinstance(value, list) else 1})

    culprit = max(flags, key=saved)
    value = sizes[culprit]
    shown = ",".join(map(str, value)) if isinstance(value, list) else value
    raise CapacityError(
        f"{flags[culprit]} {shown}: {what} needs about {format_bytes(total)} of memory, and this "
        f"machine has {format_bytes(available)} available; lower {flags[culprit]}"
    )
