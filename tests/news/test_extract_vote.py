"""Paragraph voting: the merge, the model file, and the chosen chain against trafilatura on held-out sites.

The shipped model (``nlpkit/news/paragraph_voter.json``) was trained on sites of folds 1-4
(``site_fold(url) != 0``) of both development sets; the pages of fold 0 were never seen in
training (its settings were chosen by 5-fold CV over all folds), so scoring them here is a
held-out check.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trafilatura
from nlpkit.news.encoding import decode_html
from nlpkit.news.extract import extract_article, voter_outputs
from nlpkit.news.score import score_pages, score_snippets, site_fold
from nlpkit.news.vote import (FEATURES, MAX_PARAGRAPHS, ParagraphVoter, merge_paragraphs, paragraph_features,
                              split_paragraphs, vote)

paragraph_lists = st.lists(st.sampled_from([f"p{i}" for i in range(12)]), max_size=10, unique=True)


@given(paragraph_lists, paragraph_lists)
def test_merge_keeps_every_paragraph_once_and_both_orders_where_they_agree(a: list[str], b: list[str]) -> None:
    merged = merge_paragraphs(a, b)
    assert sorted(merged) == sorted(set(a) | set(b))
    assert [p for p in merged if p in a] == a  # the primary's order is kept exactly


def test_features_mark_agreement_and_span() -> None:
    outputs = {"precision": ["Body one is here.", "Body two is here."],
               "readability": ["Menu", "Body one is here.", "Body two is here."]}
    cands = merge_paragraphs(outputs["precision"], outputs["readability"])
    assert cands == ["Menu", "Body one is here.", "Body two is here."]
    rows = paragraph_features(cands, outputs)
    col = {name: [r[k] for r in rows] for k, name in enumerate(FEATURES)}
    assert col["in_precision"] == [0.0, 1.0, 1.0]
    assert col["in_readability"] == [1.0, 1.0, 1.0]
    assert col["inside_precision_span"] == [0.0, 1.0, 1.0]


def test_model_file_is_json_with_matching_features(tmp_path: Path) -> None:
    voter = ParagraphVoter.from_json()
    assert len(voter.coefficients) == len(FEATURES) == len(voter.mean) == len(voter.scale)
    assert 0 <= voter.keep_threshold <= voter.add_threshold <= 1.01
    bad = json.loads((Path(__file__).parents[2] / "nlpkit/news/paragraph_voter.json").read_text("utf-8"))
    bad["features"] = bad["features"][:-1]
    (tmp_path / "m.json").write_text(json.dumps(bad), "utf-8")
    with pytest.raises(ValueError, match="retrain it"):
        ParagraphVoter.from_json(tmp_path / "m.json")


def test_paragraphs_per_output_are_capped() -> None:
    assert len(split_paragraphs("\n".join(f"line {i}" for i in range(50_000)))) == MAX_PARAGRAPHS


def test_vote_on_empty_outputs_is_empty() -> None:
    assert vote({"precision": "", "readability": ""}, ParagraphVoter.from_json()) == ""


def test_merge_leaves_out_a_block_that_repeats_the_primary() -> None:
    primary = ["The first paragraph of the story is here.", "The second paragraph of the story follows it."]
    block = " ".join(primary) + " Share this"
    merged = merge_paragraphs(primary, ["Menu item", block, "A caption nobody else found"])
    assert merged == [*primary, "Menu item", "A caption nobody else found"]  # no shared paragraph anchors them


def _body(html: str, url: str) -> str:
    art, _ = extract_article(html, url)
    return art.body if art else ""


@pytest.mark.slow
def test_chain_on_held_out_benchmark_sites_is_within_one_page_of_trafilatura(
        dev_pages: dict[str, tuple[str, str, str]]) -> None:
    """Benchmark pages of held-out sites (8 pages): the chain does NOT beat trafilatura here.

    Measured: chain F1 0.975, trafilatura favor_precision 0.981 (the vote dropped true paragraphs
    on 2 pages). Over all 5 site folds of cross-validation the vote gained only +0.0007 over its
    trafilatura input on this set, so no gain is claimed for it; the test pins that the loss stays
    below one page's worth (1/8 of a page's F1 ~ 0.01) and that precision does not drop.
    """
    held = {k: v for k, v in dev_pages.items() if site_fold(v[2]) == 0}
    assert len(held) == 8
    ours = score_pages((truth, _body(html, url)) for html, truth, url in held.values())
    theirs = score_pages((truth, trafilatura.extract(html, url=url, favor_precision=True) or "")
                         for html, truth, url in held.values())
    assert ours.f1 >= theirs.f1 - 0.01, (ours, theirs)
    assert ours.precision >= theirs.precision - 0.002, (ours, theirs)


@pytest.mark.slow
def test_chain_beats_trafilatura_precision_on_held_out_trafilatura_eval_sites(shared_data: Path) -> None:
    """Pages of held-out sites of trafilatura's own evaluation set, scored its way (snippets).

    Scored on the pages the chain accepts as articles (both extractors on the same pages). The
    list-page filter (unchanged by issue 24, pinned by ``test_hostile.py``) turns away 8 of these
    160 real pages whose extracted paragraphs are half link texts (og:type "website"); the
    bound below keeps that from growing unnoticed.
    """
    folder = shared_data / "extraction_eval_trafilatura"
    items = {v["file"]: (url, v) for url, v in json.loads((folder / "evaldata.json").read_text("utf-8")).items()}
    pages = []
    with tarfile.open(folder / "eval_pages.tar.gz") as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and name in items and site_fold(items[name][0]) == 0:
                pages.append((items[name], decode_html(tar.extractfile(member).read()).text))  # type: ignore[union-attr]
    assert len(pages) >= 100
    ours, theirs, refused = [], [], 0
    for (url, it), html in pages:
        art, _ = extract_article(html, url)
        if art is None:
            refused += 1
            continue
        ours.append((it["with"], it["without"], art.body))
        theirs.append((it["with"], it["without"], trafilatura.extract(html, url=url, favor_precision=True) or ""))
    assert refused <= 0.06 * len(pages)
    assert score_snippets(ours).f1 >= score_snippets(theirs).f1, (score_snippets(ours), score_snippets(theirs))


def test_voter_outputs_are_bounded_by_the_page(dev_pages: dict[str, tuple[str, str, str]]) -> None:
    html, _, url = next(iter(dev_pages.values()))
    outs = voter_outputs(html, url)
    assert set(outs) == {"precision", "readability"}
    assert all(isinstance(t, str) and len(t) <= len(html) for t in outs.values())
