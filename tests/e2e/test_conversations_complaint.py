"""A complaint through the REST channel: real Rasa, action server and CRM.

张伟 verifies, complains that the claim is too slow through the form, gets the
ticket number and both deadlines; the CRM holds exactly one new ticket for him with
that number, and "我的投诉进度" shows it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.live_crm import LiveCrm
from tests.rasa_fixtures import RasaServer

pytestmark = pytest.mark.rasa

ZHANG_WEI = 1
TICKET = re.compile(r"T\d{12,14}")


@pytest.fixture(scope="module")
def crm_for_actions(live_crm: LiveCrm) -> LiveCrm:
    """The session's live CRM (the action server of ``rasa_server`` uses it)."""
    return live_crm


def _say(server: RasaServer, sender: str, text: str) -> str:
    response = httpx.post(
        f"{server.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def _tickets(crm: LiveCrm) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{crm.url}/api/v1/service/customers/{ZHANG_WEI}/tickets",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json()["items"])


def test_complaint_through_the_form_opens_one_ticket(
    crm_for_actions: LiveCrm, rasa_server: RasaServer
) -> None:
    crm, sender = crm_for_actions, f"e2e-complaint-{uuid.uuid4().hex[:8]}"
    before = {t["ticket_no"] for t in _tickets(crm)}

    replies = _say(
        rasa_server, sender, "你们理赔太慢了，住院的钱一个月还没到账，我要投诉"
    )
    # verification first (phone, then the last 4 of the ID number)
    replies = _say(rasa_server, sender, "13800138001")
    replies = _say(rasa_server, sender, "2739")
    # the form: category and description come from the first message
    for answer in ("不涉及", "希望尽快赔付"):
        if TICKET.search(replies):
            break
        replies = _say(rasa_server, sender, answer)
    match = TICKET.search(replies)
    assert match, replies
    assert "前与您联系确认" in replies and "前给出处理结果" in replies

    new = [t for t in _tickets(crm) if t["ticket_no"] not in before]
    assert [t["ticket_no"] for t in new] == [match.group(0)]
    assert new[0]["category"] == "claim_dispute"

    # An angry complaint is handed to a person (the bot then stays silent in
    # that conversation), so follow it up the way a customer would come back: a
    # new conversation, verified again.
    later = f"{sender}-later"
    _say(rasa_server, later, "我的投诉进度")
    _say(rasa_server, later, "13800138001")
    status = _say(rasa_server, later, "2739")
    if match.group(0) not in status:
        status = _say(rasa_server, later, "我的投诉进度")
    assert match.group(0) in status
    assert len(_tickets(crm)) == len(before) + 1
