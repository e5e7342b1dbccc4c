"""How well TF-IDF cosine follows human similarity judgements: Spearman on KorSTS, per tokenizer.

Pairs come from the store's ``korsts`` dataset (``nlpkit data rebuild korsts``) or straight from
a KorSTS folder (``sts-{train,dev,test}.tsv``, read with quoting disabled). The TF-IDF of
each setting is fit on all KorSTS sentences (no scores used). Gold scores of the train split
tune the one supervised knob (the term-group weights of the ``weighted`` view); dev and test
scores only measure. Settings were chosen on train/dev; test gives the final number.

>>> rows = evaluate(pairs, settings_for(["kiwi"]))     # doctest: +SKIP
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlpkit.errors import FeatureError, SourceError
from nlpkit.features.tfidf import TokenTfidf
from nlpkit.tokenize.base import CONTENT_PTAGS
from nlpkit.tokenize.spec import char_ngrams

__all__ = ["Pairs", "Setting", "BEST", "WEIGHTED", "read_korsts", "pairs_from_store", "settings_for", "evaluate",
           "tune_group_weights"]

_FILES = {"train": "sts-train.tsv", "valid": "sts-dev.tsv", "test": "sts-test.tsv"}
_CONTENT = CONTENT_PTAGS  # the tokenize layer's one definition of content words


@dataclass(frozen=True, slots=True)
class Pairs:
    """Sentence pairs with gold scores, by split (``train``, ``valid``, ``test``)."""

    left: dict[str, list[str]]
    right: dict[str, list[str]]
    gold: dict[str, np.ndarray]

    def sentences(self) -> list[str]:
        return sorted({s for side in (self.left, self.right) for part in side.values() for s in part})


@dataclass(frozen=True, slots=True)
class Setting:
    """One way of turning analysed sentences into terms (``view``) with one tokenizer."""

    name: str
    tokenizer: str | None  # None: no tokenizer (whitespace / raw characters)
    view: str              # whitespace | char23 | morphs | content | content+char13 | weighted | ensemble
    min_df: int = 1
    members: tuple[str, ...] = ()  # ensemble: the mean cosine of these (earlier) settings


#: Content morphemes plus their character 1-3-grams (the best unweighted view on train/dev).
BEST = "content+char13"
#: BEST with one weight per term group (names, nouns, predicates, numbers, other, character
#: n-grams) tuned on the train split: the project's best setting.
WEIGHTED = "weighted"
#: Term groups of the weighted view by project tag; other content tags form "other".
_GROUPS = {"NOUN": "noun", "PROPN": "name", "FOREIGN": "name", "VERB": "predicate", "ADJ": "predicate",
           "NUM": "number"}
_FACTORS = (0.25, 0.5, 0.75, 1.5, 2.0, 3.0)


def read_korsts(folder: str | Path) -> Pairs:
    """Read ``sts-{train,dev,test}.tsv`` from ``folder`` (csv.QUOTE_NONE: quotes are text there)."""
    folder = Path(folder)
    if folder.is_dir() and (folder / "KorSTS").is_dir():
        folder = folder / "KorSTS"
    left: dict[str, list[str]] = {}
    right: dict[str, list[str]] = {}
    gold: dict[str, np.ndarray] = {}
    for split, name in _FILES.items():
        path = folder / name
        if not path.is_file():
            raise SourceError(f"KorSTS file {path} not found; point --source at the folder with sts-*.tsv")
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        header, body = rows[0], [r for r in rows[1:] if len(r) == 7]
        if header[4:7] != ["score", "sentence1", "sentence2"]:
            raise SourceError(f"{path}: unexpected header {header}; expected ... score sentence1 sentence2")
        left[split] = [r[5] for r in body]
        right[split] = [r[6] for r in body]
        gold[split] = np.asarray([float(r[4]) for r in body])
    return Pairs(left, right, gold)


def pairs_from_store(store: Any, dataset: str = "korsts") -> Pairs:
    """Pairs from a dataset with ``text``, ``text_pair``, ``label`` (score) and ``split``."""
    t = store.read(dataset, columns=["text", "text_pair", "label", "split"]).to_pandas()
    left, right, gold = {}, {}, {}
    for split, part in t.groupby("split"):
        left[str(split)] = part["text"].astype(str).tolist()
        right[str(split)] = part["text_pair"].astype(str).tolist()
        gold[str(split)] = part["label"].astype(float).to_numpy()
    return Pairs(left, right, gold)


def settings_for(tokenizers: Iterable[str], *, baselines: bool = True) -> list[Setting]:
    """The settings compared in the table: tokenizer-free baselines, three views per tokenizer and,
    for several tokenizers, their ensemble (mean of the tokenizers' content+char13 cosines)."""
    tokenizers = list(tokenizers)
    out = [Setting("whitespace", None, "whitespace"), Setting("char 2-3-grams", None, "char23")] if baselines else []
    for tok in tokenizers:
        out += [Setting(f"{tok} morphs", tok, "morphs"), Setting(f"{tok} content", tok, "content"),
                Setting(f"{tok} {BEST}", tok, BEST, min_df=2),
                Setting(f"{tok} {BEST}, group weights tuned on train", tok, WEIGHTED, min_df=2)]
    if len(tokenizers) > 1:
        out.append(Setting(f"{'+'.join(tokenizers)} {BEST} (mean cosine)", None, "ensemble",
                           members=tuple(f"{tok} {BEST}" for tok in tokenizers)))
    return out


def _terms(view: str, sentence: str, tokens: Sequence[Any] | None) -> list[str]:
    if view == "whitespace":
        return sentence.split()
    if view == "char23":
        return char_ngrams(sentence.lower().split(), (2, 3))
    assert tokens is not None
    toks = [t for t in tokens if t.ptag not in ("PUNCT", "SYM")]
    if view == "morphs":
        return [t.form.lower() for t in toks]
    content = [t.form.lower() for t in toks if t.ptag in _CONTENT]
    if view == "content":
        return content
    if view == BEST:
        return content + char_ngrams(content, (1, 3))
    if view == WEIGHTED:  # "group|term": a column's group decides its weight
        out = []
        for t in toks:
            if t.ptag in _CONTENT:
                word = t.form.lower()
                out.append(f"{_GROUPS.get(t.ptag, 'other')}|{word}")
                out.extend(f"chars|{g}" for g in char_ngrams([word], (1, 3)))
        return out
    raise FeatureError(f"unknown KorSTS view {view!r}; choose whitespace, char23, morphs, content, {BEST} "
                       f"or {WEIGHTED}")


def _row_cosines(A: Any, B: Any, scale: np.ndarray | None = None) -> np.ndarray:
    """Cosine of each row pair; ``scale`` multiplies columns first (then rows are L2-normalized)."""
    from sklearn.preprocessing import normalize

    if scale is not None:
        A, B = normalize(A.multiply(scale[None, :]).tocsr()), normalize(B.multiply(scale[None, :]).tocsr())
    return np.asarray(A.multiply(B).sum(axis=1)).ravel()  # L2-normalized rows; empty rows give 0


def tune_group_weights(A: Any, B: Any, gold: np.ndarray, column_groups: np.ndarray,
                       passes: int = 3) -> dict[str, float]:
    """One weight per term group maximizing Spearman of cosine vs ``gold`` (coordinate search).

    ``A``/``B`` are unnormalized TF-IDF rows of the tuning pairs (the train split), ``column_groups``
    the group of each column. Deterministic: groups in sorted order, factors in a fixed order.
    """
    groups = sorted(set(column_groups.tolist()))
    weights = dict.fromkeys(groups, 1.0)
    index = {g: column_groups == g for g in groups}

    def score(w: dict[str, float]) -> float:
        scale = np.ones(len(column_groups), dtype=np.float32)
        for g in groups:
            scale[index[g]] = w[g]
        return _spearman(_row_cosines(A, B, scale), gold)

    best = score(weights)
    for _ in range(passes):
        for g in groups:
            for f in _FACTORS:
                trial = {**weights, g: weights[g] * f}
                value = score(trial)
                if value > best + 1e-4:
                    best, weights = value, trial
    return weights


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def evaluate(pairs: Pairs, settings: Sequence[Setting], splits: Sequence[str] = ("valid", "test"),
             progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Spearman correlation of TF-IDF cosine with the gold scores, one row per setting."""
    from nlpkit.tokenize import get_tokenizer

    sentences = pairs.sentences()
    analysed: dict[str, dict[str, Any]] = {}
    rows = []
    cosines: dict[str, dict[str, np.ndarray]] = {}
    for s in settings:
        row: dict[str, Any] = {"setting": s.name, "tokenizer": s.tokenizer or "-", "view": s.view}
        if s.view == "ensemble":
            missing = [m for m in s.members if m not in cosines]
            if not s.members or missing:
                raise FeatureError(f"ensemble {s.name!r} needs its members evaluated first; missing {missing}")
            cosines[s.name] = {sp: np.mean([cosines[m][sp] for m in s.members], axis=0) for sp in splits}
            rows.append({**row, **{sp: round(_spearman(cosines[s.name][sp], pairs.gold[sp]), 4) for sp in splits}})
            continue
        if s.tokenizer is not None and s.tokenizer not in analysed:
            if progress:
                progress(f"tokenizing {len(sentences):,} sentences with {s.tokenizer}")
            tok = get_tokenizer(s.tokenizer)
            analysed[s.tokenizer] = dict(zip(sentences, tok.tokenize_batch(sentences)))
        toks = analysed.get(s.tokenizer or "", {})
        terms = {sent: _terms(s.view, sent, toks.get(sent)) for sent in sentences}
        weighted = s.view == WEIGHTED
        vec = TokenTfidf(sublinear_tf=True, min_df=s.min_df, norm=None if weighted else "l2")
        vec.fit([terms[x] for x in sentences])

        def matrices(split: str) -> tuple[Any, Any]:
            if split not in pairs.gold:
                raise FeatureError(f"KorSTS has no split {split!r}; splits: {', '.join(pairs.gold)}")
            return (vec.transform([terms[x] for x in pairs.left[split]]),
                    vec.transform([terms[x] for x in pairs.right[split]]))

        scale = None
        if weighted:
            if "train" not in pairs.gold:
                raise FeatureError("the weighted KorSTS view tunes its group weights on a 'train' split; none found")
            groups = np.asarray([str(t).split("|", 1)[0] for t in vec.get_feature_names_out()])
            weights = tune_group_weights(*matrices("train"), pairs.gold["train"], groups)
            row["weights"] = {g: round(w, 3) for g, w in weights.items()}
            scale = np.asarray([weights[g] for g in groups], dtype=np.float32)
        cosines[s.name] = {}
        for split in splits:
            cos = _row_cosines(*matrices(split), scale)
            cosines[s.name][split] = cos
            row[split] = round(_spearman(cos, pairs.gold[split]), 4)
        rows.append(row)
    return rows
