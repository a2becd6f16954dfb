"""Cross-validation of the whole NLU pipeline on the project's data (bench.nlu's cv).

Each fold trains the configured pipeline (without the FallbackClassifier, whose
threshold is simulated afterwards from the confidences) on 4/5 of the examples and
parses the held-out fifth with the trained model, exactly as the Rasa server would.
So the entities scored are the FINAL list the pipeline outputs: the entity ruler's
identifiers and DIET's entities after EntityRuleArbiter and EntitySynonymMapper
(``rasa test nlu`` skips pretrained extractors and scores DIET before the arbiter).

A predicted entity matches an annotation of the same type when their character
spans are equal or their values are (synonyms mapped to the canonical value), one
annotation per prediction. Intents, FAQ answers (the ResponseSelector's choice on
held-out faq/* examples) and the confidences come from the same parses.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.common import blend_sweep, macro, parse_all, pct, sweep_lines

log = logging.getLogger("bench.nlu")

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
SEED = 42
# the rule extractor; every other extractor is learnt
RULE_EXTRACTORS = ("SpacyEntityExtractor", "PersonNameRule")

TrainFn = Callable[[Path, Path, Path, str, Path], tuple[Path, float]]


def load_project_data(data: Path, domain: Path) -> Any:
    """The NLU training data of data/ (examples, regexes, lookups, synonyms)."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(domain), training_data_paths=[str(data)]
    )
    return importer.get_nlu_data()


def folds_of(training_data: Any, folds: int) -> list[tuple[Any, list[Any]]]:
    """Stratified folds (by full intent, faq/* topics included), seeded."""
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    examples = training_data.intent_examples
    labels = [example.get_full_intent() for example in examples]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    result = []
    for train_index, test_index in splitter.split(examples, labels):
        train = TrainingData(
            training_examples=[examples[i] for i in train_index],
            entity_synonyms=training_data.entity_synonyms,
            regex_features=training_data.regex_features,
            lookup_tables=training_data.lookup_tables,
            responses=training_data.responses,
        )
        result.append((train, [examples[i] for i in test_index]))
    return result


def _norm(value: Any) -> str:
    return str(value).strip().lower()


def match_entities(
    gold: list[dict[str, Any]],
    predicted: list[dict[str, Any]],
    synonyms: dict[str, str],
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[Any], list[Any]]:
    """Pairs (gold, predicted) of one type with equal span or value; the rest."""

    def canonical(value: Any) -> str:
        text = str(value)
        return _norm(synonyms.get(text, text))

    unmatched = list(predicted)
    pairs = []
    missed = []
    for annotation in gold:
        found = next(
            (
                p
                for p in unmatched
                if p.get("entity") == annotation["entity"]
                and (
                    (p.get("start"), p.get("end"))
                    == (annotation.get("start"), annotation.get("end"))
                    or canonical(p.get("value")) == canonical(annotation.get("value"))
                )
            ),
            None,
        )
        if found is None:
            missed.append(annotation)
        else:
            unmatched.remove(found)
            pairs.append((annotation, found))
    return pairs, missed, unmatched


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1-score": round(f1, 4),
    }


