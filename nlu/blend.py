# ruff: noqa: UP006, UP035  (Rasa compares typing.List/Dict hints between components)
"""Blend DIET's intent ranking with a character n-gram logistic regression.

On short Chinese messages a TF-IDF character 1–3-gram linear model is a strong
classifier on its own (it beats DIET on SMP2017 and on the project's data in
``make bench-nlu``), and the two make different mistakes: DIET uses the word tokens,
the lookup tables and the context of the whole sentence, the n-gram model weighs
every distinctive character sequence. The blended confidence is
``diet_weight · DIET + (1 − diet_weight) · n-gram`` per intent, so the
FallbackClassifier after it sees one calibrated ranking. What each classifier said on
its own stays in the output as ``intent_sources`` (the benchmark scores all three
from one training).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

INTENT_RANKING = "intent_ranking"
SOURCES = "intent_sources"
MODEL_FILE = "char_ngram_intents.joblib"
RANKING_LENGTH = 10
SOURCE_TOP = 5


def blend(
    diet: Dict[str, float], ngram: Dict[str, float], diet_weight: float
) -> List[Dict[str, Any]]:
    """The blended ranking, best first (intents either side knows)."""
    names = set(diet) | set(ngram)
    scores = {
        name: diet_weight * diet.get(name, 0.0)
        + (1.0 - diet_weight) * ngram.get(name, 0.0)
        for name in names
    }
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [{"name": name, "confidence": score} for name, score in ranked]


def _top(scores: Dict[str, float]) -> Dict[str, Any]:
    """One classifier's answer and its first few alternatives (for the benchmark)."""
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:SOURCE_TOP]
    return {
        "name": ranked[0][0] if ranked else None,
        "confidence": ranked[0][1] if ranked else 0.0,
        "ranking": [[name, round(score, 4)] for name, score in ranked],
    }


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class CharNgramIntentBlender(GraphComponent):
    """A TF-IDF character n-gram logistic regression blended into DIET's ranking."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"diet_weight": 0.5, "C": 30.0, "min_ngram": 1, "max_ngram": 3}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        pipeline: Any | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._pipeline = pipeline

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CharNgramIntentBlender:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CharNgramIntentBlender:
        try:
            with model_storage.read_from(resource) as folder:
                pipeline = joblib.load(folder / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            log.warning("No trained n-gram intent model: DIET's ranking is kept.")
            pipeline = None
        return cls(config, model_storage, resource, pipeline)

    def _new_pipeline(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        ngrams = (int(self._config["min_ngram"]), int(self._config["max_ngram"]))
        return make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True),
            LogisticRegression(C=float(self._config["C"]), max_iter=3000),
        )

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the n-gram model on the (normalised) intent examples."""
        examples = [
            e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)
        ]
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            log.warning("Fewer than two intents: no n-gram intent model trained.")
            return self._resource
        pipeline = self._new_pipeline().fit([e.get(TEXT) for e in examples], labels)
        with self._storage.write_to(self._resource) as folder:
            joblib.dump(pipeline, folder / MODEL_FILE)
        self._pipeline = pipeline
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace the intent and its ranking by the blend of both classifiers."""
        if self._pipeline is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        probabilities = self._pipeline.predict_proba(texts)
        classes = [str(c) for c in self._pipeline.classes_]
        weight = float(self._config["diet_weight"])
        for message, text, row in zip(messages, texts, probabilities, strict=True):
            diet_intent = message.get(INTENT) or {}
            if not diet_intent.get(INTENT_NAME_KEY) or not text:
                continue
            diet = {
                r[INTENT_NAME_KEY]: float(r["confidence"])
                for r in message.get(INTENT_RANKING) or []
            }
            ngram = dict(zip(classes, (float(p) for p in row), strict=True))
            ranking = blend(diet, ngram, weight)[:RANKING_LENGTH]
            message.set(
                SOURCES,
                {"diet": _top(diet), "char_ngram": _top(ngram)},
                add_to_output=True,
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING, ranking, add_to_output=True)
        return messages
