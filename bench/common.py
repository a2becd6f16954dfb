"""Shared pieces of the NLU benchmark (bench.nlu, bench.nlu_cv, bench.nlu_smp)."""

from __future__ import annotations

import asyncio
import copy
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


def rasa_env() -> dict[str, str]:
    """The environment of Rasa subprocesses: quiet, no telemetry, this repo."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        PYTHONPATH=str(ROOT),
    )
    return env


def load_config(path: Path, epochs: int | None) -> dict[str, Any]:
    """The config with relative paths made absolute (and epochs capped if asked)."""
    from scripts.rasa_test_config import ensure_spacy_models, fast_config

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    ensure_spacy_models(config)
    return fast_config(config, epochs=epochs or 10**6)


def without(config: dict[str, Any], *names: str) -> dict[str, Any]:
    """A deep copy of the config without the named pipeline components.

    Deep, so that a part changing a component's settings (smp switches DIET's
    entity recognition off) does not change them for the parts run after it.
    """
    result = copy.deepcopy(config)
    result["pipeline"] = [c for c in result["pipeline"] if c["name"] not in names]
    return result


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    """Write YAML (Chinese kept readable); returns the path."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def macro(y_true: list[str], y_pred: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1 and weighted F1 over the true labels."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(y_true))
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=labels, average="macro")), 4
        ),
        "weighted_f1": round(
            float(f1_score(y_true, y_pred, labels=labels, average="weighted")), 4
        ),
    }


def folder_size(path: Path) -> int:
    """Bytes of every file under a folder."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def parse_all(model: Path, texts: list[str]) -> tuple[list[dict[str, Any]], float]:
    """Parse texts with a trained model; returns results and median ms per parse."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> tuple[list[dict[str, Any]], list[float]]:
        results, times = [], []
        for text in texts:
            started = time.perf_counter()
            results.append(await agent.parse_message(text))
            times.append((time.perf_counter() - started) * 1000)
        return results, times

    results, times = asyncio.run(run())
    return results, round(statistics.median(times), 2)


def train_nlu(
    config: Path, data: Path | str, out: Path, name: str, domain: Path | None = None
) -> tuple[Path, float]:
    """``rasa train nlu`` in a subprocess (clean TF state); returns model, seconds."""
    args = [
        str(RASA),
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(data),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
        "--quiet",
    ]
    if domain is not None:
        args += ["--domain", str(domain)]
    started = time.perf_counter()
    result = subprocess.run(
        args, cwd=ROOT, env=rasa_env(), capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    model = out / f"{name}.tar.gz"
    if result.returncode != 0 or not model.exists():
        raise RuntimeError(
            "training failed:\n" + (result.stdout + result.stderr)[-3000:]
        )
    return model, seconds


def pct(value: float | None) -> str:
    """42.0% (– for nothing)."""
    return "–" if value is None else f"{value * 100:.1f}%"


def mb(size: int) -> str:
    """Megabytes with one decimal (kilobytes for small things)."""
    if size < 100_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"


SWEEP_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)


def blend_sweep(
    y_true: list[str],
    sources: list[dict[str, Any]],
    *,
    fallback_threshold: float | None = None,
) -> list[dict[str, float]]:
    """Accuracy and macro-F1 of the blend for other DIET weights, same parses.

    With ``fallback_threshold`` each row also says what the FallbackClassifier
    would do at that weight (the blend's confidences get softer as the n-gram
    model's share grows, so a weight and its threshold are chosen together).
    """
    if len(sources) != len(y_true) or not any(
        {"diet", "char_ngram"} <= set(s) for s in sources
    ):
        return []
    rows = []
    for weight in SWEEP_WEIGHTS:
        predicted, confidences = [], []
        for said in sources:
            if "*" in said:  # no classifier ran ("///" is an intent payload)
                predicted.append(str(said["*"]["name"]))
                confidences.append(1.0)
                continue
            diet = dict(said["diet"].get("ranking") or [])
            ngram = dict(said["char_ngram"].get("ranking") or [])
            scores = {
                name: weight * diet.get(name, 0.0) + (1 - weight) * ngram.get(name, 0.0)
                for name in set(diet) | set(ngram)
            }
            best = max(scores, key=scores.__getitem__) if scores else "None"
            predicted.append(best)
            confidences.append(scores.get(best, 0.0))
        scored = macro(y_true, predicted)
        row = {
            "diet_weight": weight,
            "accuracy": scored["accuracy"],
            "macro_f1": scored["macro_f1"],
        }
        if fallback_threshold is not None:
            row.update(_fallback(y_true, predicted, confidences, fallback_threshold))
        rows.append(row)
    return rows


def _fallback(
    y_true: list[str], predicted: list[str], confidences: list[float], threshold: float
) -> dict[str, float]:
    """Fallback rate and the share of errors it catches at ``threshold``."""
    rows = list(zip(y_true, predicted, confidences, strict=True))
    wrong = sum(t != p for t, p, _ in rows)
    return {
        "fallback_rate": round(sum(c < threshold for *_, c in rows) / len(rows), 4),
        "errors_caught": round(
            sum(t != p and c < threshold for t, p, c in rows) / max(1, wrong), 4
        ),
    }


def sweep_lines(sweep: list[dict[str, float]]) -> list[str]:
    """The blend-weight sweep as a markdown table (empty without a sweep)."""
    if not sweep:
        return []
    return [
        "The blend for other DIET weights (same parses, each classifier's top 5; "
        "0 is the n-gram model alone, 1 DIET alone):",
        "",
        "| DIET weight | " + " | ".join(str(r["diet_weight"]) for r in sweep) + " |",
        "|---" * (len(sweep) + 1) + "|",
        "| accuracy | " + " | ".join(pct(r["accuracy"]) for r in sweep) + " |",
        "| macro-F1 | " + " | ".join(pct(r.get("macro_f1")) for r in sweep) + " |",
        *(
            [
                "| fallback rate at the config's threshold | "
                + " | ".join(pct(r["fallback_rate"]) for r in sweep)
                + " |",
                "| errors it catches | "
                + " | ".join(pct(r["errors_caught"]) for r in sweep)
                + " |",
            ]
            if "fallback_rate" in sweep[0]
            else []
        ),
        "",
    ]
