"""Where the RNN classifier's tokens come from: the stored ``tokens_<dataset>_<backend>`` dataset.

Training never re-tokenizes a stored corpus: :func:`attach_stored_tokens` reads the tokens
dataset the tokenize stage built (with the user dictionaries), building or updating it first
(incrementally: only new or changed documents reach the engine) when it is missing or stale.
The model directory records what was read (:class:`TokensRecord`: dataset name and version,
backend, dictionaries and their sha256), and :func:`text_tokenizer` rebuilds exactly that
tokenizer for ``predict``. The engine-free tokenizers ``words``/``chars``/``whitespace``
run in memory while the tokenize layer does not register them as backends.

A model's unit is the morpheme's form (``token_format="form"``: ``좋``) or form and tag
(``"form_tag"``: ``좋/VA``, the backend's own tag): the tag tells apart homographs such as
the copula ``이/VCP`` and the subject particle ``이/JKS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from nlpkit.errors import ModelError, NlpkitError

__all__ = ["TOKEN_FORMATS", "TokenFormat", "TokensRecord", "is_engine_backend", "text_tokenizer",
           "record_tokenizer", "attach_stored_tokens", "read_stored_tokens", "keeps"]

TokenFn = Callable[[Sequence[str]], list[list[str]]]
TokenFormat = Literal["form", "form_tag"]
TOKEN_FORMATS: tuple[TokenFormat, ...] = ("form", "form_tag")


def _unit(form: str, tag: str, token_format: str) -> str:
    return f"{form}/{tag}" if token_format == "form_tag" else form


def check_token_format(token_format: str, backend: str) -> None:
    """Refuse an unknown format, or tags from an in-memory tokenizer (it has none)."""
    if token_format not in TOKEN_FORMATS:  # settings check it first; a saved config.json may not
        raise ModelError(f"token_format must be one of {', '.join(TOKEN_FORMATS)}, got {token_format!r}")
    if token_format == "form_tag" and not is_engine_backend(backend):
        raise ModelError(f"token_format 'form_tag' needs a tokenize backend (mecab, kiwi, okt, ...); "
                         f"{backend!r} has no tags: use token_format 'form'")


@dataclass(frozen=True)
class TokensRecord:
    """The stored tokens a model was trained on (``config.json``'s ``tokens`` section)."""

    backend: str
    user_dicts: tuple[str, ...]
    dict_sha256: str
    fingerprint: str
    dataset: str = ""  # tokens_<dataset>_<backend>; empty for in-memory tokenizers
    version: str = ""
    options: tuple[tuple[str, Any], ...] = ()  # backend options the tokenize stage used
    token_format: TokenFormat = "form"  # form (좋) or form_tag (좋/VA)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "user_dicts": list(self.user_dicts), "options": dict(self.options)}


def is_engine_backend(name: str) -> bool:
    """True when ``name`` is a backend of the tokenize layer (its tokens are stored datasets)."""
    from nlpkit.tokenize.registry import BACKENDS

    return name in BACKENDS


def _engine(name: str, user_dicts: Sequence[str], options: dict[str, Any] | None = None) -> Any:
    from nlpkit.tokenize import get_tokenizer

    for d in user_dicts:
        if not Path(d).is_file():
            raise ModelError(f"user dictionary {d} does not exist; give a TSV file like dictionaries/ko/news.tsv")
    try:
        return get_tokenizer(name, user_dicts=list(user_dicts), **(options or {}))
    except NlpkitError as e:
        raise ModelError(f"tokenizer {name!r}: {e}") from e


def record_tokenizer(name: str, user_dicts: Sequence[str] = (), dict_sha256: str | None = None,
                     options: dict[str, Any] | None = None) -> Any:
    """The engine tokenizer a model was trained with (full :class:`~nlpkit.tokenize.Token` output).

    ``dict_sha256`` (from a model directory) must match the dictionaries' current contents:
    a model sees new text through the dictionary it was trained with or not at all.
    """
    tok = _engine(name, user_dicts, options)
    now = getattr(tok, "dict_sha256", "")
    if dict_sha256 is not None and dict_sha256 != now:
        raise ModelError(f"the user dictionaries {list(user_dicts)} changed since the model was trained "
                         f"(sha256 {dict_sha256[:12]} -> {now[:12]}); retrain it on the re-tokenized dataset")
    return tok


def keeps(view: str, ptag: str) -> bool:
    """Whether a token with project tag ``ptag`` is in ``view`` (``all``, or ``content``: CONTENT_PTAGS)."""
    from nlpkit.tokenize.base import CONTENT_PTAGS

    return view == "all" or ptag in CONTENT_PTAGS


def text_tokenizer(name: str, user_dicts: Sequence[str] = (), dict_sha256: str | None = None,
                   options: dict[str, Any] | None = None, view: str = "all",
                   token_format: TokenFormat = "form") -> TokenFn:
    """``texts -> token units`` with backend ``name``, ``user_dicts`` and ``options``, as the tokenize stage runs it
    (units: forms or ``form/tag``, ``token_format``; ``view="content"`` keeps content words only).

    ``dict_sha256`` (from a model directory) must match the dictionaries' current contents:
    a model predicts with the dictionary it was trained with or not at all.
    """
    check_token_format(token_format, name)
    if not is_engine_backend(name):
        from nlpkit.rnn.data import get_token_fn

        return get_token_fn(name)
    tok = record_tokenizer(name, user_dicts, dict_sha256, options)

    def run(texts: Sequence[str]) -> list[list[str]]:
        return [[_unit(t.form, t.tag, token_format) for t in tokens if keeps(view, t.ptag)]
                for tokens in tok.tokenize_batch(list(texts))]

    return run


def attach_stored_tokens(store: Any, dataset: str, splits: Any, backend: str, user_dicts: Sequence[str] = (),
                         *, token_format: TokenFormat = "form", progress: Callable[[int], None] | None = None,
                         view: str = "all") -> TokensRecord:
    """Fill ``splits.tokens`` (per split, in ``splits.ids`` order) from ``tokens_<dataset>_<backend>``,
    each token as its form or ``form/tag`` (``token_format``).

    Without ``user_dicts`` the dictionaries and options recorded by the stored tokens dataset
    are used (the tokenize stage's choice); given ones replace them. ``view="content"`` keeps
    content words only (:data:`~nlpkit.tokenize.base.CONTENT_PTAGS`).

    The tokens dataset is brought up to date first with :func:`nlpkit.tokenize.dataset.tokenize_dataset`
    (a no-op when every document is already stored with this backend and dictionary). A
    document the engine rejected has no tokens row: it is left out of training and noted.
    """
    if not splits.ids:
        raise ModelError(f"dataset {dataset!r} has no id column; stored tokens are joined by id")
    check_token_format(token_format, backend)
    table, record = read_stored_tokens(store, dataset, backend, user_dicts, text_column=splits.text_column,
                                       progress=progress)
    wanted = {doc for ids in splits.ids.values() for doc in ids}
    forms = _stored_units(table, token_format, view, wanted)
    missing = 0
    for sp in list(splits.ids):
        keep = [i for i, doc in enumerate(splits.ids[sp]) if doc in forms]
        missing += len(splits.ids[sp]) - len(keep)
        splits.ids[sp] = [splits.ids[sp][i] for i in keep]
        splits.labels[sp] = [splits.labels[sp][i] for i in keep]
        splits.texts[sp] = [splits.texts[sp][i] for i in keep]
    splits.tokens = {sp: [forms[d] for d in ids] for sp, ids in splits.ids.items()}
    if missing:
        splits.notes.append(f"{missing} documents without stored tokens (rejected by the tokenizer) left out")
    return replace(record, token_format=token_format)


def read_stored_tokens(store: Any, dataset: str, backend: str, user_dicts: Sequence[str] = (), *,
                       text_column: str | Sequence[str] = "text", columns: Sequence[str] = ("id", "tokens"),
                       progress: Callable[[int], None] | None = None) -> tuple[Any, TokensRecord]:
    """``columns`` of ``tokens_<dataset>_<backend>`` (brought up to date first) and what was read.

    Without ``user_dicts`` the dictionaries and options recorded by the stored tokens dataset are
    used (the tokenize stage's choice); given ones replace them. Updating is incremental
    (:func:`nlpkit.tokenize.dataset.tokenize_dataset`): when every document is stored with this
    backend and dictionary, the engine tokenizes nothing.
    """
    from nlpkit.errors import DatasetNotFoundError
    from nlpkit.tokenize.dataset import tokenize_dataset, tokens_dataset_name

    options: dict[str, Any] = {}
    if not user_dicts:  # none given: the dictionaries and options the tokenize stage stored
        try:
            stored = store.latest(tokens_dataset_name(dataset, backend)).manifest.get("parameters") or {}
        except DatasetNotFoundError:
            stored = {}
        spec = stored.get("tokenizer") or {}
        user_dicts, options = tuple(spec.get("user_dicts", ())), dict(spec.get("options", {}))
    from nlpkit.tokenize.stored_terms import current_tokens

    _engine(backend, user_dicts, options)  # checks the dictionaries before any work
    kw = {"user_dicts": list(user_dicts), "options": options, "text_column": text_column}
    name = tokens_dataset_name(dataset, backend)
    if current_tokens(store, dataset, backend, **kw) is None:  # else up to date: no plan reads the corpus again
        name = tokenize_dataset(store, dataset, backend, progress=progress, **kw).out_name
    info = store.latest(name)
    table = store.read(name, version=info.version, columns=list(columns))
    params = info.manifest.get("parameters") or {}
    return table, TokensRecord(backend=backend, user_dicts=tuple(str(Path(d).resolve()) for d in user_dicts),
                               dict_sha256=str(params.get("dict_sha256", "")),
                               fingerprint=str(params.get("fingerprint", "")), dataset=name,
                               version=info.version, options=tuple(sorted(options.items())))


def _stored_units(table: Any, token_format: str, view: str = "all",
                  wanted: set[str] | None = None) -> dict[str, list[str]]:
    """Document id -> its token units, read column-wise: no Python object per token beyond its unit
    string (200k reviews in seconds; IMDB's 25M tokens as dicts took over 15 GB). Only the ``wanted``
    documents are kept (a classifier needs no unlabelled rows); ``view`` filters by project tag.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if wanted is not None:
        table = table.filter(pc.is_in(table.column("id"), value_set=pa.array(sorted(wanted), pa.string())))
    col = table.column("tokens").combine_chunks()
    offsets, flat = col.offsets.to_numpy(), col.flatten()
    if view != "all":
        from nlpkit.tokenize.base import CONTENT_PTAGS

        from nlpkit.tokenize.token_rows import keep_tokens

        mask = pc.is_in(flat.field("ptag"), value_set=pa.array(sorted(CONTENT_PTAGS), pa.string()))
        offsets, flat = keep_tokens(offsets, flat, pc.fill_null(mask, False))
    forms = flat.field("form").to_pylist()
    units = forms if token_format == "form" else [_unit(f, t, token_format)
                                                  for f, t in zip(forms, flat.field("tag").to_pylist(), strict=True)]
    return {doc: units[offsets[i]:offsets[i + 1]] for i, doc in enumerate(table.column("id").to_pylist())}
