"""Typed, frozen settings of each trainable model kind, with every default declared once.

``nlpkit train classifier|lm|seq2seq`` takes its option defaults from these classes
(``tests/rnn/test_configs.py`` checks every option against them) and the flows pass them
to the one driver (:func:`nlpkit.rnn.driver.fit`) through ``train_classifier``,
``train_lm`` and ``train_seq2seq``. ``train`` holds the optimisation options shared by
every kind (:class:`~nlpkit.rnn.train_loop.TrainOptions`) with the kind's own defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from nlpkit.errors import ModelError
from nlpkit.rnn.token_source import TOKEN_FORMATS
from nlpkit.rnn.train_loop import TrainOptions

__all__ = ["SizingOptions", "ClassifierSettings", "pinned_values", "LMSettings", "Seq2SeqSettings", "with_overrides", "SIMPLE_TOKENIZERS"]

#: Tokenizers that need no engine (run in memory when the tokenize layer does not register them).
SIMPLE_TOKENIZERS = ("words", "chars", "whitespace")


@dataclass(frozen=True)
class SizingOptions:
    """Whether the model is sized to its time budget (:mod:`nlpkit.rnn.sizing`), and what the user fixed."""

    mode: str = "fixed"  # fixed: the settings' sizes | budget: the rule picks sizes the budget affords
    pinned: tuple[str, ...] = ()  # sized option names the user set (kept whatever the rule says)
    throughput: float | None = None  # tokens per budget second; None: measured by a short probe

    def __post_init__(self) -> None:
        if self.mode not in ("fixed", "budget"):
            raise ModelError(f"sizing mode must be 'fixed' or 'budget', got {self.mode!r}")
        if self.throughput is not None and self.throughput <= 0:
            raise ModelError(f"sizing throughput must be > 0, got {self.throughput}")
        object.__setattr__(self, "pinned", tuple(self.pinned))


@dataclass(frozen=True)
class ClassifierSettings:
    """RNN text classifier: tokens, vocabulary, network and training defaults."""

    tokenizer: str = "words"  # words | chars | whitespace | any nlpkit.tokenize backend (mecab, kiwi, okt, ...)
    user_dicts: tuple[str, ...] = ()  # dictionaries/ TSV files the tokenize stage used (engine backends)
    token_format: str = "form"  # form (좋) | form_tag (좋/VA; engine backends): the unit the vocabulary holds
    arch: str = "lstm"  # lstm | gru
    bidirectional: bool = True
    embed_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.3
    pooling: str = "last_max"
    min_freq: int = 2
    max_vocab: int | None = 30000
    max_len: int = 400  # tokens kept per text (head quarter + tail)
    train: TrainOptions = TrainOptions()
    head_fraction: float = 0.25  # share of max_len a long text keeps from its start (the rest: its end)
    view: str = "all"  # all | content: only content words (nouns, predicates, ...; engine backends' tags)
    sizing: SizingOptions = SizingOptions()  # "budget": sizes chosen for the time budget (nlpkit.rnn.sizing)

    def __post_init__(self) -> None:
        if self.max_len < 1:
            raise ModelError(f"max_len must be >= 1, got {self.max_len}")
        if not 0 <= self.head_fraction <= 1:
            raise ModelError(f"head_fraction must be in [0, 1], got {self.head_fraction}")
        if self.view not in ("all", "content"):
            raise ModelError(f"view must be 'all' or 'content', got {self.view!r}")
        if self.token_format not in TOKEN_FORMATS:
            raise ModelError(f"token_format must be one of {', '.join(TOKEN_FORMATS)}, got {self.token_format!r}")
        object.__setattr__(self, "user_dicts", tuple(str(d) for d in self.user_dicts))


@dataclass(frozen=True)
class LMSettings:
    """Character-, word- or morpheme-level RNN language model (stateful truncated BPTT)."""

    level: str = "char"  # char | word | morph (form/tag tokens of a stored tokens_<dataset>_<backend>)
    arch: str = "lstm"
    embed_dim: int | None = None  # None: hidden_size when tied, else 256
    hidden_size: int = 512
    num_layers: int = 2
    dropout: float = 0.2
    tie_weights: bool | None = None  # None: tie at word level only
    layer_norm: bool = False
    min_freq: int = 1
    max_vocab: int | None = None
    seq_len: int = 128  # truncated-BPTT window
    train: TrainOptions = TrainOptions(epochs=50, lr=3e-3)
    # a store dataset's stored tokens (nlpkit.rnn.news_lm): None reads raw text (a file or a text column)
    tokenizer: str | None = None  # backend of tokens_<dataset>_<backend> (kiwi); morph level needs one
    user_dicts: tuple[str, ...] = ()  # dictionaries/ TSV files; () = those the tokenize stage recorded
    sizing: SizingOptions = SizingOptions()

    def __post_init__(self) -> None:
        if self.seq_len < 2:
            raise ModelError(f"seq_len must be >= 2, got {self.seq_len}")
        if self.level not in ("char", "word", "morph"):
            raise ModelError(f"level must be 'char', 'word' or 'morph', got {self.level!r}")
        if self.level == "morph" and not self.tokenizer:
            raise ModelError("level 'morph' reads stored morphemes: give the tokenizer backend (e.g. --tokenizer kiwi)")
        object.__setattr__(self, "user_dicts", tuple(str(d) for d in self.user_dicts))


@dataclass(frozen=True)
class Seq2SeqSettings:
    """Encoder-decoder on the synthetic addition task (plain / reversed / peeky)."""

    task: str = "addition"
    max_digits: int = 3
    reverse: bool = False
    peeky: bool = False
    n_train: int = 45000
    n_test: int = 5000
    embed_dim: int = 16
    hidden_size: int = 128
    train: TrainOptions = TrainOptions(epochs=25, batch_size=128, lr=5e-3, patience=5, amp=False)
    sizing: SizingOptions = SizingOptions()

    def __post_init__(self) -> None:
        if self.task != "addition":
            raise ModelError(f"unknown seq2seq task {self.task!r}; available: addition")


S = TypeVar("S", ClassifierSettings, LMSettings, Seq2SeqSettings)


def pinned_values(settings: ClassifierSettings | LMSettings | Seq2SeqSettings, names: tuple[str, ...]) -> dict[str, Any]:
    """The current values of the pinned ``names`` that are among ``settings``' (or its ``train``'s) fields."""
    own = {f.name for f in fields(settings)}
    out = {}
    for name in settings.sizing.pinned:
        if name in names:
            out[name] = getattr(settings if name in own else settings.train, name)
    return out


def with_overrides(settings: S, opts: TrainOptions | None = None, **changes: Any) -> S:
    """``settings`` with some fields changed; ``None`` values keep the default; ``opts`` replaces ``train``.

    Training-option names (``epochs``, ``lr``, ...) given here change ``settings.train``.
    """
    own = {f.name for f in fields(settings)}
    train_names = {f.name for f in fields(TrainOptions)}
    unknown = sorted(set(changes) - own - train_names)
    if unknown:
        raise ModelError(f"{type(settings).__name__} has no option(s) {unknown}")
    if isinstance(changes.get("sizing"), str):  # sizing="budget": the rule keeps what these overrides pin
        from nlpkit.rnn.sizing import sized_fields

        kind = {ClassifierSettings: "classifier", LMSettings: "lm", Seq2SeqSettings: "seq2seq"}[type(settings)]
        pins = tuple(k for k, v in changes.items() if v is not None and k in sized_fields(kind))
        changes["sizing"] = SizingOptions(changes["sizing"], pins or settings.sizing.pinned, settings.sizing.throughput)
    train = opts or settings.train
    train_changes = {k: v for k, v in changes.items() if k in train_names and k not in own and v is not None}
    if train_changes:
        train = replace(train, **train_changes)
    mine = {k: v for k, v in changes.items() if k in own and v is not None}
    return replace(settings, train=train, **mine)

