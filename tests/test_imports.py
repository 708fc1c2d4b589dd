"""Imports go one way: no cycle among zerograd's modules and no lower floor importing a higher one
(scripts/import_graph.py, whose FLOORS list is the house layout)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_graph.py"


def test_no_import_cycle_and_no_upward_import(capsys):
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    status = module.main([])
    out = capsys.readouterr().out
    assert status == 0, out
    assert " 0 cycles, 0 upward imports" in out


@pytest.mark.parametrize(
    "old,new",
    [(f"zerograd.{m}", f"zerograd.engine.{m}") for m in ("threads", "parallel", "memory", "thread_choice", "capacity")]
    + [(f"zerograd.{m}", f"zerograd.io.{m}") for m in ("fileio", "safenpz", "images", "runlock")],
)
def test_a_moved_module_keeps_its_old_name_for_a_release(old, new):
    # a fresh interpreter: the warning is given once, at the first import
    code = (
        "import importlib, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module({old!r})\n"
        f"assert old is importlib.import_module({new!r}), 'not the same module'\n"
        f"assert any(w.category is DeprecationWarning and {new!r} in str(w.message) for w in caught), caught\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
