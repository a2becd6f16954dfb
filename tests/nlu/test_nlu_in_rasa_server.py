"""The trained pipeline inside a real Rasa server: normalisation, rules, sentiment."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.rasa_fixtures import RasaServer

pytestmark = pytest.mark.rasa


def _parse(server: RasaServer, text: str) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/model/parse",
        params={"token": server.token},
        json={"text": text},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _entities(parse: dict[str, Any], extractor: str) -> set[tuple[str, str]]:
    return {
        (e["entity"], e["value"])
        for e in parse["entities"]
        if e.get("extractor") == extractor
    }


def test_traditional_full_width_input_is_normalised_before_the_model(
    rasa_server: RasaServer,
) -> None:
    typed = "我的保單號是Ｐ３１００００００００００１"
    parse = _parse(rasa_server, typed)
    assert parse["text"] == typed  # the customer's own words
    assert parse["text_normalized"] == "我的保单号是P3100000000001"
    assert ("policy_number", "P3100000000001") in _entities(
        parse, "SpacyEntityExtractor"
    )


def test_identifiers_come_from_the_entity_rules(rasa_server: RasaServer) -> None:
    parse = _parse(rasa_server, "手机13800138001，身份证后四位273X")
    rules = _entities(parse, "SpacyEntityExtractor")
    assert {("phone", "13800138001"), ("id_last4", "273X")} <= rules


def test_sentiment_is_in_the_parse_and_the_tracker(rasa_server: RasaServer) -> None:
    angry = _parse(rasa_server, "你们这垃圾公司，理赔拖了两个月了，骗子！")
    calm = _parse(rasa_server, "谢谢，问题解决了")
    assert angry["sentiment"] < -0.5 and angry["sentiment_label"] == "angry"
    assert calm["sentiment"] > 0.5 and calm["sentiment_label"] == "satisfied"

    sender = "nlu-sentiment"
    response = httpx.post(
        f"{rasa_server.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "气死我了，你们就是骗子！"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    tracker = httpx.get(
        f"{rasa_server.url}/conversations/{sender}/tracker",
        params={"token": rasa_server.token},
        timeout=30,
    ).json()
    latest = tracker["latest_message"]
    assert latest["text"] == "气死我了，你们就是骗子！"  # the customer's own words
    assert latest["sentiment"] < -0.5
    assert latest["sentiment_label"] in ("angry", "disappointed")
