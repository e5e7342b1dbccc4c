"""KoNLPy backends: Okt, Komoran, Kkma, Hannanum in the one JVM nlpkit starts.

Batches cross into Java once through nlpkit's helper (``java/NlpkitBatch.java``, tagging on
``threads`` Java threads); without the helper (``helper=False`` or no ``javac``) each
sentence goes through KoNLPy's own call. Both paths give the same tokens; the benchmark and
the tests check it. A sentence the engine throws on is a :class:`~nlpkit.tokenize.core.ChunkError`
(its text fails, see :mod:`nlpkit.tokenize.core`); engines whose state an error corrupts
(Hannanum's workflow, a Kkma analyser) are rebuilt.

Every helper call can be stopped: a chunk whose tagging thread used more than ``time_limit_s``
CPU seconds (or the heaviest one when the JVM heap is nearly full), and every chunk still open
when the call's budget (:meth:`BaseTokenizer.budget`) runs out, is stopped inside the JVM and
fails with reason ``timeout``; the other chunks keep their tokens. Without the helper
(``helper=False`` or no ``javac``) KoNLPy's own calls cannot be stopped.

>>> tok = KomoranTokenizer()                                   # doctest: +SKIP
>>> [(t.form, t.tag) for t in tok.tokenize("오징어 게임이 흥행했다")][:3]  # doctest: +SKIP
[('오징어', 'NNG'), ('게임', 'NNG'), ('이', 'JKS')]
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from typing import Any, ClassVar

from nlpkit.errors import TokenizerError
from nlpkit.tokenize.astral import ASTRAL as _ASTRAL
from nlpkit.tokenize.astral import from_bmp as _from_bmp
from nlpkit.tokenize.astral import to_bmp as _to_bmp
from nlpkit.tokenize.base import Token
from nlpkit.tokenize.build import tokens_from_columns, tokens_from_pairs
from nlpkit.tokenize.core import BaseTokenizer, ChunkError
from nlpkit.tokenize.jvm import configure_jvm, ensure_jvm
from nlpkit.tokenize.userdict import DictEntry

__all__ = ["OktTokenizer", "KomoranTokenizer", "KkmaTokenizer", "HannanumTokenizer"]

log = logging.getLogger(__name__)
_SENT, _FIELD, _ERR = "\x1d", "\x1f", "\x15"
#: ``time_limit_s``: CPU seconds one chunk may use in the engine before the helper stops it (None: no limit).
#: Kkma takes 67 s on "가" * 40 and never returns on "가" * 50; a news sentence takes < 0.1 s.
_JVM_OPTIONS = {"threads": 2, "helper": True, "java_heap_mb": None, "time_limit_s": 10.0}
_RUNTIME = frozenset(_JVM_OPTIONS)
_HANNANUM_LOCK = threading.Lock()  # two threads inside Hannanum at once kill the JVM
_OKT_JVM_NOUNS: set[str] = set()   # Okt's noun dictionary is JVM-wide: remember what went in
_ENGINES: dict[tuple[str, str], Any] = {}  # (backend, dict sha256) -> KoNLPy object, shared by tokenizers
_ENGINES_LOCK = threading.Lock()
_WARMED: set[str] = set()  # backends whose engine ran once without a limit (static dictionaries loaded)
_WARM_TEXT = "준비 ready."


def _parse(out: str, n: int) -> list[list[str] | str]:
    """Split the helper's output into per-sentence flat field lists (form, tag, lemma, ...) or an error."""
    parts = out.split(_SENT)
    if len(parts) != n:
        raise TokenizerError(f"batch helper returned {len(parts)} results for {n} sentences")
    res: list[list[str] | str] = []
    for p in parts:
        if p.startswith(_ERR):
            res.append(p[1:])
        else:
            fields = p.split(_FIELD) if p else []
            if len(fields) % 3:
                raise TokenizerError(f"batch helper returned a malformed sentence ({len(fields)} fields)")
            res.append(fields)
    return res


