"""Pure helpers for the enquiry actions: Chinese money and dates, entities, products."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Tracker

CHINA = timezone(timedelta(hours=8))

# product_type entity values (any wording) → the CRM's product type
PRODUCT_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("重疾", "critical_illness"),
    ("重大疾病", "critical_illness"),
    ("医疗", "medical"),
    ("住院", "medical"),
    ("意外", "accident"),
    ("年金", "annuity"),
    ("养老", "annuity"),
    ("万能", "universal"),
    ("寿险", "life"),
    ("两全", "life"),
    ("人寿", "life"),
)
PRODUCT_LABELS = {
    "critical_illness": "重疾险",
    "life": "寿险",
    "medical": "医疗险",
    "accident": "意外险",
    "annuity": "年金险",
    "universal": "万能险",
}
PRESENCE_LABELS = {"online": "在线", "away": "暂时离开", "offline": "不在线"}

POLICY_NO = re.compile(r"P\d{13}", re.IGNORECASE)
CLAIM_NO = re.compile(r"CL\d{13}", re.IGNORECASE)


def money(fen: int) -> str:
    """¥5,000.00 from 500000 fen."""
    return f"¥{fen / 100:,.2f}"


def cn_date(value: date | datetime | None) -> str:
    """2026年12月5日 (a datetime is shown in China time)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(CHINA).date() if value.tzinfo else value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def product_type_code(value: Any) -> str | None:
    """The CRM product type for a product_type value (重疾险 → critical_illness)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if text in PRODUCT_LABELS:
        return text
    for keyword, code in PRODUCT_KEYWORDS:
        if keyword in text:
            return code
    return None


def request_entities(tracker: Tracker, intents: Iterable[str]) -> list[dict[str, Any]]:
    """Entities of the latest user message with one of ``intents``.

    After an identity-verification detour the latest message holds ID digits, so
    the entities of the original request are looked up in the events.
    """
    wanted = set(intents)
    latest = tracker.latest_message or {}
    if (latest.get("intent") or {}).get("name") in wanted:
        return list(latest.get("entities") or [])
    for event in reversed(tracker.events or []):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") in wanted:
            return list(parse.get("entities") or [])
    return list(latest.get("entities") or [])


def entity_value(entities: list[dict[str, Any]], name: str) -> str | None:
    """The first value of entity ``name`` (as text), if any."""
    for entity in entities:
        if entity.get("entity") == name and entity.get("value") not in (None, ""):
            return str(entity["value"]).strip()
    return None


def find_number(text: str | None, pattern: re.Pattern[str]) -> str | None:
    """A policy or claim number inside free text, upper-cased."""
    match = pattern.search(text or "")
    return match.group(0).upper() if match else None


def first_sentences(text: str, count: int = 2, limit: int = 110) -> str:
    """The first ``count`` sentences of ``text``, at most ``limit`` characters."""
    parts = [p for p in re.split(r"(?<=。)", text) if p.strip()]
    short = "".join(parts[:count])
    return short if len(short) <= limit else short[: limit - 1] + "…"


def key_exclusions(text: str | None, count: int = 4) -> str | None:
    """The first numbered exclusions (故意犯罪、酒驾…) joined for one line."""
    if not text:
        return None
    items = re.findall(r"\d+\.\s*([^；。]+)", text)
    if not items:
        return first_sentences(text, 1, 80)
    return "；".join(item.strip() for item in items[:count])


CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}


def _cn_number(text: str) -> int | None:
    """1-99 in Arabic or Chinese numerals (十二, 二十三, 12)."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in CN_DIGITS for ch in text):
        return None
    if "十" not in text:
        return CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (
        CN_DIGITS.get(ones, 0) if ones else 0
    )


RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "大前天": 3}
NUM = r"[0-9零〇一二两三四五六七八九十]{1,3}"


def parse_incident_date(text: Any, today: date | None = None) -> date | None:
    """A past date from how customers write it: 2026-11-20, 11月20号, 昨天, 3天前."""
    if not isinstance(text, str):
        return None
    today = today or datetime.now(CHINA).date()
    value = text.strip()
    for word in sorted(RELATIVE_DAYS, key=len, reverse=True):
        if word in value:
            return today - timedelta(days=RELATIVE_DAYS[word])
    ago = re.search(rf"({NUM})\s*天(?:以)?前", value)
    if ago and (days := _cn_number(ago.group(1))) is not None:
        return today - timedelta(days=days)
    full = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", value)
    try:
        if full:
            found = date(int(full.group(1)), int(full.group(2)), int(full.group(3)))
        else:
            md = re.search(rf"({NUM})\s*月\s*({NUM})\s*[日号]?", value)
            if not md:
                return None
            month, day = _cn_number(md.group(1)), _cn_number(md.group(2))
            if month is None or day is None:
                return None
            found = date(today.year, month, day)
            if found > today:
                found = date(today.year - 1, month, day)
    except ValueError:
        return None
    return found if found <= today else None


def parse_amount_fen(text: Any) -> int | None:
    """Fen from 36800, 3.68万, ¥36,800.00 or 五千元 (simple forms only)."""
    if not isinstance(text, str):
        return None
    value = text.replace(",", "").replace("，", "")
    match = re.search(r"(\d+(?:\.\d+)?)\s*(万|千|k|K)?", value)
    if not match:
        return None
    number = float(match.group(1))
    number *= {"万": 10000, "千": 1000, "k": 1000, "K": 1000}.get(match.group(2), 1)
    return int(round(number * 100))
