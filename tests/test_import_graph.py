"""House rules on the import graph of ``nlpkit/``: arrows one way, no cycles, no Prefect or pipelines.

The graph is read from the source (``ast``): an edge ``a -> b`` for every ``import``/``from ... import``
of another nlpkit module (``from pkg import sub`` counts as ``-> pkg.sub``). A module's own parent
packages are left out: Python runs them before any child anyway, so ``from nlpkit.cli import _common``
inside ``nlpkit.cli.x`` is not a cycle. Imports under ``if TYPE_CHECKING:`` never run and are left out.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "nlpkit"

#: The CLI is the top layer beside ``pipelines/``: ``nlpkit run`` and ``flows serve`` import the flows
#: inside the command (never at import time, which the last test checks for every module).
CLI_RUNS_FLOWS = ("nlpkit.cli.flows_cmds", "nlpkit.cli.run_cmds")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path, *, top_level: bool) -> set[str]:
    """Every module named by an import in ``path`` (nlpkit or not); ``top_level``: only what runs at import."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            module = (".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
                      if node.level else node.module or "")
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
        elif not top_level or isinstance(node, (ast.If, ast.Try, ast.With)) or isinstance(node, ast.ExceptHandler):
            for child in ast.iter_child_nodes(node):
                visit(child)

    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        visit(node)
    return found


def _graph(*, top_level: bool) -> dict[str, set[str]]:
    return {m: {t for t in _imports(m, p, top_level=top_level)
                if t in MODULES and t != m and not m.startswith(t + ".")}
            for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.add(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def _packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between the subpackages of nlpkit (``nlpkit.store``, ``nlpkit.tokenize``, ...)."""
    top = lambda m: ".".join(m.split(".")[:2])  # noqa: E731
    out: dict[str, set[str]] = {top(m): set() for m in graph}
    for m, targets in graph.items():
        out[top(m)].update(top(t) for t in targets if top(t) != top(m))
    return out


def test_cycle_finder_finds_a_cycle_and_ignores_a_chain() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_package_cycles_are_found_where_no_module_cycle_is() -> None:
    """The shape issue #13 removed: datasets.dependants -> models.baseline -> features.tfidf, and
    features.report -> datasets.registry, is a cycle between the packages though no module repeats."""
    graph = {"nlpkit.datasets.dependants": {"nlpkit.models.baseline"},
             "nlpkit.models.baseline": {"nlpkit.features.tfidf"},
             "nlpkit.features.tfidf": set(),
             "nlpkit.features.report": {"nlpkit.datasets.registry"},
             "nlpkit.datasets.registry": set()}
    assert _cycles(graph) == []
    assert _cycles(_packages(graph)) == [{"nlpkit.datasets", "nlpkit.features", "nlpkit.models"}]


def test_the_graph_sees_real_edges() -> None:
    graph = _graph(top_level=True)
    assert len(MODULES) > 100
    assert "nlpkit.tokenize.base" in graph["nlpkit.tokenize.core"]
    assert "nlpkit.tokenize.build" in graph["nlpkit.tokenize.kiwi"]
    assert "nlpkit.news.fetch_result" in graph["nlpkit.news.fetch"]


def test_no_import_cycle_at_import_time() -> None:
    assert _cycles(_graph(top_level=True)) == []


def test_no_import_cycle_through_imports_inside_functions() -> None:
    graph = _graph(top_level=False)
    assert _cycles(graph) == [], "import cycle between modules; break it (move the shared piece down)"


def test_no_cycle_between_subpackages() -> None:
    graph = _graph(top_level=False)
    assert _cycles(_packages(graph)) == [], "import cycle between subpackages; move the shared piece down"


def test_no_module_names_prefect_or_pipelines() -> None:
    bad = {m: sorted(i for i in _imports(m, p, top_level=False) if i.split(".")[0] in ("prefect", "pipelines"))
           for m, p in MODULES.items() if m not in CLI_RUNS_FLOWS}
    assert {m: v for m, v in bad.items() if v} == {}


def test_every_module_imports_without_prefect_or_pipelines() -> None:
    names = sorted(m for m in MODULES if not m.endswith("__main__"))
    code = ("import importlib, sys\n"
            f"for m in {names!r}:\n    importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pipelines')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
