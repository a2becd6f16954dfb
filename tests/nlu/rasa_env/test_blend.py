"""The n-gram intent blender on real Rasa messages and model storage."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.blend import SOURCES, CharNgramIntentBlender, blend

EXAMPLES = {
    "ask_premium": ["保费多少钱", "这个月交多少保费", "下期保费哪天扣", "保费交了吗"],
    "complain": ["我要投诉", "你们服务太差了我要投诉", "投诉理赔员", "太过分了投诉"],
    "greet": ["你好", "在吗", "您好", "哈喽"],
}


def test_blend_weighs_both_rankings() -> None:
    ranking = blend({"a": 0.6, "b": 0.4}, {"a": 0.1, "b": 0.7, "c": 0.2}, 0.5)
    assert [r["name"] for r in ranking] == ["b", "a", "c"]
    assert ranking[0]["confidence"] == pytest.approx(0.55)
    only_diet = blend({"a": 0.6, "b": 0.4}, {"b": 1.0}, 1.0)
    assert only_diet[0] == {"name": "a", "confidence": 0.6}


def _diet_said(text: str, ranking: list[tuple[str, float]]) -> Message:
    return Message(
        {
            TEXT: text,
            INTENT: {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }
    )


def test_trained_blender_survives_a_save_and_load(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("blender")
    context = ExecutionContext(graph_schema=None, model_id="1")  # type: ignore[arg-type]
    examples = [
        Message({TEXT: text, INTENT: intent})
        for intent, texts in EXAMPLES.items()
        for text in texts
    ]
    blender = CharNgramIntentBlender.create({}, storage, resource, context)
    blender.train(TrainingData(training_examples=examples))
    loaded = CharNgramIntentBlender.load({}, storage, resource, context)
    # DIET unsure and wrong; the n-grams of 投诉 carry it to complain
    unsure = [("ask_premium", 0.4), ("greet", 0.35), ("complain", 0.25)]
    message = _diet_said("我要投诉你们服务", unsure)
    loaded.process([message])
    assert message.get(INTENT)["name"] == "complain"
    sources = message.get(SOURCES)
    assert sources["diet"]["name"] == "ask_premium"
    assert sources["char_ngram"]["name"] == "complain"
    ranking = message.get("intent_ranking")
    assert ranking[0]["confidence"] == message.get(INTENT)["confidence"]
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=0.01)


def test_untrained_blender_keeps_diets_answer(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None, model_id="1")  # type: ignore[arg-type]
    blender = CharNgramIntentBlender.load({}, storage, Resource("missing"), context)
    message = _diet_said("你好", [("greet", 0.9), ("complain", 0.1)])
    blender.process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.9}
    assert message.get(SOURCES) is None
