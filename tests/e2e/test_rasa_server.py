"""A real Rasa server and action server, spoken to through the REST channel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.rasa_fixtures import ROOT, RasaServer, domain_text

pytestmark = pytest.mark.rasa

CJK = re.compile(r"[\u4e00-\u9fff]")


def _say(server: RasaServer, sender: str, text: str, **metadata: Any) -> list[str]:
    """Send one message through the REST channel; return the bot's texts."""
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    response = httpx.post(f"{server.url}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return [message["text"] for message in response.json() if "text" in message]


def _slots(server: RasaServer, sender: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/conversations/{sender}/tracker",
        params={"token": server.token},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["slots"])


def test_greeting_is_answered_in_chinese(rasa_server: RasaServer) -> None:
    replies = _say(rasa_server, "t1", "你好")
    assert replies == [domain_text("utter_greet")]
    assert CJK.search(replies[0]) and "小安" in replies[0]


def test_weather_is_out_of_scope(rasa_server: RasaServer) -> None:
    replies = _say(rasa_server, "t2", "今天天气怎么样")
    assert replies == [domain_text("utter_out_of_scope")]
    assert "超出了我的服务范围" in replies[0]


def test_gibberish_is_asked_to_be_rephrased(rasa_server: RasaServer) -> None:
    replies = _say(rasa_server, "t3", "asdfgh qwer")
    assert replies == [domain_text("utter_rephrase")]
    assert "换个说法" in replies[0]


def test_verified_metadata_reaches_the_slots(rasa_server: RasaServer) -> None:
    # action_session_start runs on the action server for a new conversation
    replies = _say(rasa_server, "t4", "您好", customer_id=42, verified=True)
    assert replies == [domain_text("utter_greet")]
    slots = _slots(rasa_server, "t4")
    assert slots["customer_id"] == 42
    assert slots["verified"] is True


def test_unverified_metadata_sets_no_identity(rasa_server: RasaServer) -> None:
    _say(rasa_server, "t5", "你好", customer_id=42, verified=False)
    slots = _slots(rasa_server, "t5")
    assert slots["customer_id"] is None
    assert slots["verified"] is None


def test_http_api_needs_the_token(rasa_server: RasaServer, rasa_model: Path) -> None:
    assert httpx.get(f"{rasa_server.url}/status", timeout=30).status_code == 401
    response = httpx.get(
        f"{rasa_server.url}/status", params={"token": rasa_server.token}, timeout=30
    )
    assert response.status_code == 200
    assert response.json()["model_file"].endswith(rasa_model.name)


def test_action_server_serves_exactly_the_domain_actions(
    rasa_server: RasaServer,
) -> None:
    health = httpx.get(f"{rasa_server.action_url}/health", timeout=30)
    assert health.json() == {"status": "ok"}
    actions = httpx.get(f"{rasa_server.action_url}/actions", timeout=30).json()
    declared: set[str] = set()
    for path in (ROOT / "domain").rglob("*.yml"):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        declared.update(
            a for a in part.get("actions") or [] if not a.startswith("utter_")
        )
    assert {a["name"] for a in actions} == declared


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (kernel hex) with a listening TCP socket on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_both_servers_listen_on_loopback_only(rasa_server: RasaServer) -> None:
    loopback = {"0100007F", "00000000000000000000000001000000"}
    for url in (rasa_server.url, rasa_server.action_url):
        addresses = _listening_addresses(int(url.rsplit(":", 1)[1]))
        assert addresses and addresses <= loopback, (url, addresses)
