"""The gateway's pure parts: text rules, message shapes, settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.crm_client import AgentRef
from bot.messages import (
    TEXT_MAX,
    Button,
    InvalidText,
    Outgoing,
    check_text,
    from_rasa,
    from_transcript,
    record_payload,
    to_rest,
    to_socketio,
    transcript_text,
)
from bot.rasa_client import understanding_of

AGENT = AgentRef(id=3, name="王芳", employee_no="KN1003")


@pytest.mark.parametrize("text", ["你好", "<b>x</b>", "a" * TEXT_MAX, " 前后空格 "])
def test_text_is_kept_exactly(text: str) -> None:
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "text_empty"), ("  \t\n", "text_empty"), (None, "text_empty"),
     (123, "text_empty"), ("a" * (TEXT_MAX + 1), "text_too_long")],
)  # fmt: skip
def test_bad_text_is_refused_with_a_chinese_message(text: object, code: str) -> None:
    with pytest.raises(InvalidText) as refused:
        check_text(text)
    assert refused.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)


def test_rasa_buttons_become_quick_replies_and_buttons() -> None:
    reply = from_rasa(
        {"text": "请选择", "buttons": [{"title": "是", "payload": "/affirm"}]}
    )
    assert reply.buttons == (Button("是", "/affirm"),)
    data = to_socketio(reply)
    assert data["quick_replies"] == [
        {"content_type": "text", "title": "是", "payload": "/affirm"}
    ]
    assert data["buttons"] == [{"title": "是", "payload": "/affirm"}]
    assert data["metadata"] == {"sender": "bot", "message_id": None}
    assert record_payload(reply) == {"buttons": [{"title": "是", "payload": "/affirm"}]}


def test_an_agent_message_names_the_agent() -> None:
    data = to_socketio(Outgoing(text="您好", sender="agent", agent=AGENT, message_id=9))
    assert data["metadata"] == {
        "sender": "agent",
        "message_id": 9,
        "agent_name": "王芳",
        "employee_no": "KN1003",
    }


def test_rest_shape_has_recipient_and_buttons_only_when_there_are_some() -> None:
    plain = to_rest(Outgoing(text="好的", sender="bot"), "u1")
    assert plain == {"recipient_id": "u1", "text": "好的"}
    with_buttons = to_rest(from_rasa({"text": "选", "buttons": [{"title": "A"}]}), "u1")
    assert with_buttons["buttons"] == [{"title": "A", "payload": "A"}]


def test_replies_without_text_are_recorded_with_a_placeholder() -> None:
    assert transcript_text(from_rasa({"image": "https://x/y.png"})) == "[图片]"
    assert transcript_text(from_rasa({"custom": {"k": 1}})) == "[卡片消息]"


def test_history_shows_a_clicked_quick_replys_label_and_the_agent() -> None:
    customer = from_transcript(
        {"id": 1, "sender": "customer", "text": "/affirm",
         "payload": {"metadata": {"display": "是的"}}},
    )  # fmt: skip
    assert customer.text == "是的" and customer.sender == "customer"
    agent = from_transcript(
        {"id": 2, "sender": "agent", "text": "您好", "agent_id": 3, "payload": None,
         "agent": {"id": 3, "name": AGENT.name, "employee_no": AGENT.employee_no,
                   "presence": "online"}},
    )  # fmt: skip
    assert agent.agent == AGENT
    unknown = from_transcript({"id": 3, "sender": "robot", "text": "?"})
    assert unknown.sender == "system"


def test_understanding_reads_intent_confidence_and_sentiment() -> None:
    got = understanding_of(
        {
            "intent": {"name": "complain", "confidence": 0.87},
            "sentiment": {"score": -0.7},
        }
    )
    assert (got.intent, got.intent_confidence, got.sentiment) == (
        "complain",
        0.87,
        -0.7,
    )
    assert understanding_of({}).intent is None
    assert understanding_of({"sentiment": 3}).sentiment == 1.0


def test_settings_read_the_shared_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_URL", "http://crm:9000")
    monkeypatch.setenv("RASA_URL", "http://rasa:5005")
    monkeypatch.setenv("RASA_TOKEN", "t1")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example")
    settings = Settings()
    assert settings.crm_url == "http://crm:9000"
    assert settings.rasa_url == "http://rasa:5005" and settings.rasa_token == "t1"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_production_refuses_the_dev_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ENVIRONMENT", "production")
    monkeypatch.delenv("CRM_SERVICE_TOKEN", raising=False)
    with pytest.raises(ValidationError):
        Settings()
