"""Train and cross-validate the paragraph voter (:mod:`nlpkit.news.vote`) on both extraction dev sets.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/train_paragraph_voter.py [--cache DIR] [--write]``

Labels per candidate paragraph:

* ``article_extraction_dev``: kept when at least half of its 4-token shingles are in the true body;
* ``extraction_eval_trafilatura``: kept when it contains a ``with`` snippet, dropped when it contains
  a ``without`` snippet, unlabelled (not trained on) otherwise.

Protocol: pages are split into 5 folds by site (a site's pages share a fold) in both sets. For
each candidate setting (regularisation C, keep and add thresholds) the page-level scores of each set are
computed on held-out folds (:func:`cross_validate`), and "develop on one, confirm on the other"
is reported: trained on all of one set, scored on the other. ``--write`` stores the model trained
on folds 1-4 of both sets (fold 0 stays held out for the test in
``tests/news/test_extract_vote.py``) as JSON in ``nlpkit/news/paragraph_voter.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_extraction as B  # noqa: E402

from nlpkit.news.extract import clean_paragraphs, voter_outputs  # noqa: E402
from nlpkit.news.score import site_fold  # noqa: E402
from nlpkit.news.vote import FEATURES, ParagraphVoter, _shingles, merge_paragraphs, paragraph_features, split_paragraphs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "nlpkit" / "news" / "paragraph_voter.json"
FOLDS = 5


def page_rows(page: B.Page, outputs: dict[str, str]) -> tuple[list[str], list[list[float]], list[int], list[float]]:
    """Candidates, feature rows, labels (1 keep, 0 drop, -1 unknown) and training weights of one page.

    Weights follow each set's metric: on the benchmark a paragraph weighs its share of the page's
    tokens (the shingle score is per page and per token); on the snippet set every labelled
    paragraph of a page weighs the same. Each page sums to 1.
    """
    paras = {k: split_paragraphs(v) for k, v in outputs.items()}
    cands = merge_paragraphs(paras["precision"], paras["readability"])
    rows = paragraph_features(cands, paras) if cands else []
    labels = []
    if page.truth:
        truth = _shingles(page.truth)
        for c in cands:
            own = _shingles(c)
            labels.append(int(bool(own) and len(own & truth) / len(own) >= 0.5))
    else:
        for c in cands:
            labels.append(0 if any(s in c for s in page.without) else 1 if any(s in c for s in page.with_) else -1)
    sizes = [float(len(c.split())) if page.truth else 1.0 for c in cands]
    total = sum(z for z, y in zip(sizes, labels) if y >= 0) or 1.0
    return cands, rows, labels, [z / total for z in sizes]


def load_set(pages: list[B.Page], cache: Path | None) -> list[tuple[list[str], list[list[float]], list[int]]]:
    """Per page: candidates, features, labels (extractor outputs cached in ``cache``)."""
    texts, _ = B.run("voter inputs v2", lambda h, u: json.dumps(voter_outputs(h, u)), pages, cache)
    return [page_rows(p, json.loads(t)) for p, t in zip(pages, texts)]


def fit(data: list, idx: list[int], c: float, page_weight: list[float] | None = None) -> ParagraphVoter:
    """Weighted logistic regression on the labelled paragraphs of pages ``idx`` (standardised features)."""
    from sklearn.linear_model import LogisticRegression

    pw = page_weight or [1.0] * len(data)
    x = np.array([r for i in idx for r, y in zip(data[i][1], data[i][2]) if y >= 0], dtype=float)
    y = np.array([y for i in idx for y in data[i][2] if y >= 0])
    w = np.array([pw[i] * z for i in idx for z, y in zip(data[i][3], data[i][2]) if y >= 0])
    mean, scale = x.mean(0), x.std(0)
    mean[0], scale[0] = 0.0, 1.0
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000).fit((x - mean) / scale, y,
                                                                             sample_weight=w * len(w) / w.sum())
    return ParagraphVoter(tuple(model.coef_[0]), 0.5, 0.5, tuple(mean), tuple(scale))


def texts_of(data: list, idx: list[int], voter: ParagraphVoter) -> list[str]:
    out = []
    for i in idx:
        cands, rows = data[i][0], data[i][1]
        out.append("\n".join(c for c, k in zip(cands, voter.keep(rows) if rows else []) if k))
    return out


def with_thresholds(v: ParagraphVoter, keep: float, add: float) -> ParagraphVoter:
    return ParagraphVoter(v.coefficients, keep, add, v.mean, v.scale)


def _line(scores: dict[str, dict[str, float]]) -> str:
    return " | ".join(f"{s} F1 {r['f1']:.4f} P {r['precision']:.4f} R {r['recall']:.4f}" for s, r in scores.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--write", action="store_true", help=f"store the model trained on folds 1-4 in {MODEL}")
    args = ap.parse_args()
    sets = {"bench": B.load_benchmark(), "eval": B.load_trafilatura_eval()}
    data = {s: load_set(p, args.cache) for s, p in sets.items()}
    folds = {s: [site_fold(p.url, FOLDS) for p in pages] for s, pages in sets.items()}
    print("the voter's inputs alone: " + " | ".join(
        f"{s} trafilatura precision(+default when short) F1 {B.score(sets[s], [chr(10).join(d[0][k] for k in range(len(d[0])) if d[1][k][1] >= 0.5) for d in data[s]])['f1']:.4f}"
        for s in sets))
    grid = [(c, keep, add) for c in (0.1, 1.0) for keep in (0.0, 0.2, 0.35, 0.5) for add in (0.5, 0.7, 0.85, 1.01)]
    preds = {g: {s: [""] * len(sets[s]) for s in sets} for g in grid}
    for f in range(FOLDS):
        keys = [(s, i) for s in sets for i, g in enumerate(folds[s]) if g != f]
        count = {s: sum(1 for k in keys if k[0] == s) for s in sets}
        flat = [data[s][i] for s, i in keys]
        for c in (0.1, 1.0):
            voter = fit(flat, list(range(len(flat))), c, [1.0 / count[s] for s, _ in keys])
            for s in sets:
                test = [i for i, g in enumerate(folds[s]) if g == f]
                for g in grid:
                    if g[0] == c:
                        for i, text in zip(test, texts_of(data[s], test, with_thresholds(voter, g[1], g[2]))):
                            preds[g][s][i] = text
    results = {g: {s: B.score(sets[s], preds[g][s]) for s in sets} for g in grid}
    for g in grid:
        print(f"CV {FOLDS} folds by site, C={g[0]} keep>={g[1]} add>={g[2]}: {_line(results[g])}")
    best = max(grid, key=lambda g: sum(r["f1"] for r in results[g].values()))
    print(f"chosen by mean CV F1 over both sets: C={best[0]} keep>={best[1]} add>={best[2]}: {_line(results[best])}")
    cleaned = {s: B.score(sets[s], [clean_paragraphs(t) for t in preds[best][s]]) for s in sets}
    print(f"the same held-out texts after nlpkit's paragraph clean-up: {_line(cleaned)}")
    for train_set, test_set in (("eval", "bench"), ("bench", "eval")):
        n = len(sets[train_set])
        voter = with_thresholds(fit(data[train_set], list(range(n)), best[0]), best[1], best[2])
        r = B.score(sets[test_set], texts_of(data[test_set], list(range(len(sets[test_set]))), voter))
        print(f"develop on {train_set}, confirm on {test_set}: {_line({test_set: r})}")
    if args.write:
        keys = [(s, i) for s in sets for i, g in enumerate(folds[s]) if g != 0]
        count = {s: sum(1 for k in keys if k[0] == s) for s in sets}
        pooled = [data[s][i] for s, i in keys]
        voter = fit(pooled, list(range(len(pooled))), best[0], [1.0 / count[s] for s, _ in keys])
        MODEL.write_text(json.dumps({
            "features": list(FEATURES), "coefficients": [round(w, 6) for w in voter.coefficients],
            "mean": [round(m, 6) for m in voter.mean], "scale": [round(x, 6) for x in voter.scale],
            "keep_threshold": best[1], "add_threshold": best[2], "C": best[0],
            "trained_on": "folds 1-4 (site sha256 % 5 != 0) of article_extraction_dev and extraction_eval_trafilatura; "
                          "fold 0 held out (tests/news/test_extract_vote.py)",
            "cv_5_folds_by_site": {s: {k: round(v, 4) for k, v in r.items()} for s, r in results[best].items()},
        }, indent=1) + "\n", "utf-8")
        print(f"wrote {MODEL}")


if __name__ == "__main__":
    main()
