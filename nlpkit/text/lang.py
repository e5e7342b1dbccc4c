"""The project's one language detector: news extraction and features (Korean or not) both use it."""

from __future__ import annotations

import re

__all__ = ["detect_language"]

_HANGUL, _LATIN, _CYRILLIC = re.compile("[\uac00-\ud7a3]"), re.compile("[A-Za-z]"), re.compile("[\u0400-\u04ff]")
_EN_STOP = frozenset("the of and to a in is that for on with as was it by he said at from".split())


def detect_language(text: str, hint: str = "auto") -> str:
    """'ko' when Hangul dominates the letters, 'en' for English-looking Latin text, else the hint or 'und'.

    >>> detect_language("서울시는 오늘 새 정책을 발표했다.")
    'ko'
    """
    sample = text[:5000]
    hangul = len(_HANGUL.findall(sample))
    latin = len(_LATIN.findall(sample))
    cyrillic = len(_CYRILLIC.findall(sample))
    letters = hangul + latin + cyrillic
    if letters == 0:
        return hint if hint != "auto" else "und"
    if hangul / letters >= 0.3:
        return "ko"
    if cyrillic / letters >= 0.5:
        return "ru"
    words = re.findall(r"[a-z]+", sample.lower())
    if words and sum(w in _EN_STOP for w in words) / len(words) >= 0.08:
        return "en"
    return hint if hint != "auto" else "und"
