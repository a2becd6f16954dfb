"""Enquiries through the REST channel: real Rasa, action server and CRM.

孙丽 asks for her claim before verifying: nothing personal is said until she has
given her phone and ID digits (with an FAQ asked in the middle of verification),
then the reply names her open claim's number and status as the CRM holds them.

This module runs its own Rasa and action servers (on the session's model) so that
the action server surely talks to this module's CRM.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.live_crm import LiveCrm
from tests.rasa_fixtures import (
    RasaServer,
)

pytestmark = pytest.mark.rasa

SUN_LI = ("13800138004", "1861")
CLAIM = re.compile(r"CL\d{13,14}")
POLICY = re.compile(r"P\d{13}")


@pytest.fixture(scope="module")
def enquiry_crm(live_crm: LiveCrm) -> LiveCrm:
    """The session's live CRM (the action server of ``rasa_server`` uses it)."""
    return live_crm


@pytest.fixture(scope="module")
def enquiry_bot(rasa_server: RasaServer) -> RasaServer:
    """The session's Rasa server, whose actions talk to ``live_crm``."""
    return rasa_server


def _say(server: RasaServer, sender: str, text: str) -> str:
    response = httpx.post(
        f"{server.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def _api(crm: LiveCrm, path: str) -> Any:
    response = httpx.get(
        f"{crm.url}/api/v1/service{path}",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _sun_li(crm: LiveCrm) -> int:
    response = httpx.post(
        f"{crm.url}/api/v1/service/identity/verify",
        headers={"Authorization": f"Bearer {crm.token}"},
        json={"method": "phone_id", "phone": SUN_LI[0], "id_last4": SUN_LI[1]},
        timeout=10,
    )
    response.raise_for_status()
    return int(response.json()["customer"]["id"])


def test_claim_status_only_after_verification(
    enquiry_crm: LiveCrm, enquiry_bot: RasaServer
) -> None:
    customer = _sun_li(enquiry_crm)
    claim = next(
        c
        for c in _api(enquiry_crm, f"/customers/{customer}/claims")["items"]
        if c["is_open"]
    )
    sender = f"e2e-enquiry-{uuid.uuid4().hex[:8]}"

    first = _say(enquiry_bot, sender, "我的理赔到哪一步了")
    assert "核实" in first and "手机" in first, first
    assert not CLAIM.search(first) and not POLICY.search(first)
    assert claim["status_label"] not in first

    # an insurance question in the middle of verification is answered, then asked again
    faq = _say(enquiry_bot, sender, "犹豫期一般是多少天啊")
    assert "犹豫期" in faq and "15天" in faq, faq
    assert not CLAIM.search(faq)

    after_phone = _say(enquiry_bot, sender, SUN_LI[0])
    assert "后四位" in after_phone and not CLAIM.search(after_phone), after_phone

    answer = _say(enquiry_bot, sender, SUN_LI[1])
    assert claim["claim_no"] in answer, answer
    assert claim["status_label"] in answer
    assert claim["pending_documents"] in answer


def test_coverage_of_a_product_type_needs_no_verification(
    enquiry_crm: LiveCrm, enquiry_bot: RasaServer
) -> None:
    products = _api(enquiry_crm, "/products?type=accident")["items"]
    sender = f"e2e-coverage-{uuid.uuid4().hex[:8]}"
    reply = _say(enquiry_bot, sender, "你们的意外险都保些什么")
    for product in products:
        assert product["name"] in reply, reply
    assert "核实" not in reply
