"""The analyst's commands: `features analyse`, `features related`, `features stories`, `features outlets`."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.markup import escape
from rich.table import Table

from nlpkit.cli._common import console, err_console, get_store, handle_errors
from nlpkit.cli.features_cmds import features_app

_DATASET = typer.Option("korean_press", "--dataset", "-d", help="Dataset analysed with `nlpkit features analyse`.")
_SINCE = typer.Option(None, "--since", help="Only documents published on or after this day (YYYY-MM-DD, Korean time).")
_UNTIL = typer.Option(None, "--until", help="Only documents published on or before this day (YYYY-MM-DD, Korean time).")
_JSON = typer.Option(False, "--json", help="One JSON object per line, for scripts.")


@features_app.command("analyse")
@handle_errors
def analyse(dataset: str = typer.Argument(..., help="A text dataset in the store (korean_press, articles, ...).")) -> None:
    """Build the analyst's tables of DATASET: doc_terms, related_words, stories, outlet_terms."""
    from nlpkit.features.analysis import build_analysis

    err_console.print(f"analysing {dataset} ...", highlight=False)
    summary = build_analysis(get_store(), dataset)
    console.print(f"{dataset}: {summary['documents']:,} documents, {summary['terms']:,} terms; analysis_{dataset} "
                  f"{summary['analysis']}: {summary['related_rows']:,} related-word rows, {summary['stories']:,} "
                  f"stories, outlet terms: {summary['outlet_terms']}; CPU s {summary['cpu_seconds']}", highlight=False)


@features_app.command("related")
@handle_errors
def related(
    term: str = typer.Argument(..., help="A term (noun, name, number), e.g. 사드."),
    dataset: str = _DATASET,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    outlet: str | None = typer.Option(None, "--outlet", help="Only this outlet's documents, e.g. 한겨레."),
    label: str | None = typer.Option(None, "--label", help="Only documents with this label (name)."),
    group: str | None = typer.Option(None, "--group", help="Only this outlet group (left/right)."),
    n: int = typer.Option(20, "-n", "--top", min=1, help="How many related words."),
    min_count: int = typer.Option(3, "--min-count", min=1, help="Documents that must hold both terms."),
    as_json: bool = _JSON,
) -> None:
    """Related words (연관어) of TERM: terms in the same documents more often than chance (NPMI)."""
    from nlpkit.features.docterms import load_doc_terms
    from nlpkit.features.related import STATISTIC, related_words

    dt = load_doc_terms(get_store(), dataset)
    total, n_x, rel = related_words(dt, term, n=n, min_count=min_count, since=since, until=until, outlet=outlet,
                                    label=label, group=group)
    if as_json:
        for r in rel:
            console.print_json(json.dumps(asdict(r), ensure_ascii=False))
        return
    table = Table("rank", "related", "both", "docs with it", "PMI", "NPMI",
                  title=f"{escape(term)}: {n_x:,} of {total:,} documents of {dataset}")
    for k, r in enumerate(rel, 1):
        table.add_row(str(k), escape(r.term), f"{r.count:,}", f"{r.df:,}", f"{r.pmi:.2f}", f"{r.npmi:.3f}")
    console.print(table)
    console.print(f"score: {STATISTIC} (min_count={min_count})", highlight=False)
    if not rel:
        console.print(f"no term shares at least {min_count} documents with {term!r} here; try --min-count 2 or "
                      "a wider date range", highlight=False)


@features_app.command("stories")
@handle_errors
def stories(
    dataset: str = _DATASET,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    n: int = typer.Option(15, "-n", "--top", min=1, help="How many stories."),
    members: bool = typer.Option(False, "--members", help="List each story's articles too."),
) -> None:
    """The top stories (most outlets, then most articles) with the outlets that covered each and when."""
    from nlpkit.features.storyview import read_stories

    top, items = read_stories(get_store(), dataset, since=since, until=until, n=n)
    table = Table("story", "outlets", "articles", "first (KST)", "last (KST)", "headline",
                  title=f"stories in {dataset}" + (f" {since or ''}..{until or ''}" if since or until else ""))
    for s in top:
        table.add_row(str(s["story"]), escape(s["outlets"]), str(s["size"]), s["first_kst"], s["last_kst"],
                      escape(s["headline"]))
    console.print(table)
    if members:
        for s in top:
            console.print(f"story {s['story']}: {escape(s['headline'])}", highlight=False)
            for m in items.get(s["story"], []):
                console.print(f"  {m['time_kst']}  {escape(m['outlet'])}: {escape(m['title'])}", highlight=False)


@features_app.command("outlets")
@handle_errors
def outlets(
    dataset: str = _DATASET,
    term: str | None = typer.Option(None, "--term", help="Coverage share of this term per outlet over time."),
    story: int | None = typer.Option(None, "--story", help="Coverage of this story (id from `features stories`)."),
    by: str = typer.Option("outlet", "--by", help="outlet or outlet_group."),
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    n: int = typer.Option(10, "-n", "--top", min=1, help="Distinguishing terms per outlet."),
    freq: str | None = typer.Option(None, "--freq", help="D, W or M (default: from the date span)."),
) -> None:
    """Outlet comparison: distinguishing terms per outlet (log-odds, Monroe et al. 2008), or with --term /
    --story the share of each outlet's documents that cover it, per period."""
    from nlpkit.errors import FeatureError
    from nlpkit.features.docterms import load_doc_terms
    from nlpkit.features.outlets import STATISTIC, coverage, distinguishing_terms
    from nlpkit.features.storyview import story_members

    if freq is not None and freq not in ("D", "W", "M"):
        raise FeatureError(f"--freq {freq!r}: expected D, W or M")
    store = get_store()
    dt = load_doc_terms(store, dataset)
    mask = dt.mask(since=since, until=until)
    if term is not None or story is not None:
        members = story_members(store, dataset, story) if story is not None else None
        frame = coverage(dt, term=term, members=members, by=by, freq=freq, mask=mask)  # type: ignore[arg-type]
        wide = frame.pivot(index="period", columns="group", values="share").fillna(0.0)
        if story is not None:  # a story lasts days: only the periods it was covered in
            wide = wide[(wide > 0).any(axis=1)]
        counts = frame.groupby("group")[["docs_with", "docs"]].sum()
        what = f"term {term!r}" if term is not None else f"story {story}"
        table = Table("period", *[escape(str(c)) for c in wide.columns],
                      title=f"share of each {by}'s documents covering {escape(what)} ({dataset})")
        for period, row in wide.iterrows():
            table.add_row(str(period), *[f"{v:.1%}" if v else "." for v in row])
        table.add_row("all", *[f"{counts.loc[c, 'docs_with']}/{counts.loc[c, 'docs']}" for c in wide.columns])
        console.print(table)
        return
    tb = distinguishing_terms(dt, by=by, n=n, mask=mask)  # type: ignore[arg-type]
    table = Table(by, "distinguishing terms (z)", title=f"terms that set each {by} apart in {dataset}")
    rows = tb.to_pylist()
    for g in dict.fromkeys(r["group"] for r in rows):
        table.add_row(escape(g), escape(", ".join(f"{r['term']} ({r['z']:.1f})" for r in rows if r["group"] == g)))
    console.print(table)
    console.print(f"score: {STATISTIC}; |z| > 1.96 distinguishes at 5%", highlight=False)
