# ruff: noqa: UP006, UP035  (Rasa compares typing.List/Dict hints between components)
"""Custom Rasa 3.6 graph components of the Chinese pipeline (named in config.yml).

- :class:`ChineseTextNormalizer` runs first: it rewrites each message's text with
  :func:`nlu.normalize.normalize` (繁→简, full-width → half-width, Latin lower-case,
  Chinese digit strings → digits). Every step keeps the length, so entity offsets from
  any later extractor point at the same characters of the customer's original text.
  Training examples are normalised the same way (annotated entity values that were a
  literal substring follow the text).
- :class:`OriginalTextRestorer` runs last: it puts the customer's own text back into
  the message (the normalised one stays in the output as ``text_normalized``), so
  ``tracker.latest_message["text"]`` is what the customer typed while entity offsets
  and values come from the normalised text (same length, same positions).
- :class:`EntityRuleArbiter` runs after the extractors: where an entity of the spaCy
  entity rules (``SpacyEntityExtractor``) overlaps one learnt by DIET, only the rule's
  entity is kept, so each identifier is reported once (and e2e story tests, which
  compare the entity list, see no duplicates); a learnt identifier (phone, policy
  number…) whose value does not have that identifier's shape is dropped too.
- :class:`PersonNameRule` adds the names customers introduce with a cue (我叫…,
  投保人是…; :mod:`nlu.person_name`); the arbiter treats them as rule entities.
- :class:`SentimentAnnotator` adds ``sentiment`` (score in [-1, 1]) and
  ``sentiment_label`` to the parse output, so actions read
  ``tracker.latest_message["sentiment"]``.

Importing this module also registers the spaCy tokenizer of ``nlu.spacy_zh`` that the
pipeline folder loaded by SpacyNLP needs.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import nlu.spacy_zh  # noqa: F401  (registers the tokenizer SpacyNLP's model needs)
from nlu.normalize import normalize
from nlu.person_name import EXTRACTOR as PERSON_NAME_RULE
from nlu.person_name import find_names

SENTIMENT = "sentiment"
ORIGINAL_TEXT = "text_original"
NORMALIZED_TEXT = "text_normalized"
SENTIMENT_LABEL = "sentiment_label"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class ChineseTextNormalizer(GraphComponent):
    """Normalises message text in place before tokenisation (see module doc)."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChineseTextNormalizer:
        return cls()

    @staticmethod
    def normalize_message(message: Message, keep_original: bool = False) -> None:
        """Normalise the text of one message (and its annotated entity values)."""
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        normalised = normalize(text)
        if keep_original:
            message.set(ORIGINAL_TEXT, text)
            message.set(NORMALIZED_TEXT, normalised, add_to_output=True)
        if normalised == text:
            return
        message.set(TEXT, normalised)
        for entity in message.get(ENTITIES) or []:
            start, end = entity.get("start"), entity.get("end")
            if start is None or end is None:
                continue
            if entity.get("value") == text[start:end]:
                entity["value"] = normalised[start:end]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self.normalize_message(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self.normalize_message(message, keep_original=True)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class SentimentAnnotator(GraphComponent):
    """Scores each incoming message with the project's sentiment model."""

    def __init__(self, scorer: Any | None = None) -> None:
        import sentiment

        self._sentiment = scorer or sentiment

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentAnnotator:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry no sentiment; nothing downstream learns from it.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            result = self._sentiment.analyse(text)
            message.set(SENTIMENT, result.score, add_to_output=True)
            message.set(SENTIMENT_LABEL, result.label, add_to_output=True)
        return messages


RULE_EXTRACTORS = ("SpacyEntityExtractor", PERSON_NAME_RULE)
# Identifiers have one shape (data/nlu/lookups.yml); a learnt guess of another shape
# (DIET tagging a 16-digit bank card number as a phone) is no identifier.
IDENTIFIER_SHAPES = {
    "phone": re.compile(r"(?:\+?86)?1[3-9]\d{9}"),
    "policy_number": re.compile(r"[Pp]\d{13}"),
    "claim_number": re.compile(r"(?:CL|cl)\d{12,16}"),
    "ticket_number": re.compile(r"(?:TS?|ts?)\d{12,14}"),
    "id_number": re.compile(r"\d{17}[\dXx]"),
    "id_last4": re.compile(r"\d{3}[\dXx]"),
}
SEPARATORS = re.compile(r"[\s\-－—_·.]")
# a date says a day: a relative word, or a number with a date marker (not "163")
RELATIVE_DATE = re.compile(
    r"今天|今日|昨天|昨日|前天|明天|后天|上周|本周|这周|下周|上个?月|这个?月|下个?月"
    r"|去年|今年|明年|星期|礼拜|周[一二三四五六日天]|月初|月底|月中"
)
NUMERIC_DATE = re.compile(
    r"[\d零〇一二两三四五六七八九十]+\s*[年月日号]|\d{1,4}\s*[-/.]\s*\d{1,2}"
)


def has_identifier_shape(entity: Dict[str, Any]) -> bool:
    """False for an identifier (or date) whose value cannot be one."""
    value = entity.get("value")
    if not isinstance(value, str):
        return True
    if entity.get("entity") == "date":
        return bool(RELATIVE_DATE.search(value) or NUMERIC_DATE.search(value))
    shape = IDENTIFIER_SHAPES.get(entity.get("entity", ""))
    if shape is None:
        return True
    return shape.fullmatch(SEPARATORS.sub("", value)) is not None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class PersonNameRule(GraphComponent):
    """Adds ``person_name`` for a name the customer introduces ("我叫王建国")."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PersonNameRule:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            names = find_names(message.get(TEXT) or "")
            if names:
                entities = list(message.get(ENTITIES) or []) + names
                message.set(ENTITIES, entities, add_to_output=True)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class EntityRuleArbiter(GraphComponent):
    """Drops learnt entities that overlap a rule entity (the rule is exact) and
    learnt identifiers of the wrong shape."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityRuleArbiter:
        return cls()

    @staticmethod
    def arbitrate(entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The rule entities, and the learnt ones that overlap none and fit."""
        rules = [e for e in entities if e.get("extractor") in RULE_EXTRACTORS]

        def overlaps(entity: Dict[str, Any]) -> bool:
            return "start" in entity and any(
                entity["start"] < rule["end"] and rule["start"] < entity["end"]
                for rule in rules
            )

        return [
            entity
            for entity in entities
            if entity.get("extractor") in RULE_EXTRACTORS
            or (not overlaps(entity) and has_identifier_shape(entity))
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if entities:
                message.set(ENTITIES, self.arbitrate(entities), add_to_output=True)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class OriginalTextRestorer(GraphComponent):
    """Last in the pipeline: the parse result carries the customer's own text."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OriginalTextRestorer:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            original = message.get(ORIGINAL_TEXT)
            if isinstance(original, str) and original != message.get(TEXT):
                message.set(TEXT, original)
        return messages
