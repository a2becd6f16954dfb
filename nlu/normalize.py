"""Length-preserving text normalisation applied before the NLU model sees a message.

Customers type 繁体, full-width digits from Chinese IMEs, mixed-case English and,
now and then, numbers spelled with Chinese digit characters (一三八…). The model is
trained on the same normalised text, so all of these look alike to it.

Every step maps ONE character to ONE character, so ``len(normalize(t)) == len(t)``
and a character offset means the same position in the original and the normalised
text: entity ``start``/``end`` found on the normalised text can be used to cut the
customer's original words (and training annotations keep their offsets).

Steps:
1. Traditional → simplified with OpenCC ``t2s`` (phrase-aware). When a phrase
   conversion would change the length, that text falls back to character-by-character
   conversion, which is always 1:1.
2. Full-width ASCII (０-９, Ａ-Ｚ, punctuation, the ideographic space) → half-width.
3. Latin words are lower-cased, but identifier-like runs that mix letters and digits
   (P3100000000001, CL…, 11010519491231002X) keep their case, so entity values stay
   exactly what the CRM stores.
4. Runs of at least four Chinese digit characters without any unit character
   (一三八零零一三八零零一, 二七三九) → ASCII digits. Shorter runs and anything with
   十/百/千/万 are left alone (一一对应, 三万块 stay words).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20  # ideographic space

_CHINESE_DIGITS = "零〇一二三四五六七八九幺两"
_DIGIT_VALUE = {
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
# 4+ digit characters, not glued to a unit (十百千万亿) on either side.
_CHINESE_NUMBER = re.compile(
    rf"(?<![十百千万亿])[{_CHINESE_DIGITS}]{{4,}}(?![十百千万亿])"
)
_LATIN_RUN = re.compile(r"[A-Za-z0-9]+")


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    """The OpenCC converter (imported lazily: the tables take a moment to load)."""
    try:
        import opencc  # opencc-python-reimplemented
    except ImportError:  # pragma: no cover - always installed in .venv-rasa
        return lambda text: text
    return opencc.OpenCC("t2s").convert


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese, keeping the length."""
    convert = _t2s()
    converted = convert(text)
    if len(converted) == len(text):
        return converted
    chars = []
    for char in text:
        one = convert(char)
        chars.append(one if len(one) == 1 else char)
    return "".join(chars)


def to_half_width(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation → half-width."""
    return text.translate(_FULL_WIDTH)


def _lower_word(match: re.Match[str]) -> str:
    run = match.group(0)
    has_digit = any(char.isdigit() for char in run)
    return run if has_digit else run.lower()


def lower_latin(text: str) -> str:
    """Lower-case Latin words; leave letter+digit identifiers as they are."""
    return _LATIN_RUN.sub(_lower_word, text)


def chinese_digits(text: str) -> str:
    """Spell-out digit strings (二七三九) → 2739 where it is unambiguous."""
    return _CHINESE_NUMBER.sub(
        lambda m: "".join(_DIGIT_VALUE[c] for c in m.group(0)), text
    )


def normalize(text: str) -> str:
    """All steps above; the result has exactly the length of ``text``."""
    if not text:
        return text
    result = chinese_digits(lower_latin(to_half_width(to_simplified(text))))
    assert len(result) == len(text), "normalisation must keep offsets"
    return result
