"""Article extraction quality on two development sets, every candidate in one run, with CPU ms per page.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_extraction.py [--limit N] [--cache DIR] [--out FILE]``

Sets (both real pages, read from ``shared/data``):

* ``article_extraction_dev``: 60 English pages of the public article-extraction benchmark, scored
  with its own method (4-token shingles, per-page macro precision/recall, F1 of the two means;
  :mod:`nlpkit.news.score`).
* ``extraction_eval_trafilatura``: 923 pages (884 with snippets) from trafilatura's own evaluation,
  scored as its ``tests/comparison.py`` does: a ``with`` snippet found in the text is a true
  positive, missing a false negative; a ``without`` snippet found is a false positive; precision,
  recall and F-score over all snippets of all pages.

Candidates: nlpkit's previous chain (``extract_article`` as of commit 796ba9d, read from git:
trafilatura ``favor_precision`` -> default when short -> newspaper4k, then the paragraph clean-up), trafilatura default / ``favor_precision`` /
``favor_recall``, readability-lxml, jusText (all its stoplists together, as trafilatura does),
and nlpkit's chain today (:func:`nlpkit.news.extract.extract_article`). Times are CPU
milliseconds per page (``time.process_time``) on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nlpkit.news.score import site_of

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NLPKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
Extractor = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class Page:
    """One development page: its HTML, URL, site, and what it is scored against."""

    key: str
    html: str
    url: str
    site: str
    truth: str = ""  # article body (benchmark set)
    with_: tuple[str, ...] = ()  # snippets that must be in the text (trafilatura set)
    without: tuple[str, ...] = ()  # snippets that must not be


def load_benchmark(limit: int | None = None) -> list[Page]:
    """The 60 pages of ``article_extraction_dev`` with their true article bodies."""
    dev = SHARED / "article_extraction_dev"
    truth = json.loads((dev / "ground-truth.json").read_text("utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        html = gzip.decompress((dev / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8")
        url = truth[key]["url"]
        pages.append(Page(key, html, url, site_of(url), truth=truth[key]["articleBody"]))
    return pages


def load_trafilatura_eval(limit: int | None = None) -> list[Page]:
    """The pages of ``extraction_eval_trafilatura`` that have snippets, decoded as nlpkit decodes pages."""
    from nlpkit.news.encoding import decode_html

    folder = SHARED / "extraction_eval_trafilatura"
    items = json.loads((folder / "evaldata.json").read_text("utf-8"))
    by_file = {v["file"]: (url, v) for url, v in items.items()}
    pages = []
    with tarfile.open(folder / "eval_pages.tar.gz") as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if not member.isfile() or name not in by_file:
                continue
            url, item = by_file[name]
            raw = tar.extractfile(member).read()  # type: ignore[union-attr]
            pages.append(Page(name, decode_html(raw).text, url, site_of(url),
                              with_=tuple(item["with"]), without=tuple(item["without"])))
    pages.sort(key=lambda p: p.key)
    return pages[:limit]


def score_snippets(pages: list[Page], texts: list[str]) -> dict[str, float]:
    """trafilatura's evaluation: P, R, F over all snippets of all pages (:func:`nlpkit.news.score.score_snippets`)."""
    from nlpkit.news.score import score_snippets as snippets

    s = snippets((p.with_, p.without, t) for p, t in zip(pages, texts))
    return {"f1": s.f1, "precision": s.precision, "recall": s.recall}


def score_benchmark(pages: list[Page], texts: list[str]) -> dict[str, float]:
    """The article-extraction benchmark's shingle F1 (macro over pages)."""
    from nlpkit.news.score import score_pages

    s = score_pages((p.truth, t) for p, t in zip(pages, texts))
    return {"f1": s.f1, "precision": s.precision, "recall": s.recall}


def score(pages: list[Page], texts: list[str]) -> dict[str, float]:
    """Each set with its own method."""
    return score_benchmark(pages, texts) if pages and pages[0].truth else score_snippets(pages, texts)


# -- candidates --------------------------------------------------------------------------------------
def _justext_stoplist() -> frozenset[str]:
    import justext

    return frozenset().union(*(justext.get_stoplist(lang) for lang in justext.get_stoplists()))


#: the commit issue 24's branch started from: its extract.py is the "previous chain"
PREVIOUS = "796ba9d"


