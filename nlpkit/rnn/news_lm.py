"""A Korean news language model trained on the stored tokens of a news dataset, never re-tokenized.

The tokenize stage stores ``tokens_<dataset>_<backend>`` (``tokens_korean_news_kiwi``: every
morpheme's form, tag and offsets, with the project's user dictionary). This module turns those
rows into the LM's token stream, split by the dataset's own ``split`` column (train / valid /
test articles):

- ``level="morph"``: one token per morpheme, ``form/tag`` (``정부/NNG``), prefixed with ``▁``
  when whitespace precedes it in the source (read from the offsets). Form, tag and spacing are
  what :meth:`kiwipiepy.Kiwi.join` needs to write the morphemes back as Korean
  (``하/XSV 었/EP 다/EF`` -> ``했다``), so generated text reads as text, not as tags.
- ``level="char"``: the characters the same tokens cover, with one space for each gap: the
  text as the tokenizer saw it. Both levels cover exactly the same characters, so their
  losses per character are comparable (morpheme loss per token x tokens / characters).

Articles are separated by ``<eos>`` (morph) or a line break (char). The driver
(:func:`nlpkit.rnn.lm_train.train_lm`) trains, early-stops on the valid articles and saves;
:func:`train_news_lm` adds the test articles' loss. :func:`generate_news`
analyses a prompt with the tokenizer recorded in the model directory (the same dictionary, or
an error), samples morphemes and joins them.

>>> morph_token("정부", "NNG", spaced=True), split_morph("▁정부/NNG")
('▁정부/NNG', ('정부', 'NNG', True))
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nlpkit.errors import DatasetError, ModelError
from nlpkit.rnn.configs import LMSettings, with_overrides
from nlpkit.rnn.driver import TrainResult
from nlpkit.rnn.token_source import TokensRecord, read_stored_tokens, record_tokenizer
from nlpkit.rnn.train_loop import ProgressFn

__all__ = ["SPACE", "MORPH_VOCAB", "NewsCorpus", "morph_token", "split_morph", "doc_units", "load_news_corpus",
           "train_news_lm", "detokenize", "generate_news", "evaluate_news_lm", "morph_sentence_end"]

log = logging.getLogger(__name__)

#: Prefix of a morpheme that follows whitespace (SentencePiece's word-boundary mark).
SPACE = "▁"
_SEPARATOR = {"morph": "<eos>", "char": "\n"}
#: Morpheme vocabulary when none is given: on korean_news the 8,000 most frequent ``[▁]form/tag``
#: types cover 92.7% of the tokens (4,000: 87%; 16,000: 97%).
MORPH_VOCAB = 8000


def morph_token(form: str, tag: str, spaced: bool) -> str:
    """The LM token of one morpheme: ``[▁]form/tag``."""
    return f"{SPACE if spaced else ''}{form}/{tag}"


def split_morph(token: str) -> tuple[str, str, bool]:
    """``(form, tag, spaced)`` of an LM token (the inverse of :func:`morph_token`)."""
    spaced = token.startswith(SPACE)
    form, _, tag = token[len(SPACE) if spaced else 0:].rpartition("/")
    if not form:  # not form/tag: a special token or a bare string
        return token, "", spaced
    return form, tag, spaced


def doc_units(tokens: Sequence[dict[str, Any]], level: str, text: str | None = None) -> tuple[list[str], int]:
    """One document's LM tokens and the number of characters they cover.

    ``tokens`` are stored token rows (form, tag, start, end). Whitespace between two tokens
    (a gap in the offsets) counts as one character; ``text`` (the source) is needed at char level.
    """
    if level == "char" and text is None:
        raise ModelError("char level needs the source text the tokens point into")
    units: list[str] = []
    chars, prev_end = 0, None
    for t in tokens:
        start, end = int(t["start"]), int(t["end"])
        spaced = prev_end is not None and start > prev_end
        new_from = start if prev_end is None else max(start, prev_end)  # morphemes of one syllable share it
        if level == "morph":
            units.append(morph_token(str(t["form"]), str(t["tag"]), spaced))
        else:
            units.extend([" "] * spaced + list(text[new_from:end]))  # type: ignore[index]
        chars += max(0, end - new_from) + spaced
        prev_end = end if prev_end is None else max(prev_end, end)
    return units, chars


@dataclass
class NewsCorpus:
    """Token streams per split, the characters each covers, and the stored tokens they came from."""

    level: str
    streams: dict[str, list[str]]
    chars: dict[str, int]
    docs: dict[str, int]
    record: TokensRecord
    source: str
    notes: list[str] = field(default_factory=list)


def load_news_corpus(store: Any, dataset: str = "korean_news", backend: str = "kiwi", *, level: str = "morph",
                     user_dicts: Sequence[str] = (), text_column: str = "text") -> NewsCorpus:
    """The LM corpus of ``dataset`` from its stored ``tokens_<dataset>_<backend>`` (updated first, incrementally).

    Documents follow the dataset's ``split`` column (``valid``/``validation``/``dev`` -> valid);
    a dataset without one is refused. Documents without stored tokens (rejected by the engine)
    are left out and noted. The source text is read only at char level.
    """
    if level not in _SEPARATOR:
        raise ModelError(f"the news LM is morpheme- or character-level ('morph' or 'char'), got {level!r}")
    table = store.read(dataset)
    cols = set(table.column_names)
    if not {"id", "split"} <= cols:
        raise DatasetError(f"dataset {dataset!r} needs 'id' and 'split' columns for an LM corpus split by document "
                           f"(it has {', '.join(sorted(cols))})")
    wanted = ["id", "split", *([text_column] if level == "char" else [])]
    rows = table.select(wanted).to_pydict()
    tokens, record = read_stored_tokens(store, dataset, backend, user_dicts, text_column=text_column)
    by_id = dict(zip(tokens.column("id").to_pylist(), tokens.column("tokens").to_pylist(), strict=True))
    texts = rows.get(text_column) or [None] * len(rows["id"])
    streams: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    chars = dict.fromkeys(streams, 0)
    docs = dict.fromkeys(streams, 0)
    missing = 0
    sep = _SEPARATOR[level]
    for doc, sp, text in zip(rows["id"], rows["split"], texts, strict=True):
        sp = "valid" if sp in ("valid", "validation", "dev") else str(sp)
        if sp not in streams:
            continue
        toks = by_id.get(str(doc))
        if not toks:
            missing += 1
            continue
        units, n = doc_units(toks, level, text)
        if streams[sp]:
            streams[sp].append(sep)
            n += 1
        streams[sp].extend(units)
        chars[sp] += n
        docs[sp] += 1
    if not streams["train"] or not streams["valid"]:
        raise DatasetError(f"dataset {dataset!r} has no tokenized train or valid documents "
                           f"({docs}); an LM needs both")
    notes = [f"{missing} documents without stored tokens left out"] if missing else []
    return NewsCorpus(level, streams, chars, docs, record, f"store:{dataset}", notes)


def train_news_lm(store: Any, dataset: str = "korean_news", *, out: str | Path, settings: LMSettings | None = None,
                  resume: bool = False, overwrite: bool = False, on_progress: ProgressFn | None = None,
                  **overrides: Any) -> TrainResult:
    """Train the news LM (``settings.level`` morph or char) on the stored tokens of ``dataset``.

    The tokens backend is ``settings.tokenizer`` (default kiwi); at morph level ``max_vocab=None``
    means :data:`MORPH_VOCAB` (the whole korean_news morpheme set, ~38k ``form/tag`` types, would
    make the output layer dominate a CPU budget). Metrics add the test articles'
    loss (``test_loss``, ``test_nats_per_char``, ``test_perplexity`` for morphemes; also a ``test``
    row of ``model_runs``), the share of ``<unk>`` in the test stream and the process CPU seconds.
    """
    from nlpkit.rnn.lm_train import train_lm

    settings = with_overrides(settings or LMSettings(level="morph", tokenizer="kiwi"), **overrides)
    if settings.level == "morph" and settings.max_vocab is None:
        settings = replace(settings, max_vocab=MORPH_VOCAB)
    corpus = load_news_corpus(store, dataset, settings.tokenizer or "kiwi", level=settings.level,
                              user_dicts=settings.user_dicts)
    log.info("news lm: %s %s-level, documents %s, characters %s (%s %s)", dataset, settings.level, corpus.docs,
             corpus.chars, corpus.record.dataset, corpus.record.version)
    extra = {"tokens": corpus.record.to_dict(), "corpus": {"docs": corpus.docs, "chars": corpus.chars,
                                                           "notes": corpus.notes}}
    return train_lm(corpus.streams["train"], corpus.streams["valid"], out=out, settings=settings,
                    source=corpus.source, store=store, resume=resume, overwrite=overwrite, on_progress=on_progress,
                    valid_chars=corpus.chars["valid"], extra_config=extra,
                    test_text=corpus.streams["test"] or None, test_chars=corpus.chars["test"])


def evaluate_news_lm(model_dir: str | Path, store: Any, split: str = "test") -> dict[str, float]:
    """Loss of a saved news LM on ``split`` of the stored tokens it was trained on (nats per char too)."""
    from nlpkit.rnn.lm_train import evaluate_lm

    from nlpkit.rnn.model_checks import MAX_CONFIG_BYTES, read_json_checked

    config = read_json_checked(Path(model_dir, "config.json"), max_bytes=MAX_CONFIG_BYTES)
    rec = config.get("tokens") or {}
    level = config["model"]["level"]
    corpus = load_news_corpus(store, str(config["source"]).removeprefix("store:"), rec.get("backend", "kiwi"),
                              level=level, user_dicts=rec.get("user_dicts", ()))
    if not corpus.streams.get(split):
        raise DatasetError(f"the corpus has no {split!r} documents; choose train, valid or test")
    return evaluate_lm(model_dir, corpus.streams[split], device="cpu", chars=corpus.chars[split])


@functools.lru_cache(maxsize=1)
def _joiner() -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise ImportError("joining morphemes requires kiwipiepy: pip install 'nlpkit[korean]'") from None
    return Kiwi()


def detokenize(tokens: Sequence[str]) -> str:
    """Korean text from LM tokens: each article's morphemes joined by Kiwi (spacing from ``▁``), articles by lines.

    >>> detokenize(["정부/NNG", "는/JX", "▁발표/NNG", "하/XSV", "었/EP", "다/EF", "./SF"])   # doctest: +SKIP
    '정부는 발표했다.'
    """
    lines: list[list[tuple[str, str, bool]]] = [[]]
    for tok in tokens:
        if tok == "<eos>":
            lines.append([])
            continue
        form, tag, spaced = split_morph(tok)
        if tag and form:
            lines[-1].append((form, tag, spaced and bool(lines[-1])))
    out = []
    for morphs in lines:
        if not morphs:
            continue
        try:
            out.append(_joiner().join(morphs))
        except (ValueError, RuntimeError):  # a tag Kiwi does not know (another backend): plain concatenation
            out.append("".join((" " if sp else "") + f for f, _, sp in morphs))
    return "\n".join(out)


def morph_sentence_end(tokens: list[str]) -> bool:
    """Stop rule of a morpheme model: a sentence-final mark (``./SF``, ``?/SF``, ``!/SF``) or ``<eos>``."""
    if not tokens:
        return False
    form, tag, _ = split_morph(tokens[-1])
    return tokens[-1] == "<eos>" or (tag == "SF" and form in (".", "?", "!"))


def generate_news(model_dir: str | Path, prompt: str = "", *, length: int = 80, temperature: float = 0.8,
                  top_k: int | None = 40, top_p: float | None = 0.9, greedy: bool = False, seed: int | None = None,
                  sentences: int | None = 2) -> str:
    """Prompt + continuation from a saved morpheme-level news LM, as Korean text.

    The prompt is analysed with the tokenizer recorded in the model directory (the dictionary
    must be unchanged); morphemes the model never saw count as ``<unk>``. ``<unk>`` is never
    generated; ``<eos>`` (end of an article) becomes a line break. Generation stops after
    ``sentences`` sentence ends (:func:`morph_sentence_end`; ``None``: at ``length`` morphemes only).

    >>> generate_news("models/news_lm", "정부는", seed=0)   # doctest: +SKIP
    '정부는 ... 밝혔다.'
    """
    from nlpkit.rnn.lm_train import load_lm
    from nlpkit.rnn.sampling import check_sampling_args, sample_tokens, sentence_stop

    check_sampling_args(temperature, top_k, length, top_p)
    stop = sentence_stop(morph_sentence_end, sentences) if sentences is not None else None
    model, config, vocab = load_lm(model_dir, "cpu")
    if model.config.level != "morph":
        raise ModelError(f"{model_dir} is a {model.config.level}-level model; `nlpkit models generate` samples it directly")
    rec = config.get("tokens") or {}
    context: list[str] = ["<eos>"]
    if prompt.strip():
        tok = record_tokenizer(str(rec.get("backend", "kiwi")), rec.get("user_dicts", ()), rec.get("dict_sha256"),
                               dict(rec.get("options") or {}))
        context = doc_units([{"form": t.form, "tag": t.tag, "start": t.start, "end": t.end}
                             for t in tok.tokenize(prompt)], "morph")[0] or context
    new = sample_tokens(model, vocab, context, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                        greedy=greedy, seed=seed, banned=[vocab.unk_id], stop=stop)
    return detokenize([t for t in context if t != "<eos>"] + new)
