"""The README runs as written: every command and Python block, as printed, in order, in one scratch folder.

A reader follows README.md top to bottom, and later commands use what earlier ones made (the latest run, a
checkpoint, a picture); so does ``test_readme_walk``. What the README says a command gives is written beside it as a
comment, and the walk checks it:

- ``# test accuracy 0.911`` — the command prints ``test accuracy X`` with ``|X - 0.911| <= ACCURACY_TOLERANCE``
  (training is seeded; the tolerance covers BLAS kernels that sum in another order on another CPU);
- ``# → runs/train2/checkpoint.npz, apple.png`` — those paths exist once the command has run.

The set-up commands are not run here: ``pip install`` would change the environment the tests run in, and ``pytest``
is this suite. ``test_setup_commands_are_what_ci_runs`` holds them to ``.ci/run``, which runs them verbatim in a new
virtual environment. A ``zerograd serve`` command passes when its server answers. A line whose comment says
``placeholder`` (a database URL the reader fills in) is skipped, and must hold an upper-case placeholder word.

The walk takes minutes (it trains every net the README trains), so it is marked ``slow``: CI runs it, and a quick
``pytest -q`` checks instead that every ``zerograd`` command of both READMEs parses with the CLI's own parser, so a
renamed flag is caught in seconds. README.ja.md must show the same commands in the same order and the same
sections, so walking README.md runs the commands of both.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_docs import READMES, ROOT, code_blocks

ACCURACY_TOLERANCE = 0.01  # README.md states this tolerance beside its results table
SHELL_LANGUAGES = ("bash", "sh", "shell", "console")
PROGRAMS = ("zerograd", "pip", "pytest", "python")
COMMAND_TIMEOUT = 1200  # seconds for one command; the longest (SimpleConvNet, 5 epochs of Fashion-MNIST) takes ~2 min
SERVER_START_TIMEOUT = 60


@dataclass(frozen=True)
class Step:
    readme: str
    line: int
    kind: str  # "shell" or "python"
    code: str  # a shell command line (continuations joined), or a whole Python block

    @property
    def where(self) -> str:
        return f"{self.readme} line {self.line}"

    @property
    def command(self) -> str:
        """The shell line without its trailing comment, whitespace collapsed."""
        return " ".join(_split_comment(self.code)[0].split())

    @property
    def comment(self) -> str:
        return _split_comment(self.code)[1]


def _split_comment(line: str) -> tuple[str, str]:
    """``cmd  # note`` → ``("cmd", "note")``: a ``#`` at the start or after a space, outside quotes."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def readme_steps(text: str, readme: str = "README.md", strict: bool = True) -> list[Step]:
    """Every command line of the ```bash blocks and indented blocks, and every ```python block, in order.

    An indented block counts only when its first word is a program the walk knows (``zerograd``, ``pip``, ...);
    a README's ```bash block must hold nothing else, so that no line is left out by being misread (``strict``;
    the pages under docs/ may show other programs, such as ``git``, whose lines are passed over).
    """
    steps = []
    for lang, first_line, code in code_blocks(text):
        if lang in ("python", "py", "python3"):
            steps.append(Step(readme, first_line, "python", code))
            continue
        if lang not in SHELL_LANGUAGES and lang != "":
            continue
        lines, numbers, pending, start = [], [], "", 0
        for offset, raw in enumerate(code.splitlines()):
            if not pending:
                start = first_line + offset
            if raw.rstrip().endswith("\\"):
                pending += raw.rstrip()[:-1] + " "
                continue
            lines.append(pending + raw)
            numbers.append(start)
            pending = ""
        commands = [(n, line.strip()) for n, line in zip(numbers, lines, strict=True) if line.strip()]
        if lang == "" and (not commands or commands[0][1].split()[0] not in PROGRAMS):
            continue  # an indented block of prose code (a file listing, output)
        for number, line in commands:
            if line.startswith("#"):
                continue
            if line.split()[0] not in PROGRAMS:
                if not strict:
                    continue
                raise AssertionError(f"{readme} line {number}: {line!r} is not a command the README walk runs")
            steps.append(Step(readme, number, "shell", line))
    return steps


