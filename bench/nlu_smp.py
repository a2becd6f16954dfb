"""SMP2017-ECDT domain classification with the project's pipeline (bench.nlu's smp).

The same NLU pipeline (intent part) is trained on ``train.tsv`` and scored on
``develop.tsv``, beside a TF-IDF (character 1-3 grams) + linear SVM baseline trained
and scored in the same run, and the published figures.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    blend_sweep,
    macro,
    mb,
    parse_all,
    pct,
    sweep_lines,
    train_nlu,
    without,
    write_yaml,
)

SMP = Path(os.environ.get("SMP2017_DIR", ROOT.parent / "shared" / "data" / "smp2017"))
SMP_REFERENCE = {
    "tfidf_svm_train_only_accuracy": 0.89,
    "tfidf_svm_train_dev_accuracy": 0.91,
    "best_published_f1": 0.945,
    "source": "../shared/data/smp2017/README.md (ST-UIC, CCF 2018 for the best F1)",
}


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """(text, label) rows of an SMP2017 TSV file (header skipped)."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if number == 0 or not line.strip():
            continue
        text, label = line.rsplit("\t", 1)
        rows.append((text.strip(), label.strip()))
    return rows


def nlu_yaml(rows: list[tuple[str, str]]) -> dict[str, Any]:
    """Rasa NLU training data with one intent per SMP domain."""
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
    """Train and score the pipeline and the baseline on SMP2017."""
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
    sources: dict[str, list[str]] = {}
    for r in results:
        for source, said in (r.get("intent_sources") or {}).items():
            sources.setdefault(source, []).append(said.get("name") or "None")
    rankings = [
        r.get("intent_sources") or {"*": {"name": r["intent"]["name"]}} for r in results
    ]
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
            "sources": {
                source: macro(y_true, said)
                for source, said in sources.items()
                if len(said) == len(y_true)
            },
            "blend_sweep": blend_sweep(y_true, rankings),
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


SOURCE_NAMES = {"diet": "DIET", "char_ngram": "char n-gram LR"}


def render_smp(smp: dict[str, Any]) -> list[str]:
    """The report's SMP2017 section (markdown lines)."""
    ref = smp["reference"]
    return [
        "## SMP2017-ECDT domain classification (train → develop)",
        "",
        f"{smp['train_size']} training and {smp['develop_size']} development "
        f"messages, {smp['labels']} domains. Both systems trained and scored in "
        "the "
        "same run.",
        "",
        "| system | accuracy | macro-F1 | training time |",
        "|---|---|---|---|",
        f"| this pipeline (intent part: DIET + n-gram blend, no fallback) | "
        f"{pct(smp['pipeline']['accuracy'])} | "
        f"{pct(smp['pipeline']['macro_f1'])} | "
        f"{smp['pipeline']['train_seconds']:.0f} s |",
        *[
            f"| … its {SOURCE_NAMES.get(source, source)} alone (same training) | "
            f"{pct(scores['accuracy'])} | {pct(scores['macro_f1'])} | – |"
            for source, scores in (smp["pipeline"].get("sources") or {}).items()
        ],
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
        *sweep_lines(smp["pipeline"].get("blend_sweep") or []),
    ]
