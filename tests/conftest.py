"""Test-wide settings: nothing in the suite may reach the network; skips are honest and, in a full environment,
forbidden.

A test that needs something pip cannot bring with the `test` extra (Chromium, graphviz's `dot`, a PostgreSQL server,
Debian's Fashion-MNIST, PyTorch) skips with a one-line reason naming what to install. `.ci/run` installs all of
those and sets ``ZEROGRAD_TEST_REQUIRE_ALL=1``: there every skip is turned into a failure, so nothing passes by not
running. Tests marked ``slow`` (minutes-long README commands) are deselected by ``pytest -q`` and run with
``pytest -m slow`` (CI runs them).
"""

import atexit
import os
import shutil
import tempfile

import pytest

# Any loader that would download (MNIST when no copy is found) falls back offline instead; set in os.environ so
# that the scripts the tests run as subprocesses inherit it. Download logic is tested against loopback servers.
os.environ.setdefault("ZEROGRAD_OFFLINE", "1")

# Loading a dataset writes its decoded arrays beside the download cache (zerograd.datasets.cache): the suite's go to
# a folder of its own, removed at the end, never into the user's ~/.cache (inherited by subprocesses too).
_CACHE = tempfile.mkdtemp(prefix="zerograd-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

REQUIRE_ALL = os.environ.get("ZEROGRAD_TEST_REQUIRE_ALL", "") not in ("", "0")


def optional(module: str, extra: str):
    """Import an optional dependency for a test, or skip with one line naming what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        pytest.skip(f"{module} is not installed (pip install '.[{extra}]'): {err}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped where ZEROGRAD_TEST_REQUIRE_ALL is set (every part must be installed): {reason}"


def pytest_sessionfinish(session, exitstatus):
    # A module skipped as a whole (pytest.skip(allow_module_level=True)) never reaches makereport above.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if REQUIRE_ALL and skipped:
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            print(f"\nSKIPPED where ZEROGRAD_TEST_REQUIRE_ALL is set: {report.nodeid}: {reason}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def cli_in_tmp(tmp_path, monkeypatch):
    """Run the CLI in ``tmp_path`` (its ``runs/`` folder, its outputs), with its own cache, offline."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("ZEROGRAD_OFFLINE", "1")
    return tmp_path


def one_line_error(capsys, result: int, *needles: str) -> str:
    """A usage mistake as the CLI must report it: exit code 2, one line on stderr holding each of ``needles``."""
    err = capsys.readouterr().err
    assert result == 2, err
    assert err.strip().count("\n") == 0 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err
