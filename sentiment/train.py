"""Train the sentiment model: ``python -m sentiment.train`` (either environment).

Reads data/sentiment/labelled.tsv (``text<TAB>label``, header line), splits it
deterministically (:func:`split_of`: a fifth of the messages, chosen by a hash of the
text, is the test split), picks the naive Bayes smoothing by 5-fold cross-validation
on the training split, trains on the whole training split and writes
sentiment/weights.json. When OpenCC is importable (.venv-rasa) its traditional →
simplified character table is stored with the weights, so inference needs no OpenCC.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sentiment.model import LABELS, WEIGHTS, features, normalise

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "sentiment" / "labelled.tsv"
ALPHAS = (0.05, 0.1, 0.2, 0.5, 1.0)
MIN_COUNT = 2


def read_labelled(path: Path = DATA) -> list[tuple[str, str]]:
    """(text, label) rows of the labelled set."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if number == 0 or not line.strip():
            continue
        text, label = line.rsplit("\t", 1)
        if label not in LABELS:
            raise ValueError(f"{path}:{number + 1}: unknown label {label!r}")
        rows.append((text, label))
    return rows


def split_of(text: str) -> str:
    """'test' for one message in five (stable: by hash of the text), else 'train'."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    return "test" if int(digest, 16) % 5 == 0 else "train"


def split(rows: list[tuple[str, str]]) -> tuple[list, list]:
    """The train and test splits."""
    train = [row for row in rows if split_of(row[0]) == "train"]
    test = [row for row in rows if split_of(row[0]) == "test"]
    return train, test


def opencc_table() -> dict[str, str]:
    """OpenCC's traditional → simplified single-character table, if installed."""
    try:
        import opencc
    except ImportError:
        return {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        first = simp.split(" ")[0] if simp else ""
        if len(trad) == 1 and len(first) == 1 and trad != first:
            table[trad] = first
    return table


def fit(
    rows: list[tuple[str, str]],
    *,
    alpha: float,
    t2s: dict[str, str],
    min_count: int = 1,
) -> dict[str, Any]:
    """Multinomial naive Bayes weights (log probabilities) from labelled rows."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    for text, label in rows:
        docs[label] += 1
        for feature in features(normalise(text, t2s)):
            counts[feature][label] += 1
            totals[label] += 1
    vocab = [f for f, c in counts.items() if sum(c.values()) >= min_count]
    size = len(vocab)
    table = {
        feature: [
            round(
                math.log(
                    (counts[feature][label] + alpha) / (totals[label] + alpha * size)
                ),
                4,
            )
            for label in LABELS
        ]
        for feature in sorted(vocab)
    }
    n = sum(docs.values())
    prior = [
        round(math.log((docs[label] + 1) / (n + len(LABELS))), 4) for label in LABELS
    ]
    return {"labels": list(LABELS), "prior": prior, "features": table, "t2s": t2s}


def predict(weights: dict[str, Any], text: str) -> str:
    """The most likely label under ``weights``."""
    from sentiment.model import probabilities

    probs = probabilities(text, weights)
    return max(probs, key=probs.__getitem__)


def accuracy(weights: dict[str, Any], rows: list[tuple[str, str]]) -> float:
    """Share of rows whose label is predicted."""
    return sum(predict(weights, text) == label for text, label in rows) / len(rows)


def choose_alpha(
    rows: list[tuple[str, str]], t2s: dict[str, str]
) -> tuple[float, dict]:
    """Smoothing with the best 5-fold cross-validated accuracy on ``rows``."""
    scores = {}
    for alpha in ALPHAS:
        correct = 0
        for fold in range(5):
            held = [row for i, row in enumerate(rows) if i % 5 == fold]
            rest = [row for i, row in enumerate(rows) if i % 5 != fold]
            weights = fit(rest, alpha=alpha, t2s=t2s)
            correct += sum(predict(weights, t) == lab for t, lab in held)
        scores[alpha] = correct / len(rows)
    best = max(scores, key=lambda a: (scores[a], -a))
    return best, scores


def main(argv: list[str] | None = None) -> None:
    """Train, report, write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    rows = read_labelled(args.data)
    train, test = split(rows)
    t2s = opencc_table()
    alpha, scores = choose_alpha(train, t2s)
    weights = fit(train, alpha=alpha, t2s=t2s, min_count=MIN_COUNT)
    weights["meta"] = {
        "alpha": alpha,
        "cv_accuracy": scores,
        "train_size": len(train),
        "test_size": len(test),
        "test_accuracy": round(accuracy(weights, test), 4),
    }
    args.out.write_text(
        json.dumps(weights, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    print(json.dumps(weights["meta"], ensure_ascii=False))


if __name__ == "__main__":
    main()
