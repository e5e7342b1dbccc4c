"""The one typed settings object: ``flows.yaml`` plus environment overrides.

``load_settings(path, environ)`` is the only entry point. It takes the environment as an
argument (the library itself never reads ``os.environ``), so callers decide what counts:
the CLI and the flows pass ``os.environ``, tests pass a dict.

Environment overrides (highest precedence):

- ``NLPKIT_DATA_DIR``: the store's data directory (a local path or ``s3://bucket/prefix``).
- ``NLPKIT_<DATASET>_SOURCE``: the source of one dataset, e.g. ``NLPKIT_IMDB_SOURCE``.
- ``NLPKIT_NLTK_DATA`` or ``NLTK_DATA``: where NLTK's data lives.
- ``NLPKIT_JAVA_HEAP_MB``: the JVM heap for KoNLPy.
- ``NLPKIT_NEWS_DIRECTORY``: a folder of saved news pages added as the ``directory`` source
  ``local_pages`` (offline ingestion; ``make`` points it at ../shared/data when present); several
  folders separated by ``os.pathsep`` become ``local_pages``, ``local_pages_2``, ...
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nlpkit.errors import ConfigError
from nlpkit.news.sources import NewsSettings
from nlpkit.settings_ranges import (MAX_INTERVAL_S, MIN_INTERVAL_S, PARAMETER_RANGES, check_numbers,
                                    cron_fires)
from nlpkit.yaml_limits import load_yaml_bounded

__all__ = [
    "DEFAULT_SOURCES",
    "PARAMETER_RANGES",
    "check_numbers",
    "FlowSpec",
    "ScheduleSpec",
    "Settings",
    "StoreSettings",
    "load_settings",
    "format_validation_error",
]

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"

#: Where each dataset comes from when neither flows.yaml nor the environment says otherwise.
DEFAULT_SOURCES: dict[str, str] = {"imdb": IMDB_URL}

_FLOW_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleSpec(_Frozen):
    """When a flow runs: a cron expression (with time zone) or a fixed interval."""

    cron: str | None = Field(None, description="Five-field cron expression, e.g. '0 * * * *'.")
    interval: float | None = Field(None, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S, allow_inf_nan=False,
                                   description="Seconds between runs (1 s to 366 days).")
    timezone: str = Field("Asia/Seoul", description="IANA time zone the cron expression is read in.")

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleSpec:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give exactly one of 'cron' or 'interval'")
        if self.cron is not None:
            from croniter import croniter

            if not croniter.is_valid(self.cron):
                raise ValueError(f"invalid cron expression {self.cron!r} (expected 5 fields like '0 3 * * 0')")
            if cron_fires(self.cron, self.timezone if _tz_ok(self.timezone) else "UTC") is None:
                raise ValueError(f"cron expression {self.cron!r} never fires (no such date, e.g. February 30 or "
                                 "April 31); pick a day that exists")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {self.timezone!r} (expected an IANA name like 'Asia/Seoul')") from e
        return self


class FlowSpec(_Frozen):
    """One flow declared in flows.yaml."""

    name: str = Field(description="Unique flow name used by `nlpkit flows run NAME`.")
    entrypoint: str = Field(description="'path/to/file.py:function' of the Prefect flow.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments for the flow.")
    schedule: ScheduleSpec | None = Field(None, description="When `nlpkit flows serve` runs it; none = manual only.")
    depends_on: list[str] = Field(default_factory=list, description="Flows that must succeed first.")
    task_runner: Literal["default", "threads", "dask"] | dict[str, Any] = Field(
        "default", description="'default' (in-process threads), 'dask' (LocalCluster) or {dask: {address: ...}}."
    )
    retries: int = Field(0, ge=0, le=10, description="Flow-level retries (0 to 10).")
    tags: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not _FLOW_NAME.match(v):
            raise ValueError(f"flow name {v!r} must be lower-case letters, digits, '-' or '_'")
        return v

    @field_validator("entrypoint")
    @classmethod
    def _entrypoint_ok(cls, v: str) -> str:
        path, sep, func = v.partition(":")
        if not sep or not path.endswith(".py") or not func.isidentifier():
            raise ValueError(f"entrypoint {v!r} must look like 'pipelines/imdb.py:imdb_flow'")
        return v

    @model_validator(mode="after")
    def _numbers_in_range(self) -> FlowSpec:
        problems = check_numbers(self.parameters, "parameters")
        if problems:
            raise ValueError("; ".join(problems))
        return self


#: Storage options a store on object storage accepts (delta-rs names; see nlpkit.store.remote).
StorageOptionKey = Literal["endpoint_url", "access_key_id", "secret_access_key", "session_token", "region",
                           "allow_http", "conditional_put"]


class StoreSettings(_Frozen):
    """How much history the store keeps (applied by `nlpkit data vacuum`), and how to reach object storage."""

    retention: int = Field(5, ge=1, le=100_000, description="Versions of each dataset `nlpkit data vacuum` keeps (the last K).")
    append_retention_hours: int = Field(
        1, ge=0, le=100_000, description="Files of append tables replaced by compaction are deleted once this old (hours); "
        "keeps files that an append in progress has written but not yet committed.")
    storage_options: dict[StorageOptionKey, str] = Field(
        default_factory=dict, description="For data_dir s3://bucket/prefix: endpoint_url, region, allow_http, "
        "conditional_put ('etag' for safe concurrent commits on S3) and credentials (better from AWS_* variables).")


class TokenizeSettings(_Frozen):
    """Bounds on tokenization work (``nlpkit.tokenize``): what a scheduled run may spend on one document."""

    doc_budget_s: float | None = Field(60.0, gt=0, le=86_400, allow_inf_nan=False, description="Seconds one document may take in tokenize-dataset; "
                                       "over it the document is a reject 'over_budget' (None: no budget).")
    time_limit_s: float | None = Field(10.0, ge=0.01, le=86_400, allow_inf_nan=False, description="CPU seconds "
                                       "one chunk may use in a JVM tagger (okt, komoran, kkma, hannanum) before it is "
                                       "stopped and its text fails with reason 'timeout' (None: no limit).")
    max_run_chars: int | None = Field(None, ge=8, le=1_000_000, description="Runs without whitespace longer than this are cut "
                                      "before tagging; None: each backend's measured default.")


class Settings(_Frozen):
    """Everything configurable, with defaults that run on one machine."""

    data_dir: Path | str = Field(Path("data"), description="Root of the store (Delta Lake tables): a local folder, "
                                 "or s3://bucket/prefix (a string) for object storage.")
    nltk_data: Path | None = Field(None, description="NLTK data directory; None = NLTK's own search path.")
    java_heap_mb: int = Field(2048, ge=128, le=65_536, description="JVM heap (MB) for KoNLPy taggers: all four with user dictionaries need ~1.5 GB.")
    max_decompressed_mb: int = Field(
        4096, ge=1, le=1_048_576, description="Largest size (MiB) a compressed input (.gz/.zip/.bz2/.xz) may expand to; more is "
        "refused as a decompression bomb (`nlpkit data import --max-decompressed-mb` overrides it).")
    sources: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SOURCES),
        description="Dataset name -> URL, tarball, file or directory it is built from.",
    )
    flows: list[FlowSpec] = Field(default_factory=list, description="Declared flows, see FlowSpec.")
    news: NewsSettings = Field(default_factory=NewsSettings, description="News sources and fetch limits (nlpkit.news).")
    store: StoreSettings = Field(default_factory=StoreSettings, description="Version retention (`nlpkit data vacuum`).")
    tokenize: TokenizeSettings = Field(default_factory=TokenizeSettings, description="Tokenization bounds (nlpkit.tokenize).")
    profiles: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="Named sets of flow-parameter overrides, profile -> flow -> parameters "
        "(`nlpkit flows run all --profile quick`: small training budgets for a first run).")
    base_dir: Path | None = Field(None, description="Folder that relative paths in flow parameters are read from; "
                                  "set by load_settings to the settings file's folder (else the current directory).")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _local_or_uri(cls, v: Any) -> Any:
        """Local paths become ``Path``; ``scheme://...`` stays a string (``Path`` would collapse its ``//``)."""
        return Path(v) if isinstance(v, str) and "://" not in v else v

    @model_validator(mode="after")
    def _unique_flows(self) -> Settings:
        names = [f.name for f in self.flows]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"flow names must be unique; repeated: {', '.join(dupes)}")
        known = set(names)
        for f in self.flows:
            missing = [d for d in f.depends_on if d not in known]
            if missing:
                raise ValueError(f"flow {f.name!r} depends_on unknown flow(s): {', '.join(missing)}")
        for profile, overrides in self.profiles.items():
            unknown = sorted(set(overrides) - known)
            if unknown:
                raise ValueError(f"profile {profile!r} names unknown flow(s): {', '.join(unknown)}")
            problems = [p for flow, params in overrides.items()
                        for p in check_numbers(params, f"profile {profile!r}, flow {flow!r}")]
            if problems:
                raise ValueError("; ".join(problems))
        return self

    def with_profile(self, profile: str | None) -> list[FlowSpec]:
        """The declared flows with ``profile``'s parameter overrides applied (None: as declared)."""
        if profile is None:
            return list(self.flows)
        if profile not in self.profiles:
            known = ", ".join(self.profiles) or "(none)"
            raise ConfigError(f"no profile named {profile!r} in flows.yaml; declared profiles: {known}")
        over = self.profiles[profile]
        return [f.model_copy(update={"parameters": {**f.parameters, **over.get(f.name, {})}}) for f in self.flows]

    def path(self, value: str | Path) -> Path:
        """A path from a flow parameter: relative ones are read from :attr:`base_dir` (the settings file's folder)."""
        p = Path(value).expanduser()
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

    def source(self, dataset: str) -> str:
        """The configured source of ``dataset`` (URL or path), or raise naming the fix."""
        try:
            return self.sources[dataset]
        except KeyError:
            raise ConfigError(
                f"no source configured for dataset {dataset!r}; set sources.{dataset} in flows.yaml "
                f"or NLPKIT_{dataset.upper()}_SOURCE"
            ) from None

    def flow(self, name: str) -> FlowSpec:
        """The flow declared under ``name``; the error lists the declared ones."""
        for f in self.flows:
            if f.name == name:
                return f
        known = ", ".join(f.name for f in self.flows) or "(none)"
        raise ConfigError(f"no flow named {name!r} in flows.yaml; declared flows: {known}")


