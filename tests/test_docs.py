"""The documentation stays true: README examples run, the two READMEs show the same commands, the chapter-5
notebooks execute, and the layers' ``>>>`` examples pass as doctests.

- Every fenced ```python block of README.md and README.ja.md runs, in order and in one namespace per README (later
  blocks use names from earlier ones), in a temporary directory, offline (conftest.py sets ZEROGRAD_OFFLINE=1).
  Their shell blocks are run in order by tests/test_readme.py; here the commands prose names must match.
- docs/notebooks/ch05.ipynb and ch05.ja.ipynb are stored without outputs and run top to bottom with nbclient;
  their cells assert the chapter's numbers. nbclient/ipykernel come with the `test` extra: without them the
  notebook tests skip on a developer's machine, and fail in CI.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import optional

ROOT = Path(__file__).resolve().parents[1]
READMES = {"README.md": ROOT / "README.md", "README.ja.md": ROOT / "README.ja.md"}
NOTEBOOKS = ROOT / "docs" / "notebooks"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # hiragana, katakana, CJK ideographs


# -- reading Markdown ---------------------------------------------------------------------------------------------


def code_blocks(text: str) -> list[tuple[str, int, str]]:
    """``(language, first line number, code)`` for every fenced block and every indented (4-space) block."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", lines[i])
        if fence:
            indent, marker, lang = fence.groups()
            body, start = [], i + 2
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            blocks.append((lang.lower(), start, "\n".join(body) + "\n"))
            i += 1
            continue
        # an indented block: 4 spaces after a blank line (list items here continue with 2 or 3 spaces)
        if lines[i].startswith("    ") and lines[i].strip() and (i == 0 or not lines[i - 1].strip()):
            start, body = i + 1, []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            blocks.append(("", start, "\n".join(body).strip("\n") + "\n"))
            continue
        i += 1
    return blocks


def python_blocks(text: str) -> list[tuple[int, str]]:
    return [(line, code) for lang, line, code in code_blocks(text) if lang in ("python", "py", "python3")]


def inline_commands(text: str) -> set[str]:
    """The ``zerograd ...`` commands named in prose (inline spans outside code blocks), whitespace collapsed.

    The code blocks' commands are compared, in order, by tests/test_readme.py; these are the ones prose names.
    """
    prose = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.M | re.S)
    spans = (" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose))  # a span may wrap a line
    return {span for span in spans if span.startswith("zerograd ")}


def test_code_block_reader_finds_fenced_and_indented_blocks():
    text = (
        "intro\n\n```python\nx = 1\n```\n\n    zerograd train  # go\n\n"
        "```bash\npip install . && pytest -q\ngit clone x\n```\n"
    )
    assert python_blocks(text) == [(4, "x = 1\n")]
    assert [(lang, line) for lang, line, _ in code_blocks(text)] == [("python", 4), ("", 7), ("bash", 10)]
    assert inline_commands("run `zerograd train\n --help` or `pip x`\n```bash\nzerograd evaluate\n```\n") == {
        "zerograd train --help"
    }


# -- README.md and README.ja.md -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READMES)
def test_readme_python_blocks_run(name, tmp_path, monkeypatch, capsys):
    blocks = python_blocks(READMES[name].read_text(encoding="utf-8"))
    assert blocks, f"{name} has no ```python blocks"
    monkeypatch.chdir(tmp_path)  # files the examples write (apple.svg, ...) land here
    namespace: dict = {"__name__": "__readme__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{name}, the ```python block at line {line}", "exec"), namespace)
        except Exception as err:
            if type(err).__name__ == "GraphvizNotFoundError":
                pytest.skip(f"{name} line {line} draws a picture and graphviz's `dot` is not installed")
            raise AssertionError(f"{name}: the ```python block at line {line} failed: {err!r}") from err
    capsys.readouterr()  # the examples print; keep the test output quiet


def test_readme_examples_print_what_they_say(tmp_path, monkeypatch, capsys):
    # The first-look block prints a gradient-check report: every parameter of the chapter's net, all passing.
    namespace: dict = {}
    monkeypatch.chdir(tmp_path)
    ((line, code),) = [
        b for b in python_blocks(READMES["README.md"].read_text(encoding="utf-8")) if "check_net(" in b[1]
    ]
    exec(compile(code, f"README.md, the ```python block at line {line}", "exec"), namespace)
    report = capsys.readouterr().out
    assert [row.split()[0] for row in report.splitlines()[:4]] == ["W1", "b1", "W2", "b2"]
    assert report.rstrip().splitlines()[-1].startswith("PASS")


def test_both_readmes_name_the_same_commands_in_prose():
    en = inline_commands(READMES["README.md"].read_text(encoding="utf-8"))
    ja = inline_commands(READMES["README.ja.md"].read_text(encoding="utf-8"))
    assert en, "no zerograd command found in README.md's prose: is the reader broken?"
    assert en == ja, f"only in README.md: {sorted(en - ja)}; only in README.ja.md: {sorted(ja - en)}"