def _zerograd_commands(steps: list[Step]) -> list[tuple[Step, list[str]]]:
    out = []
    for step in steps:
        if step.kind != "shell":
            continue
        for part in step.command.split("&&"):
            words = shlex.split(part.strip().removesuffix("&"))  # a trailing & runs it in the background
            if words and words[0] == "zerograd":
                out.append((step, words[1:]))
    return out


# -- quick checks (pytest -q) ---------------------------------------------------------------------------------------


def parse_errors(steps: list[Step]) -> list[str]:
    """Every ``zerograd`` command parsed by the CLI's own parser; the lines it refuses, with argparse's reason."""
    from zerograd.cli import build_parser
    from zerograd.commands.helpformat import UsageError

    errors = []
    for step, argv in _zerograd_commands(steps):
        parser = build_parser()
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                parser.parse_args(argv)
        except UsageError as err:
            errors.append(f"{step.where}: {step.command!r}: {err}")
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                reason = stderr.getvalue().strip().splitlines()[-1:] or ["?"]
                errors.append(f"{step.where}: {step.command!r}: {reason[0]}")
    return errors


@pytest.mark.parametrize("name", READMES)
def test_every_readme_command_parses(name):
    steps = readme_steps(READMES[name].read_text(encoding="utf-8"), name)
    assert len(_zerograd_commands(steps)) >= 10, f"{name}: fewer zerograd commands than expected: is the reader broken?"
    errors = parse_errors(steps)
    assert not errors, "README commands the CLI refuses:\n  " + "\n  ".join(errors)


def test_a_renamed_flag_is_caught_naming_its_line():
    text = READMES["README.md"].read_text(encoding="utf-8")
    steps = readme_steps(text)
    step, argv = next((s, a) for s, a in _zerograd_commands(steps) if any(w.startswith("--") for w in a))
    flag = next(w for w in argv if w.startswith("--"))
    broken = text.replace(step.code, step.code.replace(flag, flag + "-renamed", 1), 1)
    errors = parse_errors(readme_steps(broken))
    assert errors and errors[0].startswith(f"README.md line {step.line}:"), errors


def _section_outline(text: str) -> list[int]:
    outline, fenced = [], False
    for line in text.splitlines():
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (m := re.match(r"^(#{1,6}) ", line)):
            outline.append(len(m.group(1)))
    return outline


def test_both_readmes_have_the_same_sections_commands_and_code():
    en_text, ja_text = (READMES[n].read_text(encoding="utf-8") for n in ("README.md", "README.ja.md"))
    assert _section_outline(en_text) == _section_outline(ja_text), (
        "README.md and README.ja.md must have the same sections in the same order (heading levels):\n"
        f"  en {_section_outline(en_text)}\n  ja {_section_outline(ja_text)}"
    )
    en, ja = readme_steps(en_text, "README.md"), readme_steps(ja_text, "README.ja.md")
    en_shell = [s.command for s in en if s.kind == "shell"]
    ja_shell = [s.command for s in ja if s.kind == "shell"]
    assert en_shell == ja_shell, "the two READMEs must print the same commands in the same order"

    def code_only(step):
        return [_split_comment(line)[0].rstrip() for line in step.code.splitlines() if _split_comment(line)[0].strip()]

    en_py = [code_only(s) for s in en if s.kind == "python"]
    ja_py = [code_only(s) for s in ja if s.kind == "python"]
    assert en_py == ja_py, "the two READMEs' ```python blocks must hold the same code (comments may differ)"


def test_readme_md_is_short():
    lines = len(READMES["README.md"].read_text(encoding="utf-8").splitlines())
    assert lines <= 250, f"README.md has {lines} lines; depth belongs in docs/*.md (a newcomer reads it in minutes)"


def _setup_block(text: str) -> list[str]:
    section = text.split("\n## ", 2)[1]
    title = section.splitlines()[0].strip()
    assert title in ("Set-up", "セットアップ"), "the set-up must be the README's first section"
    (lang, _, code), *_ = [b for b in code_blocks(section) if b[0] in SHELL_LANGUAGES]
    return [line.strip() for line in code.splitlines() if line.strip()]