def score_entities(
    rows: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]],
    synonyms: dict[str, str],
) -> dict[str, Any]:
    """Per entity type P/R/F1 of the final entity lists, micro and macro averages."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for gold, predicted in rows:
        pairs, missed, extra = match_entities(gold, predicted, synonyms)
        for _, found in pairs:
            by_rule = found.get("extractor") in RULE_EXTRACTORS
            counts[found["entity"]]["tp"] += 1
            counts[found["entity"]]["tp_rule" if by_rule else "tp_learnt"] += 1
        for annotation in missed:
            counts[annotation["entity"]]["fn"] += 1
        for entity in extra:
            counts[entity["entity"]]["fp"] += 1
    per_type = {}
    for name, count in sorted(counts.items()):
        per_type[name] = {
            **prf(count["tp"], count["fp"], count["fn"]),
            "support": count["tp"] + count["fn"],
            "predicted": count["tp"] + count["fp"],
            "tp_by_rules": count["tp_rule"],
            "tp_by_diet": count["tp_learnt"],
        }
    total = Counter[str]()
    for count in counts.values():
        total.update(count)
    scored = [v for v in per_type.values() if v["support"]]
    return {
        "per_type": per_type,
        "micro": {
            **prf(total["tp"], total["fp"], total["fn"]),
            "support": total["tp"] + total["fn"],
        },
        "macro": {
            key: round(sum(v[key] for v in scored) / max(1, len(scored)), 4)
            for key in ("precision", "recall", "f1-score")
        },
    }


def entity_errors(
    rows: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]],
    synonyms: dict[str, str],
    texts: list[str],
) -> list[dict[str, Any]]:
    """Annotations the pipeline missed and entities it made up (JSON only)."""
    errors = []
    for (gold, predicted), text in zip(rows, texts, strict=True):
        _, missed, extra = match_entities(gold, predicted, synonyms)
        for kind, entities in (("missed", missed), ("extra", extra)):
            errors += [
                {
                    "text": text,
                    "kind": kind,
                    "entity": e.get("entity"),
                    "value": str(e.get("value")),
                    "extractor": e.get("extractor"),
                }
                for e in entities
            ]
    return errors


def threshold_sweep(
    y_true: list[str], y_pred: list[str], confidences: list[float]
) -> list[dict[str, Any]]:
    """What each FallbackClassifier threshold would do to the held-out parses."""
    rows = list(zip(y_true, y_pred, confidences, strict=True))
    wrong = sum(t != p for t, p, _ in rows)
    sweep = []
    for value in THRESHOLDS:
        kept = [(t, p) for t, p, c in rows if c >= value]
        sweep.append(
            {
                "threshold": value,
                "fallback_rate": round(1 - len(kept) / max(1, len(rows)), 4),
                "accuracy_with_fallback": round(
                    sum(t == (p if c >= value else "nlu_fallback") for t, p, c in rows)
                    / max(1, len(rows)),
                    4,
                ),
                "errors_caught": round(
                    sum(t != p and c < value for t, p, c in rows) / max(1, wrong), 4
                ),
                "precision_of_answered": round(
                    sum(t == p for t, p in kept) / max(1, len(kept)), 4
                ),
            }
        )
    return sweep


def intent_scores(y_true: list[str], y_pred: list[str]) -> dict[str, Any]:
    """Accuracy, macro/weighted F1, per intent (with what it was taken for)."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    labels = sorted(set(y_true))
    report = classification_report(
        y_true, y_pred, labels=labels, output_dict=True, zero_division=0
    )
    confused: dict[str, Counter[str]] = defaultdict(Counter)
    for truth, pred in zip(y_true, y_pred, strict=True):
        if truth != pred:
            confused[truth][pred] += 1
    per_intent = {
        name: {
            "precision": round(report[name]["precision"], 4),
            "recall": round(report[name]["recall"], 4),
            "f1-score": round(report[name]["f1-score"], 4),
            "support": int(report[name]["support"]),
            "confused_with": dict(confused[name].most_common(3)),
        }
        for name in labels
    }
    pairs = Counter(
        (t, p) for t, p in zip(y_true, y_pred, strict=True) if t != p
    ).most_common(12)
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=labels, average="macro")), 4
        ),
        "weighted_f1": round(
            float(f1_score(y_true, y_pred, labels=labels, average="weighted")), 4
        ),
        "per_intent": per_intent,
        "top_confusions": [
            {"intent": a, "predicted": b, "count": n} for (a, b), n in pairs
        ],
    }


@lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified → traditional Chinese (OpenCC s2t), as a 繁体 user would type."""
    return str(_s2t().convert(text))


def _faq_key(parse: dict[str, Any]) -> str | None:
    selector = (parse.get("response_selector") or {}).get("faq") or {}
    return (selector.get("response") or {}).get("intent_response_key")


def bench_cv(
    config_path: Path,
    workdir: Path,
    data: Path,
    domain: Path,
    folds: int,
    *,
    train: TrainFn,
    fallback_threshold: float | None,
) -> dict[str, Any]:
    """Train and parse every fold; score intents, FAQ answers and final entities."""
    training_data = load_project_data(data, domain)
    started = time.perf_counter()
    y_true: list[str] = []
    y_pred: list[str] = []
    # what DIET and the n-gram model said on their own (nlu/blend.py), if blended
    source_rankings: list[dict[str, Any]] = []
    confidences: list[float] = []
    entity_rows = []
    faq_gold: list[str] = []
    faq_pred: list[str | None] = []
    faq_end_to_end: list[bool] = []
    train_seconds = []
    # every misclassified held-out message, for reviewing the data (JSON only)
    intent_errors: list[dict[str, Any]] = []
    texts: list[str] = []
    y_traditional: list[str | None] = []
    for number, (train_data, test) in enumerate(folds_of(training_data, folds), 1):
        fold_file = workdir / f"cv_fold{number}.yml"
        fold_file.write_text(train_data.nlu_as_yaml(), encoding="utf-8")
        model, seconds = train(
            config_path, fold_file, workdir / "cv_models", f"fold{number}", domain
        )
        train_seconds.append(seconds)
        parses, _ = parse_all(model, [example.get("text") for example in test])
        # the same held-out messages as a customer in Hong Kong or Taiwan types them
        traditional, _ = parse_all(
            model, [to_traditional(example.get("text")) for example in test]
        )
        y_traditional += [(p.get("intent") or {}).get("name") for p in traditional]
        gc.collect()
        model.unlink(missing_ok=True)
        for example, parse in zip(test, parses, strict=True):
            predicted = parse.get("intent") or {}
            intent = predicted.get("name") or "None"
            y_true.append(example.get("intent"))
            y_pred.append(intent)
            # a message starting with "/" ("///") is an intent payload to Rasa: no
            # classifier ran, every source "said" the pipeline's answer
            source_rankings.append(
                parse.get("intent_sources") or {"*": {"name": intent}}
            )
            confidences.append(float(predicted.get("confidence") or 0))
            entity_rows.append(
                (list(example.get("entities") or []), list(parse.get("entities") or []))
            )
            texts.append(example.get("text"))
            if intent != example.get("intent"):
                intent_errors.append(
                    {
                        "text": example.get("text"),
                        "intent": example.get_full_intent(),
                        "predicted": intent,
                        "confidence": round(confidences[-1], 3),
                    }
                )
            if example.get("intent") == "faq":
                key = _faq_key(parse)
                faq_gold.append(example.get_full_intent())
                faq_pred.append(key)
                faq_end_to_end.append(intent == "faq" and key == faq_gold[-1])
        log.info("cv fold %d/%d done (%.0f s training)", number, folds, seconds)
    intents = intent_scores(y_true, y_pred)
    traditional = macro(y_true, [str(p) for p in y_traditional])
    return {
        "folds": folds,
        "examples": len(y_true),
        "intents": len(set(y_true)),
        "accuracy": intents["accuracy"],
        "macro_f1": intents["macro_f1"],
        "weighted_f1": intents["weighted_f1"],
        "traditional": {
            "accuracy": traditional["accuracy"],
            "macro_f1": traditional["macro_f1"],
            "changed_messages": sum(to_traditional(t) != t for t in texts),
        },
        "sources": source_scores(y_true, source_rankings),
        "blend_sweep": blend_sweep(
            y_true, source_rankings, fallback_threshold=fallback_threshold
        ),
        "fallback_threshold": fallback_threshold,
        "threshold_sweep": threshold_sweep(y_true, y_pred, confidences),
        "per_intent": intents["per_intent"],
        "top_confusions": intents["top_confusions"],
        "entities": score_entities(entity_rows, training_data.entity_synonyms),
        "faq": {
            "examples": len(faq_gold),
            "responses": len(set(faq_gold)),
            # the ResponseSelector's answer on held-out faq/* questions
            "accuracy": round(
                sum(g == p for g, p in zip(faq_gold, faq_pred, strict=True))
                / max(1, len(faq_gold)),
                4,
            ),
            # and with the intent right as well (what the customer gets)
            "end_to_end_accuracy": round(
                sum(faq_end_to_end) / max(1, len(faq_end_to_end)), 4
            ),
        },
        "intent_errors": intent_errors,
        "entity_errors": entity_errors(
            entity_rows, training_data.entity_synonyms, texts
        ),
        "train_seconds_per_fold": round(sum(train_seconds) / max(1, folds), 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def source_scores(
    y_true: list[str], sources: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Accuracy and macro-F1 of each classifier of the blend on its own."""
    names = sorted({name for said in sources for name in said if name != "*"})
    scores = {}
    for name in names:
        predicted = [
            str((said.get(name) or said.get("*") or {}).get("name") or "None")
            for said in sources
        ]
        scores[name] = macro(y_true, predicted)
    return scores


