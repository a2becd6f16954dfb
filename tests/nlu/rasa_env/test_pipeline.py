"""The Chinese pipeline pieces as Rasa uses them (run in .venv-rasa).

Normalisation, the spaCy zh pipeline loaded through Rasa's SpacyNLP + SpacyTokenizer
(the jieba user dictionary must survive a save/load), the entity ruler, and the two
custom graph components on real Rasa messages.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import (
    ChineseTextNormalizer,
    EntityRuleArbiter,
    OriginalTextRestorer,
    PersonNameRule,
    SentimentAnnotator,
)
from nlu.normalize import normalize
from nlu.spacy_zh import build

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def spacy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly built pipeline folder (the same code as scripts/build_spacy_zh.py)."""
    folder = tmp_path_factory.mktemp("spacy") / "spacy_zh"
    build(folder)
    return folder


@pytest.fixture(scope="module")
def spacy_nlp(spacy_dir: Path) -> SpacyNLP:
    # config.yml sets case_sensitive: the normaliser already lower-cases Latin words
    # but keeps identifiers (P3100000000001, …X) as typed.
    config = {"model": str(spacy_dir), "case_sensitive": True}
    return SpacyNLP.create(config, None, None, None)  # type: ignore[arg-type]


def tokens_and_entities(spacy_nlp: SpacyNLP, text: str) -> tuple[list[str], list]:
    """Rasa's own path: normaliser → SpacyNLP → SpacyTokenizer."""
    message = Message({TEXT: text})
    ChineseTextNormalizer().process([message])
    spacy_nlp.process([message], spacy_nlp.provide())
    tokenizer = SpacyTokenizer(SpacyTokenizer.get_default_config())
    tokenizer.process([message])
    doc = message.get("text_spacy_doc")
    tokens = [token.text for token in message.get("text_tokens")]
    return tokens, [(ent.label_, ent.text) for ent in doc.ents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("您好，請問有人嗎", "您好,请问有人吗"),
        ("我的保單什麼時候到期", "我的保单什么时候到期"),
        ("查下我的Policy", "查下我的policy"),
        ("保單號Ｐ３１００００００００００１", "保单号P3100000000001"),
        ("手机一三八零零一三八零零一", "手机13800138001"),
        ("身份证后四位二七三九", "身份证后四位2739"),
        ("欠了三万块", "欠了三万块"),
        ("一一对应", "一一对应"),
        ("ID 11010519491231002X", "id 11010519491231002X"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected
    assert len(normalize(text)) == len(text)


def test_the_dictionary_survives_a_fresh_process(spacy_dir: Path) -> None:
    """jieba's dictionary is global: load the folder in a process of its own."""
    code = (
        "import spacy, nlu.spacy_zh;"
        f"nlp = spacy.load({str(spacy_dir)!r});"
        "print('/'.join(t.text for t in nlp('查重疾险和现金价值')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "查/重疾险/和/现金价值"


def test_rasa_tokens_use_the_insurance_dictionary(spacy_nlp: SpacyNLP) -> None:
    tokens, _ = tokens_and_entities(spacy_nlp, "查重疾险")
    assert tokens == ["查", "重疾险"]
    tokens, _ = tokens_and_entities(spacy_nlp, "我想退保，現金價值多少")
    assert "退保" in tokens and "现金价值" in tokens


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("我手机13800138001", ("phone", "13800138001")),
        ("保单号P3100000000001的状态", ("policy_number", "P3100000000001")),
        ("保單號Ｐ３１００００００００００１", ("policy_number", "P3100000000001")),
        ("理赔CL20260101000123进度", ("claim_number", "CL20260101000123")),
        ("投诉单T202611250012怎么样了", ("ticket_number", "T202611250012")),
        ("身份证11010519491231002X", ("id_number", "11010519491231002X")),
        ("身份证后四位273X", ("id_last4", "273X")),
        ("身份证后4位是2739", ("id_last4", "2739")),
        ("交了¥5,000.00", ("amount", "¥5,000.00")),
        ("欠了3万块", ("amount", "3万块")),
        ("一共5000元", ("amount", "5000元")),
        ("2026年12月5日到期", ("date", "2026年12月5日")),
        ("12月5号扣款", ("date", "12月5号")),
        ("2026-12-05", ("date", "2026-12-05")),
        ("手机一三八零零一三八零零一", ("phone", "13800138001")),
    ],
)
def test_entity_rules(spacy_nlp: SpacyNLP, text: str, entity: tuple[str, str]) -> None:
    _, entities = tokens_and_entities(spacy_nlp, text)
    assert entity in entities


def test_no_identifier_in_plain_text(spacy_nlp: SpacyNLP) -> None:
    _, entities = tokens_and_entities(spacy_nlp, "我想问问重疾险保什么")
    assert entities == []


def test_normalizer_keeps_training_annotations_aligned() -> None:
    text = "我的保單號是Ｐ３１００００００００００１"
    message = Message(
        {
            TEXT: text,
            "intent": "inform",
            ENTITIES: [
                {"start": 6, "end": 20, "value": text[6:20], "entity": "policy_number"}
            ],
        }
    )
    data = ChineseTextNormalizer().process_training_data(TrainingData([message]))
    [normalised] = data.training_examples
    assert normalised.get(TEXT) == "我的保单号是P3100000000001"
    [entity] = normalised.get(ENTITIES)
    assert entity["value"] == "P3100000000001"
    assert normalised.get(TEXT)[entity["start"] : entity["end"]] == entity["value"]


def test_sentiment_goes_into_the_parse_output() -> None:
    angry, calm = Message({TEXT: "你们这垃圾公司，骗子！"}), Message({TEXT: "查保单"})
    SentimentAnnotator().process([angry, calm])
    for message in (angry, calm):
        output = message.as_dict(only_output_properties=True)
        assert -1.0 <= output["sentiment"] <= 1.0
        assert output["sentiment_label"] in (
            "angry",
            "disappointed",
            "neutral",
            "satisfied",
        )
    assert angry.get("sentiment") < -0.5
    assert calm.get("sentiment_label") == "neutral"


def test_rule_entities_win_over_overlapping_learnt_ones() -> None:
    def entity(kind: str, start: int, end: int, extractor: str) -> dict:
        return {"entity": kind, "start": start, "end": end, "extractor": extractor}

    rule = entity("phone", 2, 13, "SpacyEntityExtractor")
    learnt_same = entity("phone", 2, 13, "DIETClassifier")
    learnt_wider = entity("id_last4", 0, 5, "DIETClassifier")
    learnt_elsewhere = entity("product_type", 15, 18, "DIETClassifier")
    message = Message(
        {
            TEXT: "手机13800138001 查重疾险",
            ENTITIES: [learnt_same, learnt_wider, learnt_elsewhere, rule],
        }
    )
    EntityRuleArbiter().process([message])
    assert message.get(ENTITIES) == [learnt_elsewhere, rule]
    assert EntityRuleArbiter.arbitrate([learnt_same]) == [learnt_same]


def test_learnt_identifiers_of_the_wrong_shape_are_dropped() -> None:
    def learnt(kind: str, value: str) -> dict:
        return {"entity": kind, "value": value, "start": 0, "end": len(value)}

    card = learnt("phone", "6225881234567896")  # a bank card, not a phone
    spaced = learnt("phone", "138 0013 8002")
    policy = learnt("policy_number", "P4400000000003")
    product = learnt("product_type", "重疾险")
    assert EntityRuleArbiter.arbitrate([card, spaced, policy, product]) == [
        spaced,
        policy,
        product,
    ]
    assert EntityRuleArbiter.arbitrate([learnt("id_last4", "27391")]) == []
    dates = [learnt("date", v) for v in ("上个月", "11月20号", "86.4", "163", "60")]
    assert EntityRuleArbiter.arbitrate(dates) == dates[:3]


def test_a_named_person_wins_over_a_learnt_guess() -> None:
    text = "我叫王建国想查保单"
    guess = {"entity": "person_name", "value": "王建国想", "start": 2, "end": 6}
    learnt = {**guess, "extractor": "DIETClassifier"}
    message = Message({TEXT: text, ENTITIES: [learnt]})
    PersonNameRule().process([message])
    EntityRuleArbiter().process([message])
    (entity,) = message.get(ENTITIES)
    assert (entity["value"], entity["extractor"]) == ("王建国", "PersonNameRule")
    assert text[entity["start"] : entity["end"]] == "王建国"


def test_the_original_text_comes_back_at_the_end() -> None:
    typed = "我的保單號是Ｐ３１００００００００００１"
    message = Message({TEXT: typed})
    ChineseTextNormalizer().process([message])
    assert message.get(TEXT) == "我的保单号是P3100000000001"
    OriginalTextRestorer().process([message])
    output = message.as_dict(only_output_properties=True)
    assert output[TEXT] == typed
    assert output["text_normalized"] == "我的保单号是P3100000000001"
