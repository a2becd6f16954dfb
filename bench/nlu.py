"""NLU benchmark: ``make bench-nlu`` or ``.venv-rasa/bin/python -m bench.nlu``.

Writes reports/nlu.md and reports/nlu.json with
  cv         5-fold cross-validation of the whole pipeline on the project's data
             (bench/nlu_cv.py: intent accuracy / macro-F1 / per intent / confusion
             pairs, precision / recall / F1 per entity type of the FINAL entity list
             the pipeline outputs, FAQ response-selection accuracy, fallback
             threshold sweep);
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
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402  (the path above makes bench importable)
    ROOT,
    folder_size,
    load_config,
    macro,
    mb,
    parse_all,
    pct,
    train_nlu,
    without,
    write_yaml,
)

REPORTS = ROOT / "reports"
PARTS = ("sentiment", "smp", "cv", "train")
log = logging.getLogger("bench.nlu")


# ---------------------------------------------------------------- helpers


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
    """Cross-validation of the whole pipeline (bench/nlu_cv.py)."""
    from bench.nlu_cv import bench_cv as run_cv

    # Fallback is simulated from the confidences, so the raw classifier is scored
    # and the threshold can be tuned.
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
    return run_cv(
        config_path,
        workdir,
        data,
        domain,
        folds,
        train=train_nlu,
        fallback_threshold=threshold,
    )


# ---------------------------------------------------------------- report


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
    if cv and "per_type" in cv.get("entities", {}):
        from bench.nlu_cv import render_cv

        lines += render_cv(cv)
    smp = report.get("smp")
    if smp:
        from bench.nlu_smp import render_smp

        lines += render_smp(smp)
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
                from bench.nlu_smp import bench_smp

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
