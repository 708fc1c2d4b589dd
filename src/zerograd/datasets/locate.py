"""Where datasets are looked for, in order, and where downloads go.

1. an explicit ``root=`` (or ``--root``), else the ``ZEROGRAD_DATA`` environment variable: ``<dir>/<name>/``, then
   ``<dir>/`` itself;
2. the user cache: ``$XDG_CACHE_HOME/zerograd/<name>/``, by default ``~/.cache/zerograd/<name>/``;
3. the places distributions install the dataset (``/usr/share/datasets/fashion-mnist/`` for Debian's
   ``dataset-fashion-mnist``);
4. a download from the dataset's mirrors into the first of 1 or 2 (never into the source tree).

``ZEROGRAD_OFFLINE=1`` turns step 4 off, as ``download=False`` does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

ENV_DATA = "ZEROGRAD_DATA"
ENV_OFFLINE = "ZEROGRAD_OFFLINE"


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/zerograd``, or ``~/.cache/zerograd`` when the variable is unset or not absolute."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"  # the XDG spec: ignore relative
    return base / "zerograd"


def explicit_root(root: str | os.PathLike[str] | None) -> Path | None:
    """``root`` when given, else ``$ZEROGRAD_DATA`` when set, else None."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_DATA, "")
    return Path(env).expanduser() if env else None


def search_dirs(name: str, root: str | os.PathLike[str] | None = None, system_dirs: Sequence[Path] = ()) -> list[Path]:
    """The directories searched for dataset ``name``, in order (duplicates removed)."""
    dirs: list[Path] = []
    base = explicit_root(root)
    if base is not None:
        dirs += [base / name, base]
    dirs.append(user_cache_dir() / name)
    dirs += list(system_dirs)
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def download_dir(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where a download of ``name`` is written: ``<root or ZEROGRAD_DATA>/<name>``, else the user cache."""
    base = explicit_root(root)
    return (base if base is not None else user_cache_dir()) / name


def offline_by_env() -> bool:
    """True when ``ZEROGRAD_OFFLINE`` is set to anything but ``""``/``0``/``false``/``no``."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")
