"""Text in, token lists out: labelled datasets from the store, LM text from files or the store.

Built-in tokenizers need nothing extra: ``words`` (lower-cased words and punctuation),
``chars`` and ``whitespace``. Any other name is handed to the tokenizer layer
(``nlpkit.tokenize.get_tokenizer(name)``, e.g. ``okt``, ``kiwi``, ``mecab``) and the token
forms are used.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpkit.errors import DatasetError, ModelError, NlpkitError

__all__ = ["BUILTIN_TOKENIZERS", "LabelledSplits", "get_token_fn", "load_labelled", "load_lm_text", "split_labelled"]

BUILTIN_TOKENIZERS = ("words", "chars", "whitespace")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[^\w\s]", re.UNICODE)
_TAG = re.compile(r"<[^>]{0,40}>")
VALID_NAMES = ("valid", "validation", "dev")


def _words(text: str) -> list[str]:
    return _WORD.findall(_TAG.sub(" ", text).lower())


def _chars(text: str) -> list[str]:
    return [c for c in text if not c.isspace()] or []


def _whitespace(text: str) -> list[str]:
    return text.split()


def get_token_fn(name: str) -> Callable[[Sequence[str]], list[list[str]]]:
    """A batch function ``texts -> token forms``: the tokenize layer's backend ``name`` when it
    registers one (``nlpkit.tokenize.get_tokenizer``), else the built-in words/chars/whitespace."""
    from nlpkit.tokenize.registry import BACKENDS, get_tokenizer

    if name in BACKENDS:
        try:
            tok = get_tokenizer(name)
        except NlpkitError as e:
            raise ModelError(f"tokenizer {name!r}: {e}") from e
        return lambda texts: [[t.form for t in tokens] for tokens in tok.tokenize_batch(list(texts))]
    simple = {"words": _words, "chars": _chars, "whitespace": _whitespace}
    if name not in simple:
        raise ModelError(f"unknown tokenizer {name!r}; choose one of: {', '.join(sorted({*BACKENDS, *simple}))}")
    fn = simple[name]
    return lambda texts: [fn(t) for t in texts]


@dataclass
class LabelledSplits:
    """Texts and integer labels per split, plus the label names (index = class id).

    ``ids`` (document ids per split) join the rows to a stored tokens dataset; ``tokens``
    holds their token forms once attached (:func:`nlpkit.rnn.token_source.attach_stored_tokens`).
    """

    texts: dict[str, list[str]]
    labels: dict[str, list[int]]
    label_names: list[str]
    notes: list[str]
    ids: dict[str, list[str]] = field(default_factory=dict)
    text_column: str = "text"
    tokens: dict[str, list[list[str]]] | None = None
    sampled_from: dict[str, int] = field(default_factory=dict)  # split -> its full row count, when sampled


def split_labelled(
    texts: Sequence[str],
    labels: Sequence[Any],
    splits: Sequence[str],
    *,
    seed: int = 0,
    valid_fraction: float = 0.1,
    ids: Sequence[Any] | None = None,
) -> LabelledSplits:
    """Group rows by split name (``valid``/``validation``/``dev`` -> ``valid``); rows of other splits
    (e.g. IMDB's ``unsup``) and rows with empty text or no label are left out.

    Without a validation split, a seeded ``valid_fraction`` of train becomes one (noted).
    """
    scores = [lab for lab in labels if isinstance(lab, float) and not lab.is_integer()]
    if scores:
        raise DatasetError(f"labels look like real-valued scores (e.g. {scores[0]}), not classes; the classifier "
                           "needs categorical labels (KorSTS-style similarity is a regression task)")
    labels = [int(lab) if isinstance(lab, float) else lab for lab in labels]
    names = sorted({str(lab) for lab, sp in zip(labels, splits, strict=True) if lab is not None and sp != "unsup"})
    if len(names) < 2:
        raise DatasetError(f"a classifier needs at least 2 labels, the data has {names}")
    if all(n.lstrip("-").isdigit() for n in names):
        names.sort(key=int)
    index = {n: i for i, n in enumerate(names)}
    out_t: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    out_l: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    out_i: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    skipped = 0
    row_ids = [str(i) for i in ids] if ids is not None else [""] * len(texts)
    for text, lab, sp, row_id in zip(texts, labels, splits, row_ids, strict=True):
        sp = "valid" if sp in VALID_NAMES else sp
        if sp not in out_t:
            continue
        if lab is None or text is None or not str(text).strip():
            skipped += 1
            continue
        out_t[sp].append(str(text))
        out_l[sp].append(index[str(lab)])
        out_i[sp].append(row_id)
    notes = [f"{skipped} rows with empty text or no label skipped"] if skipped else []
    if not out_t["train"]:
        raise DatasetError("the dataset has no 'train' rows; a classifier needs a train split")
    if not out_t["valid"]:
        order = list(range(len(out_t["train"])))
        random.Random(seed).shuffle(order)
        cut = set(order[: max(1, int(len(order) * valid_fraction))])
        for src in (out_t, out_l, out_i):
            src["valid"] = [x for i, x in enumerate(src["train"]) if i in cut]  # type: ignore[index]
            src["train"] = [x for i, x in enumerate(src["train"]) if i not in cut]  # type: ignore[index]
        notes.append(f"no validation split: {len(cut)} train rows (seed {seed}) held out for validation")
    return LabelledSplits(texts=out_t, labels=out_l, label_names=names, notes=notes,
                          ids=out_i if ids is not None else {})


def load_labelled(store: Any, dataset: str, *, version: str | None = None, seed: int = 0,
                  text_column: str | None = None, label_names: Mapping[int, str] | None = None,
                  eval_limit: int | None = None) -> LabelledSplits:
    """Read a labelled dataset (columns text, label, split) from the store.

    ``label_names`` (class id -> readable name, e.g. the dataset registry's) name integer labels.
    ``eval_limit`` keeps at most that many rows of ``valid`` and of ``test`` (a stratified sample
    fixed by ``seed``, recorded in ``notes``): quick runs evaluate on 5,000 IMDB reviews, not 25,000.

    The raw ``text`` column is used by default: IMDB's ``clean_text`` drops stopwords, among
    them the negations ("not", "no") sentiment depends on. The ``words`` tokenizer strips the
    HTML tags left in raw IMDB text.
    """
    import pyarrow.compute as pc

    cols = set(store.columns(dataset, version=version))
    text_col = text_column or ("text" if "text" in cols else "clean_text")
    missing = [c for c in (text_col, "label", "split") if c not in cols]
    if missing:
        raise DatasetError(
            f"dataset {dataset!r} lacks column(s) {', '.join(missing)}; a classifier needs text, label and split "
            f"(it has {', '.join(sorted(cols))})"
        )
    id_col = "id" if "id" in cols else None
    # only the columns and splits a classifier uses (IMDB's 50,000 unsup reviews are never read)
    used = pc.field("split").isin(["train", "test", *VALID_NAMES])
    data = store.read(dataset, version=version, columns=[text_col, "label", "split", *([id_col] if id_col else [])],
                      filter=used).to_pydict()
    splits = split_labelled(data[text_col], data["label"], data["split"], seed=seed,
                            ids=data[id_col] if id_col else None)
    splits.text_column = text_col
    if eval_limit is not None:
        cap_eval_splits(splits, eval_limit, seed=seed)
    names = dict(label_names or {})
    if names and all(n.lstrip("-").isdigit() and int(n) in names for n in splits.label_names):
        splits.label_names = [names[int(n)] for n in splits.label_names]
    return splits


def cap_eval_splits(splits: LabelledSplits, limit: int, *, seed: int = 0) -> None:
    """Keep about ``limit`` rows of the ``valid`` and ``test`` splits (in place): the project's one
    stratified splitter cuts each label's share, so the count may differ from ``limit`` by rounding."""
    if limit < 1:
        raise ModelError(f"eval_limit must be >= 1, got {limit}")
    from nlpkit.datasets.sources import stratified_split

    for name in ("valid", "test"):
        n = len(splits.labels.get(name, []))
        if n <= limit:
            continue
        labels = splits.labels[name]
        marks = stratified_split(labels, [limit / n, 1 - limit / n], ["keep", "drop"], seed)
        keep = [i for i, m in enumerate(marks) if m == "keep"]
        splits.texts[name] = [splits.texts[name][i] for i in keep]
        splits.labels[name] = [labels[i] for i in keep]
        if splits.ids.get(name):
            splits.ids[name] = [splits.ids[name][i] for i in keep]
        if splits.tokens is not None and name in splits.tokens:
            splits.tokens[name] = [splits.tokens[name][i] for i in keep]
        splits.sampled_from[name] = n
        splits.notes.append(f"{name}: a stratified sample of {len(keep):,} of {n:,} rows (eval_limit {limit:,})")


def load_lm_text(
    *, text_file: str | Path | None = None, store: Any = None, dataset: str | None = None,
    valid_fraction: float = 0.1,
) -> tuple[str, str, str]:
    """Train and validation text for a language model, plus where it came from.

    A file is split at ``1 - valid_fraction`` of its length (validation = the end, as in the
    nanoGPT tiny-shakespeare setup). A store dataset with a ``split`` column uses its
    train/valid rows; otherwise its texts are joined and split the same way.
    """
    if (text_file is None) == (dataset is None):
        raise ModelError("give exactly one of a text file (--text) or a store dataset (--dataset)")
    if text_file is not None:
        path = Path(text_file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ModelError(f"text file {path} does not exist") from None
        except UnicodeDecodeError as e:
            raise ModelError(f"text file {path} is not UTF-8 ({e})") from e
        source = str(path)
    else:
        table = store.read(dataset)
        cols = set(table.column_names)
        col = "text" if "text" in cols else "clean_text" if "clean_text" in cols else None
        if col is None:
            raise DatasetError(f"dataset {dataset!r} has no text column (columns: {', '.join(sorted(cols))})")
        if "line" in cols:  # line tables (nlpkit.datasets.lm): keep the text's order
            table = table.sort_by([("line", "ascending")])
        data = table.to_pydict()
        source = f"store:{dataset}"
        if "split" in cols:
            parts: dict[str, list[str]] = {}
            for t, sp in zip(data[col], data["split"], strict=True):
                if t:
                    parts.setdefault("valid" if sp in VALID_NAMES else str(sp), []).append(str(t))
            if parts.get("train") and parts.get("valid"):
                return "\n".join(parts["train"]), "\n".join(parts["valid"]), source
        text = "\n".join(str(t) for t in data[col] if t)
    if not text.strip():
        raise ModelError(f"{source} holds no text to train on")
    cut = int(len(text) * (1 - valid_fraction))
    return text[:cut], text[cut:], source
