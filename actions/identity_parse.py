"""Pure parsing of what customers type for identity: phones, ID digits, dates, codes.

Customers type numbers with spaces and dashes, in full-width or Chinese digits
("幺三八…"), and dates as 1986-04-12, 1986年4月12日 or 86.4.12.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

CN_DIGITS = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "壹": "1",
    "二": "2",
    "两": "2",
    "贰": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "柒": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
}
MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)")
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
LAST4_RE = re.compile(r"(?<![0-9A-Za-z])(\d{3}[\dXx])(?![0-9A-Za-z])")
POLICY_RE = re.compile(r"(?<![0-9A-Za-z])([Pp]\d{6,20})(?!\d)")
CODE_RE = re.compile(r"(?<!\d)(\d{4,8})(?!\d)")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
SEPARATORS_RE = re.compile(r"(?<=\d)[\s\-－—_·.]+(?=\d)")


def _cn_number(text: str) -> int | None:
    """一 … 九十九 (十二, 二十三, 三十一) as an int; plain digit runs too."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" not in text:
        digits = "".join(CN_DIGITS.get(ch, "") for ch in text)
        return int(digits) if len(digits) == len(text) else None
    tens, _, ones = text.partition("十")
    tens_value = int(CN_DIGITS.get(tens, "")) if tens else 1
    ones_value = int(CN_DIGITS.get(ones, "")) if ones else 0
    if (tens and tens not in CN_DIGITS) or (ones and ones not in CN_DIGITS):
        return None
    return tens_value * 10 + ones_value


def normalize_digits(text: str) -> str:
    """Full-width and Chinese digits to ASCII; separators between digits removed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(CN_DIGITS.get(ch, ch) for ch in text)
    return text


def parse_phone(text: str | None) -> str | None:
    """A mainland mobile number (11 digits, 1[3-9]…) found in the text."""
    if not text:
        return None
    compact = SEPARATORS_RE.sub("", normalize_digits(str(text)))
    compact = re.sub(r"(?<=\d) (?=\d)", "", compact)
    match = MOBILE_RE.search(compact)
    return match.group(1) if match else None


def parse_id_last4(text: str | None) -> str | None:
    """The last 4 characters of an ID number (digits, the last may be X)."""
    if not text:
        return None
    value = SEPARATORS_RE.sub("", normalize_digits(str(text))).strip()
    full = ID_NUMBER_RE.search(value)
    if full:
        return full.group(0)[-4:].upper()
    matches = LAST4_RE.findall(value)
    return matches[-1].upper() if matches else None


def parse_policy_number(text: str | None) -> str | None:
    """A policy number such as P4400000000003 (upper-cased)."""
    if not text:
        return None
    value = SEPARATORS_RE.sub("", normalize_digits(str(text)))
    match = POLICY_RE.search(value)
    return match.group(1).upper() if match else None


def _year(value: int) -> int:
    if value >= 100:
        return value
    # two-digit years: a birth year, so never in the future
    this_year = date.today().year % 100
    return 2000 + value if value <= this_year else 1900 + value


def parse_birth_date(text: str | None) -> date | None:
    """1986-04-12, 1986/4/12, 1986.4.12, 1986年4月12日, 86.4.12, 19860412."""
    if not text:
        return None
    value = unicodedata.normalize("NFKC", str(text)).strip()
    cn = re.search(
        r"([零〇○一二三四五六七八九\d]{2,4})年(\S{1,3})月(\S{1,3})[日号]", value
    )
    candidates: list[tuple[int | None, int | None, int | None]] = []
    if cn:
        year_text = "".join(CN_DIGITS.get(ch, ch) for ch in cn.group(1))
        candidates.append(
            (
                int(year_text) if year_text.isdigit() else None,
                _cn_number(cn.group(2)),
                _cn_number(cn.group(3)),
            )
        )
    sep = re.search(
        r"(?<!\d)(\d{2}|\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", value
    )
    if sep:
        candidates.append((int(sep.group(1)), int(sep.group(2)), int(sep.group(3))))
    compact = re.search(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)", value)
    if compact:
        candidates.append(
            (int(compact.group(1)), int(compact.group(2)), int(compact.group(3)))
        )
    for year, month, day in candidates:
        if year is None or month is None or day is None:
            continue
        try:
            born = date(_year(year), month, day)
        except ValueError:
            continue
        if date(1900, 1, 1) <= born <= date.today():
            return born
    return None


def parse_code(text: str | None) -> str | None:
    """A one-time code of 4–8 digits (spaces between digits allowed)."""
    if not text:
        return None
    value = re.sub(r"(?<=\d)\s+(?=\d)", "", normalize_digits(str(text)))
    match = CODE_RE.search(value)
    return match.group(1) if match else None


def parse_email(text: str | None) -> str | None:
    """An e-mail address in the text, lower-cased."""
    if not text:
        return None
    match = EMAIL_RE.search(unicodedata.normalize("NFKC", str(text)))
    return match.group(0).lower() if match else None


def contact_field_of(text: str | None) -> str | None:
    """Which contact field the customer means: phone, email or address."""
    if not text:
        return None
    value = unicodedata.normalize("NFKC", str(text)).lower()
    if parse_email(value) or any(
        k in value for k in ("邮箱", "email", "e-mail", "邮件", "mail")
    ):
        return "email"
    if any(k in value for k in ("地址", "住址", "address", "住的地方", "搬家")):
        return "address"
    if parse_phone(value) or any(k in value for k in ("手机", "电话", "号码", "phone")):
        return "phone"
    return None


def mask_email(email: str) -> str:
    """z***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_address(address: str) -> str:
    """The first six characters of an address, the rest hidden."""
    return address[:6] + "****" if len(address) > 6 else address[:2] + "****"