def test_setup_commands_are_what_ci_runs():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    for name, path in READMES.items():
        setup = _setup_block(path.read_text(encoding="utf-8"))
        assert len(setup) == 2, f"{name}: the set-up is two commands, got {setup}"
        for line in setup:
            assert _split_comment(line)[0] in [_split_comment(c)[0] for c in ci], (
                f"{name}: the set-up command {line!r} is not run verbatim by .ci/run's fresh-machine stage"
            )


def test_pip_commands_name_extras_that_exist():
    tomllib = pytest.importorskip("tomllib", reason="tomllib comes with Python 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = set(project["optional-dependencies"])
    for name, path in READMES.items():
        for step in readme_steps(path.read_text(encoding="utf-8"), name):
            for named in re.findall(r"pip install '?\.\[([\w,]+)\]'?", step.command if step.kind == "shell" else ""):
                unknown = set(named.split(",")) - extras
                assert not unknown, f"{step.where}: pip extras {sorted(unknown)} are not in pyproject.toml"


# -- the walk (slow: CI runs it) ------------------------------------------------------------------------------------


def _environment(scratch: Path) -> dict[str, str]:
    """``zerograd`` and ``python`` on PATH are this interpreter; caches stay in the scratch folder."""
    bin_dir = scratch / ".bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "zerograd").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m zerograd "$@"\n')
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        MPLBACKEND="Agg",
        XDG_CACHE_HOME=str(scratch / ".cache"),
        ZEROGRAD_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def table_claims(text: str) -> dict[str, str]:
    """The results table's rows: ``| `zerograd ...` (note) | ... | 0.922 |`` → ``{"zerograd ...": "0.922"}``."""
    rows = re.findall(r"^\| `(zerograd [^`]*)`[^|]*\|.*\| (\d\.\d+) \|\s*$", text, flags=re.M)
    return {" ".join(command.split()): accuracy for command, accuracy in rows}


def _check_claims(
    step: Step, output: str, scratch: Path, command: str = "", table: dict[str, str] | None = None
) -> list[str]:
    problems = []
    quotes = re.findall(r"test accuracy (\d\.\d+)", step.comment)
    if table and command in table:
        quotes.append(table[command])  # the results table quotes this command too
    for quoted in quotes:
        printed = re.findall(r"test accuracy (\d\.\d+)", output)
        if not printed:
            problems.append(f"{step.where}: the README quotes test accuracy {quoted}, the command printed none")
        elif abs(float(printed[-1]) - float(quoted)) > ACCURACY_TOLERANCE:
            problems.append(
                f"{step.where}: the README quotes test accuracy {quoted}, the command gave {printed[-1]} "
                f"(tolerance {ACCURACY_TOLERANCE})"
            )
    if "→" in step.comment:
        for path in re.split(r"[,\s]+", step.comment.split("→", 1)[1]):
            path = path.strip("`()")
            if ("/" in path or "." in path) and not (scratch / path).exists():
                problems.append(f"{step.where}: the README says it writes {path}, which does not exist")
    return problems


def _run_server(step: Step, scratch: Path, env: dict[str, str]) -> None:
    words = shlex.split(step.command)
    port = int(words[words.index("--port") + 1]) if "--port" in words else 8000
    host = words[words.index("--host") + 1] if "--host" in words else "127.0.0.1"
    proc = subprocess.Popen(
        ["bash", "-c", step.command],
        cwd=scratch,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(
                    f"{step.where}: {step.command!r} exited with {proc.returncode}:\n{proc.stdout.read()[-2000:]}"
                )
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
                return
            time.sleep(0.3)
        raise AssertionError(
            f"{step.where}: {step.command!r} did not answer on {host}:{port} within {SERVER_START_TIMEOUT} s"
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def walk(steps: list[Step], scratch: Path, table: dict[str, str] | None = None) -> None:
    """Run ``steps`` in order in ``scratch``; the first failure raises, naming its README line. table: accuracies
    the README quotes for some commands elsewhere (its results table, ``table_claims``), checked as well."""
    env = _environment(scratch)
    namespace: dict = {"__name__": "__readme__"}
    for step in steps:
        if step.kind == "python":
            cwd = os.getcwd()
            os.chdir(scratch)
            try:
                exec(compile(step.code, f"{step.where} (```python)", "exec"), namespace)
            except Exception as err:
                raise AssertionError(f"{step.where}: the ```python block failed: {err!r}") from err
            finally:
                os.chdir(cwd)
            continue
        if "placeholder" in step.comment.lower():
            assert re.search(r"\b[A-Z]{4,}\b", step.command), f"{step.where}: a placeholder line names no PLACEHOLDER"
            continue
        parts = [part.strip() for part in step.command.split("&&")]
        runnable = [p for p in parts if not p.startswith(("pip ", "pytest"))]
        if not runnable:
            continue  # the set-up's installs and the suite itself: .ci/run runs them (see the module's docstring)
        command = " && ".join(runnable)
        if shlex.split(runnable[-1])[:2] == ["zerograd", "serve"]:
            _run_server(Step(step.readme, step.line, "shell", command), scratch, env)
            continue
        result = subprocess.run(
            ["bash", "-c", command], cwd=scratch, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise AssertionError(f"{step.where}: {command!r} exited with {result.returncode}:\n{output[-3000:]}")
        problems = _check_claims(step, output, scratch, command, table)
        assert not problems, "\n".join(problems) + f"\n--- output ---\n{output[-3000:]}"


def _scratch_copy(tmp_path: Path) -> Path:
    """The reader's folder: a copy of the repository's files the README points at (docs, examples)."""
    scratch = tmp_path / "reader"
    scratch.mkdir()
    for name in ("docs", "examples"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, scratch / name)
    return scratch


def test_the_walk_names_the_line_that_fails(tmp_path):
    readme = (
        "# x\n\n```bash\nzerograd graph apple --out apple.dot   # → apple.dot\n"
        "zerograd graph apple --out-renamed b.dot\n```\n"
    )
    steps = readme_steps(readme, "TEST.md")
    walk(steps[:1], _scratch_copy(tmp_path))  # the first line works and writes what it claims
    (tmp_path / "reader" / "apple.dot").unlink()
    with pytest.raises(AssertionError, match=r"TEST\.md line 5: 'zerograd graph apple --out-renamed b\.dot' exited"):
        walk(steps, tmp_path / "reader")
    wrong_claim = readme_steps("```bash\nzerograd graph apple --out other.dot   # → nothing.png\n```\n", "TEST.md")
    with pytest.raises(AssertionError, match="TEST.md line 2: the README says it writes nothing.png"):
        walk(wrong_claim, tmp_path / "reader")


@pytest.mark.slow
def test_readme_walk(tmp_path, capsys):
    text = READMES["README.md"].read_text(encoding="utf-8")
    claims = table_claims(text)
    commands = {" ".join(p.split()) for s in readme_steps(text) if s.kind == "shell" for p in s.command.split("&&")}
    assert claims and set(claims) <= commands, f"the results table quotes commands the README does not run: {claims}"
    walk(readme_steps(text), _scratch_copy(tmp_path), claims)
    capsys.readouterr()


def test_the_results_table_is_read():
    claims = table_claims(READMES["README.md"].read_text(encoding="utf-8"))
    assert claims.get("zerograd train") and len(claims) >= 3, claims


# -- docs/: the depth the README links to ---------------------------------------------------------------------------

DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_docs_links_and_images_exist():
    assert len(DOCS) >= 10, "docs/*.md: the README links to a page per topic"
    for page in DOCS:
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"docs/{page.name} links to {target}, which does not exist"


def test_docs_zerograd_commands_parse():
    errors = []
    for page in DOCS:
        text = page.read_text(encoding="utf-8")
        steps = [s for s in readme_steps(text, f"docs/{page.name}", strict=False) if s.kind == "shell"]
        errors += parse_errors(steps)
    assert not errors, "docs/ commands the CLI refuses:\n  " + "\n  ".join(errors)