def source_lines(sources: dict[str, Any], blended: dict[str, Any]) -> list[str]:
    """The intent classifiers of the blend side by side (same training, same run)."""
    if not sources:
        return []
    names = {"diet": "DIET alone", "char_ngram": "char n-gram LR alone"}
    lines = [
        "Intent classifiers of the blend (`nlu/blend.py`), scored on the same "
        "held-out messages:",
        "",
        "| classifier | accuracy | macro-F1 |",
        "|---|---|---|",
    ]
    for source, scores in sources.items():
        lines.append(
            f"| {names.get(source, source)} | {pct(scores['accuracy'])} | "
            f"{pct(scores['macro_f1'])} |"
        )
    lines += [
        f"| **blend (the pipeline's answer)** | {pct(blended.get('accuracy'))} | "
        f"{pct(blended.get('macro_f1'))} |",
        "",
    ]
    sweep = blended.get("blend_sweep") or []
    if sweep:
        lines += [
            *sweep_lines(sweep),
        ]
    return lines


def render_cv(cv: dict[str, Any]) -> list[str]:
    """The report's cross-validation section (markdown lines)."""
    lines = [
        f"## Intents: {cv['folds']}-fold cross-validation on the project's data",
        "",
        f"{cv['examples']} examples, {cv['intents']} intents "
        f"({cv['seconds'] / 60:.1f} min for all folds, "
        f"{cv.get('train_seconds_per_fold', 0):.0f} s training per fold). Each fold "
        "trains the pipeline of the config (without FallbackClassifier) and parses "
        "the held-out examples with the trained model.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| intent accuracy (no fallback) | {pct(cv.get('accuracy'))} |",
        f"| intent macro-F1 | {pct(cv.get('macro_f1'))} |",
        f"| intent weighted F1 | {pct(cv.get('weighted_f1'))} |",
        *(
            [
                f"| intent accuracy / macro-F1, the same held-out messages in 繁体 "
                f"(OpenCC s2t; {trad['changed_messages']} of them change) | "
                f"{pct(trad['accuracy'])} / {pct(trad['macro_f1'])} |"
            ]
            if (trad := cv.get("traditional"))
            else []
        ),
        f"| FAQ response selection accuracy (held-out faq/* questions) | "
        f"{pct(cv['faq']['accuracy'])} ({cv['faq']['responses']} answers, "
        f"{cv['faq'].get('examples', '–')} questions) |",
        f"| FAQ end to end (intent faq and the right answer) | "
        f"{pct(cv['faq'].get('end_to_end_accuracy'))} |",
        f"| entity micro-F1 (final entity list) | "
        f"{pct(cv['entities']['micro']['f1-score'])} |",
        f"| entity macro-F1 (final entity list) | "
        f"{pct(cv['entities']['macro']['f1-score'])} |",
        "",
    ]
    lines += source_lines(cv.get("sources") or {}, cv)
    lines += [
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
        "| intent | precision | recall | F1 | n | most often taken for |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in sorted(
        cv["per_intent"].items(), key=lambda item: item[1].get("f1-score", 0)
    ):
        confused = ", ".join(
            f"{k} ({v})" for k, v in (values.get("confused_with") or {}).items()
        )
        lines.append(
            f"| {name} | {pct(values.get('precision'))} | "
            f"{pct(values.get('recall'))} | {pct(values.get('f1-score'))} | "
            f"{values.get('support')} | {confused or '–'} |"
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
    entities = cv["entities"]
    lines += [
        "",
        "### Entities: the final entity list of the pipeline, per type",
        "",
        "What the whole pipeline outputs on the held-out messages (the entity "
        "ruler's identifiers and DIET's entities, after `EntityRuleArbiter` and "
        "the synonym mapper), compared with the annotations: a prediction counts "
        "when its type matches and its character span or its (canonical) value "
        "equals the annotation's. The last two columns say which extractor found "
        "the correct ones.",
        "",
        "| entity | precision | recall | F1 | n | predicted | found by rules "
        "| found by DIET |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in entities["per_type"].items():
        lines.append(
            f"| {name} | {pct(row['precision'])} | {pct(row['recall'])} | "
            f"{pct(row['f1-score'])} | {row['support']} | {row['predicted']} | "
            f"{row['tp_by_rules']} | {row['tp_by_diet']} |"
        )
    micro, macro_avg = entities["micro"], entities["macro"]
    lines += [
        f"| **micro avg** | {pct(micro['precision'])} | {pct(micro['recall'])} | "
        f"{pct(micro['f1-score'])} | {micro['support']} | | | |",
        f"| **macro avg** | {pct(macro_avg['precision'])} | "
        f"{pct(macro_avg['recall'])} | {pct(macro_avg['f1-score'])} | | | | |",
        "",
    ]
    return lines
