"""Settings helpers shared by the news tests: polite limits off, short timeouts (servers are local)."""

from __future__ import annotations

from pathlib import Path

from nlpkit.news.sources import FetchOptions, NewsSettings, SourceSpec


def fast_fetch(**overrides: object) -> FetchOptions:
    """Polite limits off, short timeouts: the test servers are local."""
    base = dict(per_host_delay=0.0, per_host_concurrency=16, retries=1, backoff=0.05, connect_timeout=1.0,
                read_timeout=1.5, total_timeout=3.0, max_retry_after=5.0)
    base.update(overrides)
    return FetchOptions(**base)  # type: ignore[arg-type]


def url_source(tmp_path: Path, urls: list[str], name: str = "test", **kw: object) -> SourceSpec:
    f = tmp_path / f"{name}.txt"
    f.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return SourceSpec(name=name, kind="urls", path=f, outlet=kw.pop("outlet", "Test Outlet"), **kw)  # type: ignore[arg-type]


def news_settings(sources: list[SourceSpec], **fetch: object) -> NewsSettings:
    return NewsSettings(sources=sources, fetch=fast_fetch(**fetch), extract_workers=0, flush_every=10)


def use_directory_flows(tmp_path: Path, monkeypatch: object, source: dict[str, object], *, data_dir: Path,
                        extract_workers: int) -> Path:
    """Write a flows.yaml with one `directory` news source and the ingest flow, point the CLI at it; returns it."""
    import yaml

    from nlpkit.cli import _common

    flows = tmp_path / "flows.yaml"
    flows.write_text(yaml.safe_dump({
        "data_dir": str(data_dir),
        "news": {"extract_workers": extract_workers, "sources": [{"kind": "directory", **source}]},
        "flows": [{"name": "ingest_news", "entrypoint": "pipelines/news.py:ingest_news"}],
    }, allow_unicode=True))
    monkeypatch.setenv("NLPKIT_FLOWS", str(flows))  # type: ignore[attr-defined]
    monkeypatch.delenv("NLPKIT_DATA_DIR", raising=False)  # type: ignore[attr-defined]
    _common._state.clear()
    return flows