def _previous_extract() -> types.ModuleType:
    """``nlpkit/news/extract.py`` as it was at :data:`PREVIOUS` (from git), imported under another name."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{PREVIOUS}:nlpkit/news/extract.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("nlpkit_previous_extract")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{PREVIOUS}:nlpkit/news/extract.py", "exec"), module.__dict__)  # noqa: S102 (our own file)
    return module


def candidates() -> dict[str, Extractor]:
    """name -> function(html, url) -> text; optional extractors that are not installed are left out."""
    import trafilatura

    from nlpkit.news.extract import extract_article

    previous = _previous_extract()

    def previous_chain(html: str, url: str) -> str:  # nlpkit's extract_article before issue 24
        art, _ = previous.extract_article(html, url)
        return art.body if art else ""

    def chain(html: str, url: str) -> str:
        art, _ = extract_article(html, url)
        return art.body if art else ""

    out: dict[str, Extractor] = {
        f"nlpkit previous chain (extract_article @ {PREVIOUS})": previous_chain,
        "trafilatura default": lambda h, u: trafilatura.extract(h, url=u) or "",
        "trafilatura favor_precision": lambda h, u: trafilatura.extract(h, url=u, favor_precision=True) or "",
        "trafilatura favor_recall": lambda h, u: trafilatura.extract(h, url=u, favor_recall=True) or "",
    }
    try:
        from lxml import html as lxml_html
        from readability import Document

        def readability(html: str, url: str) -> str:
            try:
                summary = lxml_html.fromstring(Document(html, url=url).summary())
            except Exception:  # readability raises on some pages; count it as an empty extraction
                return ""
            return "\n".join(" ".join(t.split()) for t in summary.itertext() if t.strip())

        out["readability-lxml"] = readability
    except ImportError:
        pass
    try:
        import justext

        stoplist = _justext_stoplist()

        def jt(html: str, url: str) -> str:
            try:
                return "\n".join(p.text for p in justext.justext(html, stoplist) if not p.is_boilerplate)
            except Exception:
                return ""

        out["jusText (all stoplists)"] = jt
    except ImportError:
        pass
    out["nlpkit chain (this branch)"] = chain
    return out


def run(name: str, fn: Extractor, pages: list[Page], cache: Path | None) -> tuple[list[str], float]:
    """Texts of one candidate on one set and its CPU ms per page (read from ``cache`` when present)."""
    path = cache / f"{re.sub(r'[^A-Za-z0-9]+', '_', name)}_{len(pages)}_{pages[0].key}.json" if cache else None
    if path and path.exists() and not name.startswith("nlpkit"):  # the two chains are timed in this run
        data = json.loads(path.read_text("utf-8"))
        return data["texts"], data["ms"]
    texts = []
    t0 = time.process_time()
    for page in pages:
        texts.append(fn(page.html, page.url))
    ms = 1000 * (time.process_time() - t0) / max(1, len(pages))
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"texts": texts, "ms": ms}), "utf-8")
    return texts, ms


def _rows(sets: dict[str, list[Page]], cache: Path | None) -> Iterator[dict[str, object]]:
    for name, fn in candidates().items():
        row: dict[str, object] = {"extractor": name}
        for set_name, pages in sets.items():
            texts, ms = run(name, fn, pages, cache)
            row[set_name] = {k: round(v, 4) for k, v in score(pages, texts).items()} | {"ms_per_page": round(ms, 1)}
        yield row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N pages of each set (smoke runs)")
    ap.add_argument("--cache", type=Path, default=None, help="reuse other candidates' outputs from this folder")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "extraction.md")
    args = ap.parse_args()
    sets = {"benchmark (60 pages, shingle F1)": load_benchmark(args.limit),
            "trafilatura eval (snippets)": load_trafilatura_eval(args.limit)}
    lines = ["| extractor | " + " | ".join(f"{s}: F1 / P / R / CPU ms per page" for s in sets) + " |",
             "|---|" + "---|" * len(sets)]
    for row in _rows(sets, args.cache):
        cells = []
        for s in sets:
            r = row[s]  # type: ignore[index]
            cells.append(f"{r['f1']:.4f} / {r['precision']:.4f} / {r['recall']:.4f} / {r['ms_per_page']:.1f}")
        lines.append(f"| {row['extractor']} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    header = (f"# Article extraction on two development sets ({', '.join(f'{s}: {len(p)} pages' for s, p in sets.items())})\n\n"
              "CPU ms per page from `time.process_time` on the shared 2-core machine (loaded by other sessions). "
              "The two nlpkit chains are always run and timed in this run, one after the other; with `--cache` the "
              "other rows' texts and times come from an earlier run on the same machine.\n\n")
    if args.limit is None:
        args.out.write_text(header + "\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    main()
