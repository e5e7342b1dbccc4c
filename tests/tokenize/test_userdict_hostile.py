"""Hostile dictionary lines and input files (issue #20): each bad entry is a one-line ``file:line`` error
before any engine sees it; what the parser accepts never crashes a backend; lone CRs never split lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nlpkit.errors import DictionaryError
from nlpkit.tokenize import get_tokenizer, load_user_dict
from nlpkit.tokenize.userdict import MAX_FORM_CHARS, check_form


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("좋은말\tNNP\n나쁜\x00말\tNNP\n", r"bad\.tsv:2: character U\+0000 \(Cc\) at position 3"),
        ("긴말\tNNP\n" + "가" * 100_000 + "\tNNP\n", r"bad\.tsv:2: form of 100,000 characters is over the limit of 100"),
        ("말\u2028\x7f\tNNP\n", r"bad\.tsv:1: character U\+007F \(Cc\)"),  # U+2028: a space, not a line end
        ("a\tNNP\n\x0c\nb\ud7a4\tNNP\n", r"bad\.tsv:3: character U\+D7A4 \(Cn\)"),  # form feed: still line 3
        ("말\uffff\tNNP\n", r"bad\.tsv:1: character U\+FFFF \(Cn\)"),
        ("말\x1b[31m\tNNP\n", r"bad\.tsv:1: character U\+001B \(Cc\)"),
        ("말\tNNP\tnan\n", r"bad\.tsv:1: score 'nan' is out of range"),
        ("말\tNNP\t1e400\n", r"bad\.tsv:1: score '1e400' is out of range"),
        ("말\tNNP\t-1e9\n", r"bad\.tsv:1: score '-1e9' is out of range"),
    ],
)
def test_bad_entries_are_refused_with_file_and_line(tmp_path: Path, content: str, match: str):
    p = tmp_path / "bad.tsv"
    p.write_text(content, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(DictionaryError, match=match) as info:
        load_user_dict(p)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_forms_backends_take_are_kept(tmp_path: Path):
    p = tmp_path / "ok.tsv"
    p.write_text("😀웃음\tNNG\n𠀀자\tNNP\n\"인용\"\tNNP\n" + "가" * MAX_FORM_CHARS + "\tNNP\t-100\n", encoding="utf-8")
    assert [e.form for e in load_user_dict(p).entries][:3] == ["😀웃음", "𠀀자", '"인용"']


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(min_size=1, max_size=150))
def test_parser_accepts_exactly_the_forms_check_form_accepts(tmp_path_factory, form: str):
    p = tmp_path_factory.mktemp("d") / "x.tsv"
    p.write_bytes(f"{form}\tNNP\n".encode("utf-8", "surrogatepass"))
    try:
        d = load_user_dict(p)
    except DictionaryError as e:
        assert "x.tsv:" in str(e) or "not UTF-8" in str(e)
        return
    assert all(check_form(e.form) is None and "\x00" not in e.form for e in d.entries)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
                min_size=1, max_size=5))
def test_mecab_compiles_every_accepted_dictionary(tmp_path_factory, forms: list[str]):
    """Whatever the parser accepts, mecab's dictionary compiler takes without exiting or crashing the process."""
    pytest.importorskip("mecab_ko")
    base = tmp_path_factory.mktemp("m")
    p = base / "d.tsv"
    p.write_text("".join(f"{f.replace(chr(9), ' ').replace(chr(10), ' ')}\tNNP\n" for f in forms), encoding="utf-8")
    try:
        load_user_dict(p)
    except DictionaryError:
        return
    tok = get_tokenizer("mecab", user_dicts=[p], cache=False, cache_dir=str(base / "cache"))
    tok.tokenize("오늘 날씨가 좋다")
    assert not list((base / "cache").glob("*.csv"))  # no temporary CSV left behind


def test_cli_refuses_a_nul_entry_with_one_line_and_exit_2(tmp_path: Path):
    from nlpkit.cli import app

    p = tmp_path / "bad.tsv"
    p.write_text("좋은말\tNNP\n나쁜\x00말\tNNP\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["tokens", "text", "-t", "mecab", "-d", str(p), "오늘 날씨"])
    assert res.exit_code == 2, res.output
    err = res.stderr.strip()
    assert err.startswith("error: ") and "bad.tsv:2" in err and len(err.splitlines()) == 1


def test_cli_input_file_with_a_lone_cr_gives_one_output_per_line_like_stdin(tmp_path: Path):
    from nlpkit.cli import app

    src = tmp_path / "in.txt"
    data = "첫 줄\r안에 CR\n둘째 줄\n"
    src.write_text(data, encoding="utf-8", newline="")
    from_file = CliRunner().invoke(app, ["tokens", "text", "-t", "words", "--input", str(src)])
    from_stdin = CliRunner().invoke(app, ["tokens", "text", "-t", "words"], input=data)
    assert from_file.exit_code == 0 and from_stdin.exit_code == 0, from_file.output + from_stdin.output
    assert len(from_file.stdout.splitlines()) == 2
    assert from_file.stdout == from_stdin.stdout
