"""Which zerograd module imports which (every import statement, at the top or inside a function), the import
cycles among them, and the imports that go from a lower floor to a higher one (the floors: CONTRIBUTING.md).

    python scripts/import_graph.py           # prints cycles and upward imports; exit 1 if there is any
    python scripts/import_graph.py --edges   # also every edge

A lazy import inside a function counts: it is a dependency all the same, only a later one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"  # or --src PATH
PACKAGE = "zerograd"

# Lowest first. A module's floor is that of the longest prefix listed; a lower floor never imports a higher one.
# The book's floors (functions → layers → nets → gradcheck → train/checkpoint → run → tune/interop/serve →
# commands → cli), with the engineering beneath placed where what it serves sits.
FLOORS: list[tuple[str, ...]] = [
    (
        # the engine room and safe files (the old top-level names of their modules are aliases kept for a release)
        "zerograd.engine",
        "zerograd.io",
        "zerograd.threads",
        "zerograd.thread_choice",
        "zerograd.parallel",
        "zerograd.memory",
        "zerograd.fileio",
        "zerograd.safenpz",
        "zerograd.runlock",
        "zerograd.capacity",
        "zerograd.images",
        "zerograd.validators",
        "zerograd.runs",
        "zerograd.datasets",
        "zerograd._version",
        "zerograd.__init__",
    ),
    ("zerograd.functions",),
    ("zerograd.layers", "zerograd.convolution"),
    ("zerograd.nets", "zerograd.convnets", "zerograd.optim", "zerograd.numgrad", "zerograd.batched_numgrad"),
    ("zerograd.gradcheck", "zerograd.diagnose", "zerograd.graph", "zerograd.plot", "zerograd.filterplot"),
    ("zerograd.train_config", "zerograd.checkpoint_schema"),
    ("zerograd.train", "zerograd.checkpoint"),
    ("zerograd.run",),
    ("zerograd.experiments", "zerograd.tune", "zerograd.interop", "zerograd.serve", "zerograd.book"),
    ("zerograd.commands",),
    ("zerograd.cli", "zerograd.__main__"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The zerograd modules ``path`` imports (``from .x import y`` resolved; ``y`` itself when it is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]  # a module, or a name in module `base`
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def floor(name: str) -> int:
    best, level = -1, -1
    for i, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), i
    return level


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(argv: list[str]) -> int:
    global SRC
    if "--src" in argv:
        SRC = Path(argv[argv.index("--src") + 1]).resolve()
    files = {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}
    modules = set(files)
    graph = {name: imports(path, name, modules) for name, path in files.items()}
    # a package's __init__ re-exporting its own submodules is not an edge between floors
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    if "--edges" in argv:
        for m in sorted(graph):
            for d in sorted(graph[m]):
                print(f"{m} -> {d}")
    found = cycles(graph)
    for component in found:
        print("cycle:", " <-> ".join(component))
    upward = [
        (m, d)
        for m, deps in graph.items()
        for d in deps
        if floor(m) >= 0 and floor(d) > floor(m) and not d.startswith(m + ".") and not m.startswith(d + ".")
    ]
    for m, d in sorted(upward):
        print(f"upward: {m} (floor {floor(m)}) imports {d} (floor {floor(d)})")
    unplaced = sorted(m for m in graph if floor(m) < 0 and m != PACKAGE)
    for m in unplaced:
        print(f"no floor: {m}")
    print(
        f"{len(graph)} modules, {sum(map(len, graph.values()))} imports, {len(found)} cycles, "
        f"{len(upward)} upward imports"
    )
    return 1 if found or upward or unplaced else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