def test_readmes_link_to_each_other():
    en = READMES["README.md"].read_text(encoding="utf-8")
    ja = READMES["README.ja.md"].read_text(encoding="utf-8")
    assert "(README.ja.md)" in "\n".join(en.splitlines()[:5]), "README.md should link to README.ja.md at its top"
    assert "(README.md)" in "\n".join(ja.splitlines()[:5]), "README.ja.md should link back to README.md at its top"
    assert len(JAPANESE.findall(ja)) > 2000, "README.ja.md should be written in Japanese"


def test_relative_links_and_images_of_the_readmes_exist():
    for name, path in READMES.items():
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (ROOT / target).exists(), f"{name} links to {target}, which does not exist"


# -- the chapter-5 notebooks --------------------------------------------------------------------------------------


def load_notebook(name: str):
    return optional("nbformat", "test").read(NOTEBOOKS / name, as_version=4)


def needs(module: str):
    """nbformat, nbclient, ipykernel come with the test extra: skip without them locally, fail in CI."""
    return optional(module, "test")


def test_notebooks_are_stored_without_outputs_and_share_their_code():
    needs("nbformat")
    en, ja = load_notebook("ch05.ipynb"), load_notebook("ch05.ja.ipynb")
    for name, nb in (("ch05.ipynb", en), ("ch05.ja.ipynb", ja)):
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{name} cell {i} is stored with output"
    code = [[c.source for c in nb.cells if c.cell_type == "code"] for nb in (en, ja)]
    assert code[0] == code[1], "ch05.ipynb and ch05.ja.ipynb must have the same code cells"
    assert [c.cell_type for c in en.cells] == [c.cell_type for c in ja.cells]
    for cell in (c for c in ja.cells if c.cell_type == "markdown"):
        assert JAPANESE.search(cell.source), f"a markdown cell of ch05.ja.ipynb is not in Japanese:\n{cell.source}"


@pytest.mark.parametrize("name", ["ch05.ipynb", "ch05.ja.ipynb"])
def test_notebook_executes(name, tmp_path, monkeypatch):
    for module in ("nbformat", "nbclient", "ipykernel"):
        needs(module)
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = load_notebook(name)
    # One BLAS thread in the kernel: the suite runs on small shared machines, where the notebook's 784-50-10
    # products gain nothing from a second thread and lose much to oversubscription (see zerograd.engine.threads).
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")
    # The kernel is this interpreter (ipykernel's own spec), inheriting PYTHONPATH and ZEROGRAD_OFFLINE; IPC
    # sockets in tmp_path rather than TCP ports.
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    client = NotebookClient(nb, km=km, timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except CellExecutionError as err:
        raise AssertionError(f"{name} failed:\n{err}") from None
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "price: 220.0" in text and "PASS" in text
    pictures = sum("image/svg+xml" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert pictures == (2 if shutil.which("dot") else 0)
    assert sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) == 1  # the curves


def test_notebooks_are_what_their_generator_writes(tmp_path):
    # scripts/make_notebooks.py holds both notebooks' cells; an edit made to one .ipynb alone would drift.
    needs("nbformat")
    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path)])
    for name in ("ch05.ipynb", "ch05.ja.ipynb"):
        written, stored = (json.loads(path.read_text(encoding="utf-8")) for path in (tmp_path / name, NOTEBOOKS / name))
        assert written["cells"] == stored["cells"], (
            f"docs/notebooks/{name} differs from what scripts/make_notebooks.py writes: edit the script and rerun it"
        )


def test_notebooks_are_valid_json_with_a_python_kernel():
    for name in ("ch05.ipynb", "ch05.ja.ipynb"):
        data = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
        assert data["nbformat"] == 4 and data["metadata"]["kernelspec"]["name"] == "python3"


# -- doctests of the chapter-5 layers and functions -----------------------------------------------------------------

CHAPTER_5_LAYERS = ("MulLayer", "AddLayer", "Relu", "Sigmoid", "Affine", "SoftmaxWithLoss")


@pytest.mark.parametrize("module_name", ["zerograd.layers", "zerograd.functions"])
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = doctest.DocTestFinder().find(module, module_name, globs=dict(vars(module)))
    for test in tests:
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
    assert result.attempted >= 5, f"{module_name} has only {result.attempted} docstring examples"


def test_every_chapter_5_layer_has_an_example_and_a_shape_line():
    from zerograd import layers

    finder = doctest.DocTestFinder()
    for name in CHAPTER_5_LAYERS:
        cls = getattr(layers, name)
        examples = [t for t in finder.find(cls, name) if t.name == name and t.examples]
        assert examples, f"{name} has no >>> example in its docstring"
        assert "Shape:" in cls.__doc__, f"{name}'s docstring has no Shape: line"
