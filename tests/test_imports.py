"""Imports go one way: no cycle among zerograd's modules and no lower floor importing a higher one
(scripts/import_graph.py, whose FLOORS list is the house layout)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_graph.py"


def test_no_import_cycle_and_no_upward_import(capsys):
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    status = module.main([])
    out = capsys.readouterr().out
    assert status == 0, out
    assert " 0 cycles, 0 upward imports" in out
