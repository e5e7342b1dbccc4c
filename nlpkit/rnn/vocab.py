"""A token vocabulary: frequency-ranked, with special tokens, saved as JSON (never pickled).

>>> v = Vocab.build([["a", "b", "a"], ["c"]], min_freq=1)
>>> v.encode(["a", "zzz"])
[4, 1]
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpkit.errors import ModelError

__all__ = ["PAD", "UNK", "BOS", "EOS", "SPECIALS", "Vocab"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
#: Special tokens, always first and in this order (so ``<pad>`` is id 0, ``<unk>`` id 1).
SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)
_FORMAT = "nlpkit.vocab/1"


@dataclass(frozen=True)
class Vocab:
    """An id <-> token table.

    Parameters
    ----------
    itos : tuple of str
        Token of each id; the special tokens come first.
    level : str
        What a token is: ``"char"``, ``"word"`` or ``"morph"`` (recorded, used by callers).
    """

    itos: tuple[str, ...]
    level: str = "word"
    _stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.itos)) != len(self.itos):
            dupes = sorted({t for t in self.itos if self.itos.count(t) > 1})[:5]
            raise ModelError(f"vocabulary has repeated tokens {dupes}; every token must appear once")
        if tuple(self.itos[: len(SPECIALS)]) != SPECIALS:
            raise ModelError(f"vocabulary must start with the special tokens {list(SPECIALS)}, got {list(self.itos[:4])}")
        object.__setattr__(self, "_stoi", {t: i for i, t in enumerate(self.itos)})

    # -- building -----------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        level: str = "word",
    ) -> Vocab:
        """Count tokens and keep those seen ``min_freq`` times or more, the most frequent first.

        ``max_size`` bounds the whole vocabulary including the 4 special tokens. Ties are
        broken alphabetically, so the same data always gives the same ids.
        """
        if min_freq < 1:
            raise ModelError(f"min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size <= len(SPECIALS):
            raise ModelError(f"max_size must be > {len(SPECIALS)} (the special tokens), got {max_size}")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str) and level != "char":
                raise ModelError("Vocab.build expects lists of tokens, got a str; tokenize the text first")
            counts.update(tokens)
        for s in SPECIALS:
            counts.pop(s, None)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIALS)]
        if not ranked:
            raise ModelError(f"no token occurs at least min_freq={min_freq} times; the training text is empty or too small")
        return cls(itos=SPECIALS + tuple(ranked), level=level)

    # -- lookups ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    @property
    def bos_id(self) -> int:
        return 2

    @property
    def eos_id(self) -> int:
        return 3

    def id(self, token: str) -> int:
        """Id of ``token``, ``<unk>``'s id when unknown."""
        return self._stoi.get(token, 1)

    def encode(self, tokens: Iterable[str], *, bos: bool = False, eos: bool = False) -> list[int]:
        """Token ids, unknown tokens mapped to ``<unk>``."""
        get = self._stoi.get
        ids = [get(t, 1) for t in tokens]
        return ([2] if bos else []) + ids + ([3] if eos else [])

    def decode(self, ids: Iterable[int], *, skip_specials: bool = True) -> list[str]:
        """Tokens of ``ids`` (special tokens dropped unless ``skip_specials=False``)."""
        n = len(SPECIALS)
        return [self.itos[i] for i in ids if not (skip_specials and i < n)]

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        """The distinct tokens of ``tokens`` that are not in the vocabulary, in first-seen order."""
        seen: dict[str, None] = {}
        for t in tokens:
            if t not in self._stoi:
                seen[t] = None
        return list(seen)

    # -- files --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"format": _FORMAT, "level": self.level, "specials": list(SPECIALS), "itos": list(self.itos)}

    @property
    def sha256(self) -> str:
        """Digest of the token list (recorded in model configs to catch a swapped vocab.json)."""
        return hashlib.sha256("\n".join(self.itos).encode("utf-8")).hexdigest()

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "vocabulary") -> Vocab:
        if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("itos"), list):
            got = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ModelError(f"{origin}: not an nlpkit vocabulary (expected format {_FORMAT!r}, got {got!r})")
        return cls(itos=tuple(str(t) for t in data["itos"]), level=str(data.get("level", "word")))

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a vocabulary written by :meth:`save`; a damaged file raises ModelError naming it."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"vocabulary file {path} does not exist")
        from nlpkit.rnn.model_checks import MAX_VOCAB_BYTES, read_json_checked

        data = read_json_checked(path, max_bytes=MAX_VOCAB_BYTES, max_depth=2)  # size and depth before parsing
        return cls.from_dict(data, origin=str(path))
