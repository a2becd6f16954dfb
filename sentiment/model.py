"""Inference: load weights.json once, score a message in well under a millisecond."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sentiment.lexicon import cues

LABELS = ("angry", "disappointed", "neutral", "satisfied")
# where each class sits on the [-1, 1] scale; the score is the expectation
POLARITY = {"angry": -1.0, "disappointed": -0.5, "neutral": 0.0, "satisfied": 1.0}
WEIGHTS = Path(__file__).resolve().parent / "weights.json"
NGRAMS = (1, 2, 3)
LEXICON_REPEAT = 3  # a lexicon cue counts like this many n-grams


@dataclass(frozen=True)
class Result:
    """One message's sentiment: the score, the most likely label, its probabilities."""

    score: float
    label: str
    probabilities: dict[str, float]


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20


def normalise(text: str, t2s: dict[str, str] | None = None) -> str:
    """Traditional → simplified (character table), half-width, lower case."""
    text = text.translate(_FULL_WIDTH).lower()
    if t2s:
        text = "".join(t2s.get(char, char) for char in text)
    return " ".join(text.split())


def features(text: str) -> list[str]:
    """Character n-grams (with ^/$ edges) plus lexicon cues of a normalised text."""
    lexical, masked = cues(text)
    padded = f"^{masked}$"
    grams = [
        padded[i : i + n]
        for n in NGRAMS
        for i in range(len(padded) - n + 1)
        if padded[i : i + n] not in ("^", "$")
    ]
    for cue in lexical:
        grams.extend([cue] * LEXICON_REPEAT)
    return grams


@lru_cache(maxsize=1)
def _weights(path: str = str(WEIGHTS)) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def probabilities(text: str, weights: dict[str, Any] | None = None) -> dict[str, float]:
    """Class probabilities of the naive Bayes model."""
    model = weights or _weights()
    labels = model["labels"]
    logits = list(model["prior"])
    table = model["features"]
    for feature in features(normalise(text, model.get("t2s"))):
        row = table.get(feature)
        if row is None:
            continue
        for k in range(len(labels)):
            logits[k] += row[k]
    top = max(logits)
    exp = [math.exp(value - top) for value in logits]
    total = sum(exp)
    return {name: value / total for name, value in zip(labels, exp, strict=True)}


def analyse(text: str) -> Result:
    """Score, label and probabilities of one message."""
    if not text or not text.strip():
        return Result(
            0.0, "neutral", {name: float(name == "neutral") for name in LABELS}
        )
    probs = probabilities(text)
    value = sum(POLARITY[name] * p for name, p in probs.items())
    best = max(probs, key=probs.__getitem__)
    return Result(round(max(-1.0, min(1.0, value)), 4) + 0.0, best, probs)


def score(text: str) -> float:
    """Sentiment in [-1, 1]."""
    return analyse(text).score


def label(text: str) -> str:
    """angry, disappointed, neutral or satisfied."""
    return analyse(text).label
