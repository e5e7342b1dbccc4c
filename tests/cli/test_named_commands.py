"""Every `nlpkit ...` command that a message, docstring, the README or a docs page names is a current command (#14).

The command tree was regrouped (``nlpkit rebuild`` -> ``nlpkit data rebuild``); the old names still run,
hidden, with a deprecation note. A hint that names an old one sends people to a name that is going away,
and one that names no command at all sends them nowhere. This test reads every string constant under
``nlpkit/`` and ``pipelines/`` (``ast``: messages, f-strings, docstrings) and the code of README.md and of
every ``docs/*.md`` page (inline spans and the command lines of fenced blocks), takes each command written
between backticks, and walks it down the CLI's own click tree: every word before the arguments must be a
sub-command that is not hidden, and every ``--option`` must be one the command takes.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from nlpkit.cli import app

ROOT_DIR = Path(__file__).resolve().parents[2]
TREE = typer.main.get_command(app)
#: The module that maps old names to new ones names the old ones on purpose.
EXPLAINS_OLD_NAMES = {"nlpkit/cli/command_map.py"}
_SPAN = re.compile(r"(`{1,2})((?:\.venv/bin/)?nlpkit(?: [^`\n]*)?)\1")
_PLACEHOLDER = "ARG"


def resolve(command: str) -> str | None:
    """Why ``command`` (``nlpkit data rebuild imdb --source X``) is not a current command; None when it is."""
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote in a shortened example: plain words are enough here
        words = command.split()
    words = words[1:]  # "nlpkit"
    cmd: Any = TREE
    path = ["nlpkit"]
    while words and hasattr(cmd, "commands") and not words[0].startswith("-"):
        word = words[0]
        if word == "..." or word.isupper() or word == _PLACEHOLDER:  # `nlpkit train ...`, `nlpkit data NAME`
            break
        choices = word.split("|")  # `nlpkit train classifier|lm|seq2seq`
        unknown = [c for c in choices if c not in cmd.commands]
        if unknown:
            return f"`{' '.join(path)}` has no sub-command {unknown[0]!r}"
        hidden = [c for c in choices if cmd.commands[c].hidden]
        if hidden:
            return f"`{' '.join([*path, hidden[0]])}` is an old (hidden, deprecated) name"
        if len(choices) > 1:
            return None  # the alternatives are checked; their options would differ
        cmd = cmd.commands[word]
        path.append(word)
        words = words[1:]
    known = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
    for word in words:
        if word.startswith("--") and word.split("=")[0] not in known:
            return f"`{' '.join(path)}` has no option {word.split('=')[0]}"
    return None


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant in a Python file with its line; an f-string's fields read as ``ARG``."""
    out: list[tuple[int, str]] = []
    fstring_parts: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else _PLACEHOLDER for v in node.values)
            out.append((node.lineno, str(text)))
            fstring_parts.update(id(v) for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in fstring_parts:
            out.append((node.lineno, node.value))
    return out


def _markdown_code(text: str) -> list[tuple[int, str]]:
    """Markdown code: inline spans as they are, and each command line of a fenced block as a span."""
    out: list[tuple[int, str]] = []
    fenced = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            for command in line.split("  #")[0].split("&&"):  # `nlpkit data rebuild x && nlpkit models baseline x`
                command = command.strip().rstrip("\\").strip()
                if re.match(r"(\.venv/bin/)?nlpkit( |$)", command):
                    out.append((lineno, f"`{command}`"))
        else:
            out.append((lineno, line))
    return out


def markdown_pages() -> list[Path]:
    """README.md and every page under docs/ (the documentation that names commands)."""
    return [ROOT_DIR / "README.md", *sorted((ROOT_DIR / "docs").glob("*.md"))]


def named_commands() -> list[tuple[str, str]]:
    """``(where, command)`` for every backticked `nlpkit ...` in nlpkit/, pipelines/, README.md and docs/*.md."""
    found: list[tuple[str, str]] = []
    for folder in ("nlpkit", "pipelines"):
        for path in sorted((ROOT_DIR / folder).rglob("*.py")):
            rel = path.relative_to(ROOT_DIR).as_posix()
            if rel in EXPLAINS_OLD_NAMES:
                continue
            for lineno, text in _strings(path):
                found += [(f"{rel}:{lineno}", m.group(2)) for m in _SPAN.finditer(text)]
    for page in markdown_pages():
        rel = page.relative_to(ROOT_DIR).as_posix()
        for lineno, text in _markdown_code(page.read_text(encoding="utf-8")):
            found += [(f"{rel}:{lineno}", m.group(2)) for m in _SPAN.finditer(text)]
    return [(where, re.sub(r"^\.venv/bin/", "", command)) for where, command in found]


@pytest.mark.parametrize("command, problem", [
    ("nlpkit data rebuild imdb --source X", None),
    ("nlpkit models baseline ARG", None),
    ("nlpkit train classifier|lm|seq2seq", None),
    ("nlpkit train ...", None),
    ("nlpkit --help", None),
    ('nlpkit query "SELECT 1" --out x.csv', None),
    ("nlpkit rebuild imdb", "`nlpkit rebuild` is an old (hidden, deprecated) name"),
    ("nlpkit run ingest_news", "`nlpkit run` is an old (hidden, deprecated) name"),
    ("nlpkit store migrate", "`nlpkit store` is an old (hidden, deprecated) name"),
    ("nlpkit features buld", "`nlpkit features` has no sub-command 'buld'"),
    ("nlpkit topics apply|predikt", "`nlpkit topics` has no sub-command 'predikt'"),
    ("nlpkit data import x f.csv --max-decompressed", "`nlpkit data import` has no option --max-decompressed"),
])
def test_the_resolver_accepts_current_commands_and_names_what_is_wrong(command: str, problem: str | None) -> None:
    assert resolve(command) == problem


def test_the_scan_finds_spans_in_messages_fstrings_docstrings_readme_and_docs() -> None:
    found = named_commands()
    wheres = {w.split(":")[0] for w, _ in found}
    assert len(found) > 80
    assert {"README.md", "docs/store.md", "docs/models.md", "nlpkit/features/storeio.py",
            "pipelines/features.py"} <= wheres
    # both a fenced command line and an inline span of a docs page are read
    assert any(w.startswith("docs/store.md:") and c.startswith("nlpkit query ") for w, c in found)
    assert any(w.startswith("docs/models.md:") and c == "nlpkit data rebuild lm_korean_news" for w, c in found)
    assert any("ARG" in c for _, c in found)  # f-string fields become placeholders


def test_every_named_command_is_a_current_command() -> None:
    bad = [f"{where}: `{command}`: {problem}" for where, command in named_commands()
           if (problem := resolve(command)) is not None]
    assert bad == [], "messages name commands that are old or do not exist:\n" + "\n".join(bad)
