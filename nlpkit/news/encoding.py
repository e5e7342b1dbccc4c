"""Decode fetched HTML bytes: HTTP header, then the document's meta charset, then detection.

Korean pages are the reason for the care taken here: legacy pages are EUC-KR (decoded with
its superset CP949, which also covers the extra Hangul syllables real pages use), and pages
re-saved by tools keep a ``<meta charset=euc-kr>`` over bytes that are really UTF-8. A
declared legacy charset therefore loses to UTF-8 when the bytes hold multi-byte text that is
valid UTF-8 (random EUC-KR text practically never is).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Decoded", "decode_html", "charset_from_content_type", "charset_from_meta"]

DecidedBy = Literal["bom", "header", "meta", "utf8", "detected", "fallback"]

_META = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_HEADER = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

#: Declared names mapped to the codec that decodes what servers really send under them.
_SUPERSETS = {"euc-kr": "cp949", "euc_kr": "cp949", "ks_c_5601-1987": "cp949", "ksc5601": "cp949",
              "x-windows-949": "cp949", "windows-949": "cp949", "iso-8859-1": "cp1252", "latin-1": "cp1252",
              "us-ascii": "cp1252", "ascii": "cp1252", "gb2312": "gb18030", "gbk": "gb18030"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text of a page and how its encoding was decided."""

    text: str
    encoding: str
    decided_by: DecidedBy
    declared: str | None  # what the header or meta tag claimed, if anything


def _codec(name: str | None) -> str | None:
    """Python codec name for a declared charset, or None when unknown."""
    if not name:
        return None
    label = name.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset=`` of a Content-Type header value, as declared."""
    m = _HEADER.search(content_type or "")
    return m.group(1) if m else None


def charset_from_meta(body: bytes) -> str | None:
    """The charset a ``<meta>`` tag in the first 4 KiB declares, as declared."""
    m = _META.search(body[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _is_multibyte_utf8(body: bytes) -> str | None:
    """The UTF-8 text of ``body`` if it is valid UTF-8 with non-ASCII content, else None."""
    if body.isascii():
        return None
    return _strict(body, "utf-8")


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode page bytes: BOM, header charset, meta charset, then charset-normalizer.

    A declared charset is used only if the bytes decode under it strictly; a declared
    legacy charset yields to UTF-8 when the bytes are valid multi-byte UTF-8.

    >>> decode_html("뉴스".encode("cp949"), "text/html; charset=euc-kr").text
    '뉴스'
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body.decode(codec, "replace"), codec, "bom", None)
    utf8_text = _is_multibyte_utf8(body)
    header = charset_from_content_type(content_type)
    meta = charset_from_meta(body)
    for declared, by in ((header, "header"), (meta, "meta")):
        codec = _codec(declared)
        if codec is None:
            continue
        if codec != "utf-8" and utf8_text is not None:
            return Decoded(utf8_text, "utf-8", "utf8", declared)
        text = _strict(body, codec)
        if text is not None:
            return Decoded(text, codec, by, declared)  # type: ignore[arg-type]
    declared = header or meta
    if utf8_text is not None:
        return Decoded(utf8_text, "utf-8", "utf8", declared)
    if body.isascii():
        return Decoded(body.decode("ascii"), "ascii", "fallback" if declared is None else "header", declared)
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is not None:
        codec = _codec(best.encoding) or best.encoding
        return Decoded(body.decode(codec, "replace"), codec, "detected", declared)
    return Decoded(body.decode("utf-8", "replace"), "utf-8", "fallback", declared)
