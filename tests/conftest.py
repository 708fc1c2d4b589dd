"""Test-wide settings: nothing in the suite may reach the network."""

import atexit
import os
import shutil
import tempfile

# Any loader that would download (MNIST when no copy is found) falls back offline instead; set in os.environ so
# that the scripts the tests run as subprocesses inherit it. Download logic is tested against loopback servers.
os.environ.setdefault("ZEROGRAD_OFFLINE", "1")

# Loading a dataset writes its decoded arrays beside the download cache (zerograd.datasets.cache): the suite's go to
# a folder of its own, removed at the end, never into the user's ~/.cache (inherited by subprocesses too).
_CACHE = tempfile.mkdtemp(prefix="zerograd-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


def optional(module: str, extra: str):
    """Import an optional dependency for a test: skip with the reason on a developer's machine without it, fail in
    CI (env CI set), whose `.ci/run` installs every extra — a skipped check there would pass silently."""
    import importlib

    import pytest

    try:
        return importlib.import_module(module)
    except ImportError as err:
        message = f"{module} is not installed (pip install 'zerograd[{extra}]'): {err}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must install every extra: {message}")
        pytest.skip(message)
