"""The library's layering rules that an import graph cannot see: no environment reads outside the CLI and
settings, and no Prefect-shaped attributes (``.fn``, ``.with_options``, ``to_deployment``) in ``nlpkit/``.

Read from the source with ``ast`` (a comment or a docstring that mentions them does not count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "nlpkit"
#: Where the environment may be read: the CLI (the process's entry point) and the settings loader.
ENV_READERS = ("nlpkit/cli/", "nlpkit/settings.py")


def _env_reads(tree: ast.AST) -> list[int]:
    """Lines of ``os.environ`` (any use), ``os.getenv(...)`` and ``os.putenv(...)``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in ("environ", "getenv", "putenv", "environb"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(a.name in ("environ", "getenv", "environb") for a in node.names):
            lines.append(node.lineno)
    return lines


def _library_files() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py") if "__pycache__" not in p.parts)


def test_only_the_cli_and_settings_read_the_environment() -> None:
    bad = []
    for path in _library_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(ENV_READERS):
            continue
        bad += [f"{rel}:{line}" for line in _env_reads(ast.parse(path.read_text(encoding="utf-8")))]
    assert bad == [], "the library reads the environment (pass it in as a setting instead): " + ", ".join(bad)


def test_no_prefect_shaped_attributes_in_the_library() -> None:
    bad = []
    for path in _library_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # not .submit: concurrent.futures executors have one too
            if isinstance(node, ast.Attribute) and node.attr in ("to_deployment", "with_options", "fn"):
                bad.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno} .{node.attr}")
    assert bad == [], "Prefect's API belongs in pipelines/: " + ", ".join(bad)


@pytest.mark.parametrize(("source", "found"), [
    ("import os\nx = os.environ.get('A')\n", [2]),
    ("import os\nos.getenv('A')\n", [2]),
    ("from os import environ\n", [1]),
    ("import os\n# os.environ in a comment\n'''os.environ in a docstring'''\n", []),
])
def test_the_scan_finds_environment_reads(source: str, found: list[int]) -> None:
    assert _env_reads(ast.parse(source)) == found
