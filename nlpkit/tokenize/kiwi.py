"""Kiwi (kiwipiepy) backend: fast, offsets from the engine, native user words (spaces allowed)."""

from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar

from nlpkit.tokenize.base import Token
from nlpkit.tokenize.build import tokens_from_spans
from nlpkit.tokenize.core import BaseTokenizer
from nlpkit.tokenize.userdict import DictEntry

__all__ = ["KiwiTokenizer"]

# Kiwi's Token attributes read by C-level maps (one pass per column) rather than a Python loop per token.
_FORM, _TAG, _START, _END = attrgetter("form"), attrgetter("tag"), attrgetter("start"), attrgetter("end")


def _import_kiwi() -> Any:
    try:
        from kiwipiepy import Kiwi
    except ImportError:
        raise ImportError("the 'kiwi' tokenizer requires kiwipiepy: pip install 'nlpkit[korean]'") from None
    return Kiwi


class KiwiTokenizer(BaseTokenizer):
    """Kiwi morphological analyser.

    Options
    -------
    num_workers : int, default 2
        Kiwi's own worker threads for batches (does not change tokens).
    normalize_coda : bool, default False
        Kiwi's coda normalization (``먹었엉`` -> ``먹었어``).

    >>> tok = KiwiTokenizer()                                    # doctest: +SKIP
    >>> [(t.form, t.tag) for t in tok.tokenize("원전을 수주했다")]  # doctest: +SKIP
    [('원전', 'NNG'), ('을', 'JKO'), ('수주', 'NNG'), ('하', 'XSV'), ('었', 'EP'), ('다', 'EF')]
    """

    name: ClassVar[str] = "kiwi"
    default_options: ClassVar[dict[str, Any]] = {"num_workers": 2, "normalize_coda": False}
    runtime_options: ClassVar[frozenset[str]] = frozenset({"num_workers"})

    @staticmethod
    def check_available() -> str:
        _import_kiwi()
        return ""

    def _load(self) -> Any:
        Kiwi = _import_kiwi()
        return Kiwi(num_workers=int(self.options["num_workers"]))

    def _apply_user_dict(self, entries: list[DictEntry]) -> int:
        taken = 0
        for e in entries:
            try:
                taken += bool(self._engine.add_user_word(e.form, e.tag, e.score))
            except (ValueError, RuntimeError):
                continue  # left to the post-tagging merge
        return taken

    pipelined: ClassVar[bool] = True  # Kiwi's C++ tagging runs while Python builds the previous batch

    def _call(self, chunks: list[str]) -> Any:
        norm = bool(self.options["normalize_coda"])
        if len(chunks) > 1:
            return list(self._engine.tokenize(chunks, normalize_coda=norm))
        return [self._engine.tokenize(chunks[0], normalize_coda=norm)]

    def _convert(self, chunks: list[str], raw: Any) -> list[list[Token]]:
        return [tokens_from_spans("kiwi", list(map(_FORM, res)), list(map(_TAG, res)), map(_START, res), map(_END, res))
                for res in raw]
