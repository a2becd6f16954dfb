"""NLU benchmark: ``make bench-nlu`` or ``.venv-rasa/bin/python -m bench.nlu``.

Writes reports/nlu.md and reports/nlu.json with
  cv         5-fold cross-validation of the pipeline on the project's data (intent
             accuracy / macro-F1 / per intent / confusion pairs, entity F1 per
             extractor and entity, FAQ response-selection accuracy, fallback threshold
             sweep) via ``rasa test nlu --cross-validation``;
  smp        SMP2017-ECDT domain classification: the same pipeline (intent part)
             trained on train.tsv and scored on develop.tsv, beside a TF-IDF (char
             1-3 grams) + linear SVM baseline trained and scored in the same run;
  sentiment  accuracy, per-class scores and confusion of the sentiment model on the
             held-out split of data/sentiment/labelled.tsv, and its speed;
  train      training time, model size and parse latency of the NLU model on the
             project's data.
Options: ``--parts cv,smp,sentiment,train`` (default all; results of parts not run are
kept from the previous reports/nlu.json), ``--config`` (default config.yml, epochs as
they are there), ``--epochs N`` (quick runs only: the report says so), ``--data`` /
``--domain`` (default data/ and domain/), ``--folds`` (default 5).
Runs in .venv-rasa from the repository root; takes 15+ minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPORTS = ROOT / "reports"
SMP = Path(os.environ.get("SMP2017_DIR", ROOT.parent / "shared" / "data" / "smp2017"))
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
PARTS = ("sentiment", "smp", "cv", "train")
THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.6, 0.7)
SMP_REFERENCE = {
    "tfidf_svm_train_only_accuracy": 0.89,
    "tfidf_svm_train_dev_accuracy": 0.91,
    "best_published_f1": 0.945,
    "source": "../shared/data/smp2017/README.md (ST-UIC, CCF 2018 for the best F1)",
}

log = logging.getLogger("bench.nlu")


# ---------------------------------------------------------------- helpers


def rasa_env() -> dict[str, str]:
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
    """A copy of the config without the named pipeline components."""
    copy = dict(config)
    copy["pipeline"] = [c for c in config["pipeline"] if c["name"] not in names]
    return copy


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def macro(y_true: list[str], y_pred: list[str]) -> dict[str, float]:
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


# ---------------------------------------------------------------- sentiment


def bench_sentiment() -> dict[str, Any]:
    from sklearn.metrics import classification_report, confusion_matrix

    import sentiment
    from sentiment.model import LABELS, _weights
    from sentiment.train import read_labelled, split

    train, test = split(read_labelled())
    y_true = [label for _, label in test]
    y_pred = [sentiment.label(text) for text, _ in test]
    scores = {name: [] for name in LABELS}
    for text, label in test:
        scores[label].append(sentiment.score(text))
    texts = [text for text, _ in test] * 20
    started = time.perf_counter()
    for text in texts:
        sentiment.score(text)
    per_message_ms = (time.perf_counter() - started) * 1000 / len(texts)
    report = classification_report(
        y_true, y_pred, labels=list(LABELS), output_dict=True, zero_division=0
    )
    return {
        "train_size": len(train),
        "test_size": len(test),
        **macro(y_true, y_pred),
        "per_class": {
            name: {k: round(v, 4) for k, v in report[name].items()} for name in LABELS
        },
        "confusion": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
        },
        "mean_score_by_label": {
            name: round(statistics.mean(values), 3) for name, values in scores.items()
        },
        "ms_per_message": round(per_message_ms, 4),
        "model": {
            "features": len(_weights()["features"]),
            "weights_bytes": (ROOT / "sentiment" / "weights.json").stat().st_size,
            "alpha": _weights().get("meta", {}).get("alpha"),
        },
    }


# ---------------------------------------------------------------- SMP2017


def read_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if number == 0 or not line.strip():
            continue
        text, label = line.rsplit("\t", 1)
        rows.append((text.strip(), label.strip()))
    return rows


def nlu_yaml(rows: list[tuple[str, str]]) -> dict[str, Any]:
    by_label: dict[str, list[str]] = {}
    for text, label in rows:
        by_label.setdefault(label, []).append(text)
    return {
        "version": "3.1",
        "nlu": [
            {
                "intent": label,
                "examples": "".join(
                    f"- {json.dumps(t, ensure_ascii=False)[1:-1]}\n"
                    for t in sorted(set(texts))
                ),
            }
            for label, texts in sorted(by_label.items())
        ],
    }


def bench_smp(config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    train = read_tsv(SMP / "train.tsv")
    develop = read_tsv(SMP / "develop.tsv")
    y_true = [label for _, label in develop]

    # baseline: TF-IDF over character 1-3 grams + linear SVM
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    features = vectorizer.fit_transform([t for t, _ in train])
    svm = LinearSVC(C=1.0).fit(features, [label for _, label in train])
    baseline_seconds = time.perf_counter() - started
    baseline_pred = list(svm.predict(vectorizer.transform([t for t, _ in develop])))

    # the project's pipeline, intent part: no FAQ selector, no fallback (every message
    # gets a domain), no entity learning (SMP has no entity annotations)
    smp_config = without(config, "ResponseSelector", "FallbackClassifier")
    for component in smp_config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["entity_recognition"] = False
    config_path = write_yaml(workdir / "smp_config.yml", smp_config)
    data_path = write_yaml(workdir / "smp_train.yml", nlu_yaml(train))
    model, seconds = train_nlu(config_path, data_path, workdir / "smp_models", "smp")
    results, parse_ms = parse_all(model, [t for t, _ in develop])
    pipeline_pred = [r["intent"]["name"] for r in results]
    errors = Counter(
        (truth, pred)
        for truth, pred in zip(y_true, pipeline_pred, strict=True)
        if truth != pred
    )
    return {
        "train_size": len(train),
        "develop_size": len(develop),
        "labels": len({label for _, label in train}),
        "pipeline": {
            **macro(y_true, pipeline_pred),
            "train_seconds": round(seconds, 1),
            "model_bytes": model.stat().st_size,
            "parse_ms_median": parse_ms,
            "top_confusions": [
                {"intent": a, "predicted": b, "count": n}
                for (a, b), n in errors.most_common(8)
            ],
        },
        "baseline_tfidf_svm": {
            **macro(y_true, baseline_pred),
            "train_seconds": round(baseline_seconds, 2),
        },
        "reference": SMP_REFERENCE,
    }


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


# ---------------------------------------------------------------- project data


def project_texts(data: Path, domain: Path) -> list[str]:
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(domain), training_data_paths=[str(data)]
    )
    nlu = importer.get_nlu_data()
    return [m.get("text") for m in nlu.intent_examples]


def bench_train(
    config: dict[str, Any], workdir: Path, data: Path, domain: Path
) -> dict[str, Any]:
    config_path = write_yaml(workdir / "config.yml", config)
    model, seconds = train_nlu(config_path, data, workdir / "models", "project", domain)
    texts = project_texts(data, domain)[:300]
    _, parse_ms = parse_all(model, texts)
    spacy_dir = next(
        Path(c["model"]) for c in config["pipeline"] if c["name"] == "SpacyNLP"
    )
    return {
        "examples": len(project_texts(data, domain)),
        "train_seconds": round(seconds, 1),
        "model_bytes": model.stat().st_size,
        "spacy_pipeline_bytes": folder_size(spacy_dir),
        "parse_ms_median": parse_ms,
    }


def bench_cv(
    config: dict[str, Any], workdir: Path, data: Path, domain: Path, folds: int
) -> dict[str, Any]:
    # Fallback is simulated from the confidences below, so the raw classifier is
    # scored and the threshold can be tuned.
    threshold = next(
        (
            c.get("threshold", 0.3)
            for c in config["pipeline"]
            if c["name"] == "FallbackClassifier"
        ),
        None,
    )
    config_path = write_yaml(
        workdir / "cv_config.yml", without(config, "FallbackClassifier")
    )
    out = workdir / "cv"
    args = [
        str(RASA),
        "test",
        "nlu",
        "--cross-validation",
        "--folds",
        str(folds),
        "--config",
        str(config_path),
        "--nlu",
        str(data),
        "--domain",
        str(domain),
        "--out",
        str(out),
        "--successes",
        "--no-plot",
    ]
    started = time.perf_counter()
    result = subprocess.run(
        args, cwd=ROOT, env=rasa_env(), capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(
            "cross-validation failed:\n" + (result.stdout + result.stderr)[-3000:]
        )

    def read(name: str) -> Any:
        path = out / name
        return json.loads(path.read_text("utf-8")) if path.exists() else None

    intent_report = read("intent_report.json") or {}
    predictions = (read("intent_successes.json") or []) + (
        read("intent_errors.json") or []
    )
    y_true = [p["intent"] for p in predictions]
    y_pred = [p["intent_prediction"]["name"] for p in predictions]
    confidences = [p["intent_prediction"]["confidence"] or 0.0 for p in predictions]
    pairs = Counter((t, p) for t, p in zip(y_true, y_pred, strict=True) if t != p)
    sweep = []
    for value in THRESHOLDS:
        kept = [
            (t, p)
            for t, p, c in zip(y_true, y_pred, confidences, strict=True)
            if c >= value
        ]
        correct_kept = sum(t == p for t, p in kept)
        wrong = sum(t != p for t, p in zip(y_true, y_pred, strict=True))
        wrong_caught = sum(
            t != p and c < value
            for t, p, c in zip(y_true, y_pred, confidences, strict=True)
        )
        fallback_pred = [
            p if c >= value else "nlu_fallback"
            for p, c in zip(y_pred, confidences, strict=True)
        ]
        sweep.append(
            {
                "threshold": value,
                "fallback_rate": round(1 - len(kept) / max(1, len(y_true)), 4),
                "accuracy_with_fallback": macro(y_true, fallback_pred)["accuracy"],
                "errors_caught": round(wrong_caught / max(1, wrong), 4),
                "precision_of_answered": round(correct_kept / max(1, len(kept)), 4),
            }
        )
    per_intent = {
        name: {
            k: round(v, 4) if isinstance(v, float) else v
            for k, v in values.items()
            if k != "confused_with"
        }
        | {"confused_with": values.get("confused_with", {})}
        for name, values in intent_report.items()
        if isinstance(values, dict)
        and "support" in values
        and name not in ("micro avg", "macro avg", "weighted avg")
    }
    entities: dict[str, Any] = {}
    for path in sorted(out.glob("*_report.json")):
        if path.name in ("intent_report.json", "response_selection_report.json"):
            continue
        report = json.loads(path.read_text("utf-8"))
        extractor = path.name.removesuffix("_report.json")
        entities[extractor] = {
            name: {k: round(v, 4) for k, v in values.items() if k != "confused_with"}
            for name, values in report.items()
            if isinstance(values, dict) and "f1-score" in values
        }
    faq = read("response_selection_report.json") or {}
    faq_summary = {
        "accuracy": round(faq.get("accuracy", 0.0), 4) if faq else None,
        "macro_f1": round(faq.get("macro avg", {}).get("f1-score", 0.0), 4)
        if faq
        else None,
        "responses": sum(
            1 for v in faq.values() if isinstance(v, dict) and "support" in v
        )
        - 3
        if faq
        else 0,
    }
    return {
        "folds": folds,
        "examples": len(y_true),
        "intents": len(set(y_true)),
        **(macro(y_true, y_pred) if y_true else {}),
        "fallback_threshold": threshold,
        "threshold_sweep": sweep,
        "per_intent": per_intent,
        "top_confusions": [
            {"intent": a, "predicted": b, "count": n}
            for (a, b), n in pairs.most_common(12)
        ],
        "entities": entities,
        "faq": faq_summary,
        "seconds": round(seconds, 1),
    }


# ---------------------------------------------------------------- report


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def render(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        "# NLU benchmark",
        "",
        f"Generated by `make bench-nlu` (`.venv-rasa/bin/python -m bench.nlu`); "
        f"figures in [nlu.json](nlu.json). Machine: {meta['machine']}.",
        "",
    ]
    for part, when in sorted(meta.get("parts", {}).items()):
        lines.append(
            f"- `{part}`: run {when['at']} with `{when['config']}`"
            + (
                f", **epochs capped at {when['epochs']}**"
                if when.get("epochs")
                else " (epochs as configured)"
            )
        )
    lines.append("")
    cv = report.get("cv")
    if cv:
        lines += [
            f"## Intents: {cv['folds']}-fold cross-validation on the project's data",
            "",
            f"{cv['examples']} examples, {cv['intents']} intents "
            f"({cv['seconds'] / 60:.1f} min for all folds).",
            "",
            "| metric | value |",
            "|---|---|",
            f"| intent accuracy (no fallback) | {pct(cv.get('accuracy'))} |",
            f"| intent macro-F1 | {pct(cv.get('macro_f1'))} |",
            f"| intent weighted F1 | {pct(cv.get('weighted_f1'))} |",
            f"| FAQ response selection accuracy | {pct(cv['faq']['accuracy'])} "
            f"({cv['faq']['responses']} answers) |",
            "",
            f"Fallback threshold in the config: {cv['fallback_threshold']}. Sweep "
            "(a prediction under the threshold becomes `nlu_fallback`):",
            "",
            "| threshold | fallback rate | accuracy incl. fallback | errors caught "
            "| precision of answered |",
            "|---|---|---|---|---|",
        ]
        for row in cv["threshold_sweep"]:
            lines.append(
                f"| {row['threshold']} | {pct(row['fallback_rate'])} | "
                f"{pct(row['accuracy_with_fallback'])} | {pct(row['errors_caught'])} | "
                f"{pct(row['precision_of_answered'])} |"
            )
        lines += [
            "",
            "### Per intent",
            "",
            "| intent | precision | recall | F1 | n |",
            "|---|---|---|---|---|",
        ]
        for name, values in sorted(
            cv["per_intent"].items(), key=lambda item: item[1].get("f1-score", 0)
        ):
            lines.append(
                f"| {name} | {pct(values.get('precision'))} | "
                f"{pct(values.get('recall'))}"
                f" | {pct(values.get('f1-score'))} | {values.get('support')} |"
            )
        lines += [
            "",
            "### Top confusion pairs",
            "",
            "| intent | predicted as | n |",
            "|---|---|---|",
        ]
        for row in cv["top_confusions"]:
            lines.append(f"| {row['intent']} | {row['predicted']} | {row['count']} |")
        lines += [
            "",
            "### Entities (F1 per extractor and entity)",
            "",
            "Rasa's evaluation skips pretrained extractors, so the rule extractor "
            "(`SpacyEntityExtractor`, the entity ruler) is not scored here, and "
            "`EntityRuleArbiter` removes DIET's entities wherever a rule matched: "
            "the DIET figures for phone, numbers, dates and amounts therefore "
            "understate what the pipeline extracts (TODO: score the final entity "
            "list).",
            "",
        ]
        for extractor, values in cv["entities"].items():
            lines += [
                f"**{extractor}**",
                "",
                "| entity | precision | recall | F1 | n |",
                "|---|---|---|---|---|",
            ]
            for name, row in sorted(values.items()):
                lines.append(
                    f"| {name} | {pct(row.get('precision'))} | {pct(row.get('recall'))}"
                    f" | {pct(row.get('f1-score'))} | {int(row.get('support', 0))} |"
                )
            lines.append("")
    smp = report.get("smp")
    if smp:
        ref = smp["reference"]
        lines += [
            "## SMP2017-ECDT domain classification (train → develop)",
            "",
            f"{smp['train_size']} training and {smp['develop_size']} development "
            f"messages, {smp['labels']} domains. Both systems trained and scored in "
            "the "
            "same run.",
            "",
            "| system | accuracy | macro-F1 | training time |",
            "|---|---|---|---|",
            f"| this pipeline (intent part: DIET etc., no fallback) | "
            f"{pct(smp['pipeline']['accuracy'])} | "
            f"{pct(smp['pipeline']['macro_f1'])} | "
            f"{smp['pipeline']['train_seconds']:.0f} s |",
            f"| TF-IDF char 1-3 grams + linear SVM (this run) | "
            f"{pct(smp['baseline_tfidf_svm']['accuracy'])} | "
            f"{pct(smp['baseline_tfidf_svm']['macro_f1'])} | "
            f"{smp['baseline_tfidf_svm']['train_seconds']:.1f} s |",
            f"| published: TF-IDF + SVM, train only | "
            f"{pct(ref['tfidf_svm_train_only_accuracy'])} | – | – |",
            f"| published: TF-IDF + SVM, train + develop | "
            f"{pct(ref['tfidf_svm_train_dev_accuracy'])} | – | – |",
            f"| published: best F1 (ST-UIC, CCF 2018, official test split) | – | "
            f"{pct(ref['best_published_f1'])} | – |",
            "",
            f"Pipeline model {mb(smp['pipeline']['model_bytes'])}, median parse "
            f"{smp['pipeline']['parse_ms_median']} ms. Top confusions: "
            + ", ".join(
                f"{r['intent']}→{r['predicted']} ({r['count']})"
                for r in smp["pipeline"]["top_confusions"][:6]
            )
            + ".",
            "",
        ]
    sent = report.get("sentiment")
    if sent:
        lines += [
            "## Sentiment (data/sentiment/labelled.tsv, held-out split)",
            "",
            f"Trained on {sent['train_size']}, scored on {sent['test_size']} messages: "
            f"accuracy **{pct(sent['accuracy'])}**, macro-F1 {pct(sent['macro_f1'])}; "
            f"{sent['ms_per_message']} ms per message (pure Python, "
            f"{sent['model']['features']} features, "
            f"{sent['model']['weights_bytes'] / 1000:.0f} kB of weights).",
            "",
            "| label | precision | recall | F1 | n | mean score |",
            "|---|---|---|---|---|---|",
        ]
        for name, row in sent["per_class"].items():
            lines.append(
                f"| {name} | {pct(row['precision'])} | {pct(row['recall'])} | "
                f"{pct(row['f1-score'])} | {int(row['support'])} | "
                f"{sent['mean_score_by_label'][name]:+.2f} |"
            )
        labels = sent["confusion"]["labels"]
        lines += [
            "",
            "Confusion (rows: truth, columns: predicted):",
            "",
            "| | " + " | ".join(labels) + " |",
            "|---|" + "---|" * len(labels),
        ]
        for name, row in zip(labels, sent["confusion"]["matrix"], strict=True):
            lines.append(f"| {name} | " + " | ".join(map(str, row)) + " |")
        lines.append("")
    train = report.get("train")
    if train:
        lines += [
            "## Training time and size (project data, NLU model)",
            "",
            "| | value |",
            "|---|---|",
            f"| training examples | {train['examples']} |",
            f"| NLU training time | {train['train_seconds']:.0f} s |",
            f"| NLU model (tar.gz) | {mb(train['model_bytes'])} |",
            f"| spaCy zh pipeline folder | {mb(train['spacy_pipeline_bytes'])} |",
            f"| median parse time (in process) | {train['parse_ms_median']} ms |",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--domain", type=Path, default=ROOT / "domain")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")

    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / "nlu.json"
    report: dict[str, Any] = (
        json.loads(json_path.read_text("utf-8")) if json_path.exists() else {}
    )
    report.setdefault("meta", {}).setdefault("parts", {})
    report["meta"]["machine"] = (
        f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    config = load_config(args.config, args.epochs)
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        workdir = Path(tmp)
        for part in parts:
            log.info("bench-nlu: %s …", part)
            started = time.perf_counter()
            if part == "sentiment":
                report[part] = bench_sentiment()
            elif part == "smp":
                report[part] = bench_smp(config, workdir)
            elif part == "train":
                report[part] = bench_train(config, workdir, args.data, args.domain)
            elif part == "cv":
                report[part] = bench_cv(
                    config, workdir, args.data, args.domain, args.folds
                )
            report["meta"]["parts"][part] = {
                # timezone.utc, not datetime.UTC: the benchmark runs on Python 3.10
                "at": datetime.now(timezone.utc).strftime(  # noqa: UP017
                    "%Y-%m-%d %H:%M UTC"
                ),
                "config": os.path.relpath(args.config, ROOT),
                "epochs": args.epochs,
                "seconds": round(time.perf_counter() - started, 1),
            }
            json_path.write_text(
                json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            (args.out / "nlu.md").write_text(render(report) + "\n", encoding="utf-8")
            log.info(
                "bench-nlu: %s done in %.0f s",
                part,
                report["meta"]["parts"][part]["seconds"],
            )
    print(f"wrote {args.out / 'nlu.md'}")


if __name__ == "__main__":
    main()
