"""The hand-back and the satisfaction survey through Rasa's HTTP API and REST channel.

What the gateway does on the CRM's ``handback`` event (docs/takeover.md) is done here
by hand: resume + action_listen on the tracker (Rasa's event for the latter is
``{"event": "action", "name": "action_listen"}``), then trigger EXTERNAL_handback
with the escalation's id. The escalation is closed through the CRM's service API (the
agent console's resolve comes with the gateway issue). The score typed in words is
stored with the CRM; a customer who asks something else is answered, not trapped.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.chat import crm_get, say, slots
from tests.live_crm import LiveCrm
from tests.rasa_fixtures import RasaServer

pytestmark = pytest.mark.rasa

SURVEY = "请您为刚才人工客服的服务打分（1-5分，5分最满意）"


def _handed_over_and_back(
    crm: LiveCrm, server: RasaServer, sender: str
) -> tuple[int, list[dict[str, Any]]]:
    """Ask for a person, close the escalation, hand back; the bot's messages."""
    notice = say(server, sender, "转人工")
    assert "人工" in notice or "客服" in notice or "回电" in notice, notice
    conversation_id = slots(server, sender)["conversation_id"]
    escalation_id = crm_get(crm, f"/conversations/{conversation_id}")[
        "open_escalation_id"
    ]
    assert escalation_id
    closed = httpx.post(
        f"{crm.url}/api/v1/service/conversations/{conversation_id}/close",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    closed.raise_for_status()
    params = {"token": server.token}
    resumed = httpx.post(
        f"{server.url}/conversations/{sender}/tracker/events",
        params=params,
        json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}],
        timeout=30,
    )
    resumed.raise_for_status()
    triggered = httpx.post(
        f"{server.url}/conversations/{sender}/trigger_intent",
        params=params,
        json={
            "name": "EXTERNAL_handback",
            "entities": {"escalation_id": escalation_id},
        },
        timeout=60,
    )
    triggered.raise_for_status()
    return int(escalation_id), list(triggered.json()["messages"])


def test_a_score_in_words_is_stored(live_crm: LiveCrm, rasa_server: RasaServer) -> None:
    sender = f"e2e-csat-{uuid.uuid4().hex[:8]}"
    escalation_id, messages = _handed_over_and_back(live_crm, rasa_server, sender)
    texts = [m.get("text", "") for m in messages]
    assert any("由小安继续为您服务" in text for text in texts), texts
    survey = next(m for m in messages if m.get("text") == SURVEY)
    assert len(survey["buttons"]) == 5

    thanks = say(rasa_server, sender, "非常满意")
    assert "感谢您的评价" in thanks, thanks
    assert crm_get(live_crm, f"/escalations/{escalation_id}")["csat"] == 5


def test_another_question_ends_the_survey(
    live_crm: LiveCrm, rasa_server: RasaServer
) -> None:
    sender = f"e2e-csat-skip-{uuid.uuid4().hex[:8]}"
    escalation_id, _ = _handed_over_and_back(live_crm, rasa_server, sender)

    answer = say(rasa_server, sender, "你们的犹豫期是多少天")
    assert "犹豫期" in answer and "15天" in answer, answer
    tracker = httpx.get(
        f"{rasa_server.url}/conversations/{sender}/tracker",
        params={"token": rasa_server.token, "include_events": "NONE"},
        timeout=30,
    ).json()
    assert (tracker.get("active_loop") or {}).get("name") != "csat_form"
    # a later "5" is no score any more
    say(rasa_server, sender, "5")
    assert crm_get(live_crm, f"/escalations/{escalation_id}")["csat"] is None