class _KonlpyTokenizer(BaseTokenizer):
    unknown_tag: ClassVar[str] = "X"
    runtime_options: ClassVar[frozenset[str]] = _RUNTIME

    def _check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        merged = super()._check_options(options)
        limit = merged["time_limit_s"]
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float))
                                  or not 0.01 <= limit <= 86_400):
            raise ValueError(f"time_limit_s must be a number of seconds from 0.01 to 86400 (or None for no limit), "
                             f"got {limit!r}")
        threads = merged["threads"]
        if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 64:
            raise ValueError(f"threads must be an integer from 1 to 64, got {threads!r}")
        heap = merged["java_heap_mb"]
        if heap is not None and (isinstance(heap, bool) or not isinstance(heap, int) or not 128 <= heap <= 65_536):
            raise ValueError(f"java_heap_mb must be an integer from 128 to 65536 (MB), got {heap!r}")
        return merged

    @staticmethod
    def check_available() -> str:
        import jpype  # noqa: F401
        import konlpy  # noqa: F401

        return ""

    def _start(self) -> bool:
        heap = self.options.get("java_heap_mb")
        if heap is not None:
            configure_jvm(int(heap))
        has_helper = ensure_jvm()
        self._use_helper = bool(self.options["helper"]) and has_helper
        if self.options["helper"] and not has_helper:
            log.warning("%s: nlpkit's Java batch helper is unavailable; using per-sentence KoNLPy calls", self.name)
        return self._use_helper

    def _shared(self, factory: Any) -> Any:
        """The KoNLPy object for this backend and dictionary, created once per process (heap is shared)."""
        key = (self.name, self.dict_sha256)
        with _ENGINES_LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                engine = _ENGINES[key] = factory()
        return engine

    def _helper(self) -> Any:
        import jpype

        return jpype.JClass("nlpkit.NlpkitBatch")

    def _jarray(self, chunks: list[str]) -> Any:
        import jpype

        if self.split_astral:
            chunks = [_to_bmp(c) for c in chunks]
        return jpype.JArray(jpype.JString)(chunks)

    #: Whether the engine cuts astral characters (emoji, CJK Ext-B: two UTF-16 units) in halves; such
    #: backends get each one as a private-use BMP character and the forms are mapped back.
    split_astral: ClassVar[bool] = False

    def _limits(self) -> tuple[int, int]:
        """(per-chunk limit, whole-call budget) in ms for the helper; 0 means none."""
        limit = self.options.get("time_limit_s")
        budget = self.call_budget_s
        return (0 if not limit else max(1, int(float(limit) * 1000)),
                0 if budget is None else max(1, int(budget * 1000)))

    def _warm(self) -> None:
        """Run the engine once without a limit: its first call loads static dictionaries (Kkma: ~25 s),
        and a stop in the middle of that would break the class for the whole JVM."""
        if self._use_helper and self.name not in _WARMED:
            self._java_limited([_WARM_TEXT], (0, 0))
            _WARMED.add(self.name)

    def _from_fields(self, chunks: list[str], parsed: list[list[str] | str]) -> list[list[Token] | ChunkError]:
        out: list[list[Token] | ChunkError] = []
        for chunk, res in zip(chunks, parsed):
            if isinstance(res, str):
                out.append(ChunkError(res))
            else:
                forms, lemmas = res[0::3], res[2::3]
                if self.split_astral and _ASTRAL.search(chunk):
                    back = _from_bmp(chunk)
                    forms, lemmas = [back(f) for f in forms], [back(x) for x in lemmas]
                out.append(tokens_from_columns(self.name, chunk, forms, res[1::3], lemmas))
        return out

    #: Java tags the next batch (GIL released) while Python builds tokens of the current one.
    pipelined: ClassVar[bool] = True

    def _naive_one(self, chunk: str) -> list[tuple[str, str, str | None]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _java_limited(self, chunks: list[str], limits: tuple[int, int]) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _call(self, chunks: list[str]) -> Any:
        return self._java_limited(chunks, self._limits()) if self._use_helper else self._analyze_naive(chunks)

    def _convert(self, chunks: list[str], raw: Any) -> list[list[Token] | ChunkError]:
        return self._from_fields(chunks, _parse(raw, len(chunks))) if isinstance(raw, str) else raw

    def _analyze_naive(self, chunks: list[str]) -> list[list[Token] | ChunkError]:
        out: list[list[Token] | ChunkError] = []
        for c in chunks:
            try:
                if self.split_astral and _ASTRAL.search(c):
                    back = _from_bmp(c)
                    triples = [(back(f), t, lem) for f, t, lem in self._naive_one(_to_bmp(c))]
                else:
                    triples = self._naive_one(c)
                out.append(tokens_from_pairs(self.name, c, triples))
            except Exception as e:  # Java exceptions surface as many types
                out.append(ChunkError(f"{type(e).__name__}: {e}"))
                self._recover()
        return out


class OktTokenizer(_KonlpyTokenizer):
    """Open Korean Text (KoNLPy ``Okt``).

    Options: ``norm`` (normalize spelling: ``되나욬`` -> ``되나요``), ``stem`` (put the stem of
    verbs/adjectives in ``Token.lemma``; ``form`` stays the surface), ``threads`` (Java
    threads per batch), ``helper`` (use the Java batch helper), ``memo`` (memoize Okt's parse
    of each Korean chunk inside the helper; same tokens, faster), ``java_heap_mb``.
    User dictionary nouns go into Okt's JVM-wide noun dictionary (all Okt tokenizers of the
    process see them); other entries are merged after tagging.
    """

    name: ClassVar[str] = "okt"
    unknown_tag: ClassVar[str] = "Unknown"
    #: "가" * n: 250 us/char at n=25, 380 at 100, 2900 at 200, 36000 at 1600 (benchmarks/bench_tokenize.py --runs)
    default_max_run: ClassVar[int] = 100
    default_options: ClassVar[dict[str, Any]] = {"norm": False, "stem": False, "memo": True, **_JVM_OPTIONS}
    runtime_options: ClassVar[frozenset[str]] = _RUNTIME | {"memo"}

    def _load(self) -> Any:
        self._start()
        from konlpy.tag import Okt

        engine = self._shared(Okt)
        self._warm()
        return engine

    def _apply_user_dict(self, entries: list[DictEntry]) -> int:
        import jpype

        nouns = [e.form for e in entries if e.tag.startswith("NN") and " " not in e.form]
        if nouns:
            jpype.JClass("org.openkoreantext.processor.OpenKoreanTextProcessorJava").addNounsToDictionary(
                jpype.java.util.ArrayList(nouns))
            _OKT_JVM_NOUNS.update(nouns)
            if self._use_helper:
                self._helper().oktClearMemo()  # memoized chunk parses predate the new nouns
        return len(nouns)

    @property
    def fingerprint(self) -> str:
        if self.user_dicts and self._engine is None:
            # this tokenizer's dictionary nouns enter the JVM when the engine loads: fingerprint after that,
            # so planning and every batch (and the next run) agree
            self._ensure_engine()
        base = super().fingerprint
        if not _OKT_JVM_NOUNS:
            return base
        extra = hashlib.sha256("\n".join(sorted(_OKT_JVM_NOUNS)).encode()).hexdigest()
        return hashlib.sha256((base + extra).encode()).hexdigest()

    def _naive_one(self, chunk: str) -> list[tuple[str, str, str | None]]:
        norm, stem = bool(self.options["norm"]), bool(self.options["stem"])
        surface = self._engine.pos(chunk, norm=norm, stem=False)
        if not stem:
            return [(f, t, None) for f, t in surface]
        stems = self._engine.pos(chunk, norm=norm, stem=True)
        # Okt stems verbs and adjectives only (the helper reads the stem field directly)
        return [(f, t, s if (t in ("Verb", "Adjective") or s != f) else None)
                for (f, t), (s, _) in zip(surface, stems)]

    def _java_limited(self, chunks: list[str], limits: tuple[int, int]) -> str:
        return str(self._helper().okt(self._jarray(chunks), bool(self.options["norm"]), bool(self.options["stem"]),
                                      int(self.options["threads"]), bool(self.options["memo"]), *limits))


class KomoranTokenizer(_KonlpyTokenizer):
    """KOMORAN 3 (KoNLPy ``Komoran``); user dictionaries go to Komoran's ``userdic`` (spaces allowed)."""

    name: ClassVar[str] = "komoran"
    unknown_tag: ClassVar[str] = "NA"
    default_options: ClassVar[dict[str, Any]] = dict(_JVM_OPTIONS)

    def _load(self) -> Any:
        self._start()
        from konlpy.tag import Komoran

        engine = self._shared(Komoran)
        if self._use_helper and self.name not in _WARMED:
            self._helper().komoran(engine.jki, self._jarray([_WARM_TEXT]), 1, 0, 0)
            _WARMED.add(self.name)
        return engine

    def _apply_user_dict(self, entries: list[DictEntry]) -> int:
        fd, path = tempfile.mkstemp(prefix="nlpkit-komoran-", suffix=".tsv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for e in entries:
                    f.write(f"{e.form}\t{e.tag}\n")
            self._engine.jki.setUserDic(path)
        finally:
            os.unlink(path)
        return len(entries)

    def _naive_one(self, chunk: str) -> list[tuple[str, str, str | None]]:
        return [(f, t, None) for f, t in self._engine.pos(chunk)]

    split_astral: ClassVar[bool] = True

    def _java_limited(self, chunks: list[str], limits: tuple[int, int]) -> str:
        return str(self._helper().komoran(self._engine.jki, self._jarray(chunks), int(self.options["threads"]),
                                          *limits))


class KkmaTokenizer(_KonlpyTokenizer):
    """Kkma (KoNLPy ``Kkma``): detailed 56-tag analysis, but ~110 sentences/s naively.

    Opt-in: creating one warns (``warn_slow=False`` silences it). Sentences are tagged one
    by one (joining them with newlines changes Kkma's output), on ``threads`` Java threads
    with one analyser each.
    """

    name: ClassVar[str] = "kkma"
    unknown_tag: ClassVar[str] = "UN"
    #: news without spaces: 3.1 ms/char in runs of 25, 4.3 at 50, 7.9 at 100
    default_max_run: ClassVar[int] = 50
    default_options: ClassVar[dict[str, Any]] = {**_JVM_OPTIONS, "warn_slow": True}
    runtime_options: ClassVar[frozenset[str]] = _RUNTIME | {"warn_slow"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.options["warn_slow"]:
            warnings.warn("the kkma tokenizer is slow (~110 sentences/s naively; tokenize_batch tags on 2 Java threads); "
                          "prefer kiwi, mecab or komoran for whole corpora (warn_slow=False silences this)",
                          UserWarning, stacklevel=3)

    def _load(self) -> Any:
        self._start()
        from konlpy.tag import Kkma

        engine = self._shared(Kkma)
        self._warm()
        return engine

    def _naive_one(self, chunk: str) -> list[tuple[str, str, str | None]]:
        return [(f, t, None) for f, t in self._engine.pos(chunk)]

    split_astral: ClassVar[bool] = True

    def _java_limited(self, chunks: list[str], limits: tuple[int, int]) -> str:
        return str(self._helper().kkma(self._jarray(chunks), int(self.options["threads"]), *limits))


class HannanumTokenizer(_KonlpyTokenizer):
    """JHannanum (KoNLPy ``Hannanum``), serialized process-wide (concurrent calls kill the JVM).

    Option ``ntags``: 22 (default, ``NC``/``NQ``/``PV``...) or 9 (``N``/``P``/``M``...).

    JHannanum throws inside its workflow on some long runs without spaces and then returns
    the previous document's result on every later call (its output queues keep the rest of
    the failed document). Both paths detect the failure -- the helper catches the exception,
    KoNLPy's call returns None -- and drop the workflow (a new one is built on the next call),
    and every result is checked against its sentence: the eojeol surfaces JHannanum echoes
    must spell the sentence, else the result is stale and the sentence fails.
    """

    name: ClassVar[str] = "hannanum"
    unknown_tag: ClassVar[str] = "F"
    #: news without spaces: ~3 ms/char up to runs of 100, 5.3 at 200, where JHannanum also starts to throw
    default_max_run: ClassVar[int] = 100
    default_options: ClassVar[dict[str, Any]] = {**_JVM_OPTIONS, "ntags": 22}

    def _load(self) -> Any:
        if self.options["ntags"] not in (9, 22):
            raise ValueError(f"hannanum ntags must be 9 or 22, got {self.options['ntags']!r}")
        self._start()
        from konlpy.tag import Hannanum

        engine = self._shared(Hannanum)
        self._warm()
        return engine

    def _naive_one(self, chunk: str) -> list[tuple[str, str, str | None]]:
        jhi = self._engine.jhi
        with _HANNANUM_LOCK:
            raw = jhi.simplePos09(chunk) if int(self.options["ntags"]) == 9 else jhi.simplePos22(chunk)
        if raw is None:
            raise TokenizerError("JHannanum threw inside its workflow (KoNLPy printed the Java exception)")
        return _hannanum_triples(chunk, str(raw))

    pipelined: ClassVar[bool] = False  # serialized anyway; keep its calls on the caller's thread

    def _call(self, chunks: list[str]) -> Any:
        if not self._use_helper:
            return self._analyze_naive(chunks)
        with _HANNANUM_LOCK:
            out = self._java_limited(chunks, self._limits())
        results: list[list[Token] | ChunkError] = []
        for chunk, raw in zip(chunks, out.split(_SENT)):
            if raw.startswith(_ERR):
                results.append(ChunkError(raw[1:]))
                continue
            try:
                results.append(tokens_from_pairs(self.name, chunk, _hannanum_triples(chunk, raw)))
            except TokenizerError as e:
                self._recover()
                results.append(ChunkError(str(e)))
        if len(results) != len(chunks):
            raise TokenizerError(f"batch helper returned {len(results)} results for {len(chunks)} sentences")
        return results

    def _java_limited(self, chunks: list[str], limits: tuple[int, int]) -> str:
        return str(self._helper().hannanum(self._jarray(chunks), int(self.options["ntags"]), *limits))

    def _recover(self) -> None:
        """Drop JHannanum's workflows: the helper's, and KoNLPy's (a new ``HannanumInterface``)."""
        import jpype

        with _HANNANUM_LOCK:
            if self._use_helper:
                self._helper().hannanumReset()
            if self._engine is not None:
                self._engine.jhi = jpype.JPackage("kr.lucypark.jhannanum.comm").HannanumInterface()


def _hannanum_triples(chunk: str, raw: str) -> list[tuple[str, str, str | None]]:
    """``(form, tag, None)`` from JHannanum's raw output, after checking it belongs to ``chunk``.

    The output lists every eojeol's surface on an unindented line, its analysis on the
    indented line below; the surfaces must spell ``chunk`` without whitespace.
    """
    from konlpy.tag._hannanum import parse

    surfaces = "".join(line for line in raw.split("\n") if line and not line.startswith("\t"))
    if "".join(surfaces.split()) != "".join(chunk.split()):  # Hannanum keeps U+3000 inside a surface
        raise TokenizerError(f"JHannanum returned the analysis of another text ({surfaces[:40]!r}): stale workflow")
    return [(f, t, None) for f, t in parse(raw, flatten=True)]