def format_validation_error(err: ValidationError, origin: str) -> str:
    """Pydantic's error list as one line naming the file, each key and what was expected."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = " ".join(str(e["msg"]).split())
        if e["type"] == "extra_forbidden":
            msg = f"unknown key; allowed here: {', '.join(_allowed_keys(e['loc'][:-1]))}"
        elif "input" in e and e["type"] not in ("missing",) and not isinstance(e["input"], (dict, list)):
            shown = repr(e["input"])
            msg = f"{msg}; got {shown if len(shown) <= 80 else shown[:77] + '...'}"
        parts.append(f"key '{loc}': {msg}")
    return f"{origin}: invalid settings: " + "; ".join(parts)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the settings model found at ``loc`` (for 'unknown key' messages)."""
    model: type[BaseModel] = Settings
    for part in loc:
        if isinstance(part, int) or part not in model.model_fields:
            continue
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *typing.get_args(annotation)]
        candidates += [a for c in list(candidates) for a in typing.get_args(c)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if nested:
            model = nested[0]
    return list(model.model_fields)


def _tz_ok(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def _env_overrides(environ: Mapping[str, str], raw: dict[str, Any]) -> dict[str, Any]:
    merged = dict(raw)
    if environ.get("NLPKIT_DATA_DIR"):
        merged["data_dir"] = environ["NLPKIT_DATA_DIR"]
    nltk = environ.get("NLPKIT_NLTK_DATA") or environ.get("NLTK_DATA")
    if nltk:
        merged["nltk_data"] = nltk.split(":")[0]
    if environ.get("NLPKIT_JAVA_HEAP_MB"):
        merged["java_heap_mb"] = environ["NLPKIT_JAVA_HEAP_MB"]
    sources = dict(DEFAULT_SOURCES)
    sources.update(merged.get("sources") or {})
    for key, value in environ.items():
        m = re.fullmatch(r"NLPKIT_([A-Z0-9_]+)_SOURCE", key)
        if m and value:
            sources[m.group(1).lower()] = value
    merged["sources"] = sources
    pages = [p for p in (environ.get("NLPKIT_NEWS_DIRECTORY") or "").split(os.pathsep) if p]
    if pages:  # several folders (os.pathsep-separated): local_pages, local_pages_2, ...
        names = ["local_pages", *(f"local_pages_{i}" for i in range(2, len(pages) + 1))]
        news = dict(merged.get("news") or {})
        declared = [src for src in news.get("sources") or [] if not (isinstance(src, dict) and
                                                                       str(src.get("name")).startswith("local_pages"))]
        news["sources"] = [*declared, *({"name": name, "kind": "directory", "path": path, "outlet": "saved pages",
                                         "language": "auto"} for name, path in zip(names, pages))]
        merged["news"] = news
    return merged


def _relative_to(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths written in a settings file mean relative to that file, not to the cwd."""
    out = dict(raw)
    for key in ("data_dir", "nltk_data"):
        if isinstance(out.get(key), str) and "://" not in out[key] and not Path(out[key]).expanduser().is_absolute():
            out[key] = str(base / out[key])
    if isinstance(out.get("sources"), dict):
        out["sources"] = {
            k: (str(base / v) if isinstance(v, str) and "://" not in v and not Path(v).expanduser().is_absolute() else v)
            for k, v in out["sources"].items()
        }
    news = out.get("news")
    if isinstance(news, dict) and isinstance(news.get("sources"), list):  # url files and saved-page folders
        out["news"] = {**news, "sources": [
            {**src, "path": str(base / src["path"])}
            if isinstance(src, dict) and isinstance(src.get("path"), str) and not Path(src["path"]).expanduser().is_absolute()
            else src
            for src in news["sources"]]}
    return out


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from a flows.yaml (optional) and an environment mapping.

    Relative paths in the file are relative to the file; relative paths from the environment
    are relative to the current directory.
    Raises ConfigError naming the file and key on any problem.
    """
    environ = environ or {}
    raw: dict[str, Any] = {}
    origin = "<defaults>"
    if path is not None:
        p = Path(path)
        origin = str(p)
        if not p.is_file():
            raise ConfigError(f"settings file {origin} not found (pass --flows FILE or set NLPKIT_FLOWS)")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{origin}: not UTF-8 (byte {e.start}); save it as UTF-8") from e
        loaded = load_yaml_bounded(text, origin)  # size, depth and alias expansion checked before building
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{origin}: expected a mapping at the top level, got {type(loaded).__name__}")
        raw = _relative_to(loaded, p.resolve().parent)
    try:
        settings = Settings.model_validate(_env_overrides(environ, raw))
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, origin)) from e
    return settings.model_copy(
        update={
            "data_dir": settings.data_dir.expanduser().resolve() if isinstance(settings.data_dir, Path)
            else settings.data_dir,
            "nltk_data": settings.nltk_data.expanduser().resolve() if settings.nltk_data else None,
            "base_dir": (settings.base_dir or (Path(path).resolve().parent if path is not None else Path.cwd())).resolve(),
        }
    )
