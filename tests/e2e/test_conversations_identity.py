"""Identity through the REST channel: real Rasa, action server and CRM.

Nothing personal is said before verification (policies and claims asked for while
unverified get the identity prompt, never a policy or claim number); 周强 changes
his e-mail, which the CRM holds only once the one-time code from its outbox was
typed (a wrong code changes nothing).
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.chat import CLAIM_NO, POLICY_NO, crm_get, customer_id, say, slots
from tests.live_crm import LiveCrm
from tests.rasa_fixtures import RasaServer, outbox_code

pytestmark = pytest.mark.rasa

ZHANG_WEI = ("13800138001", "2739")
ZHOU_QIANG = ("13800138005", "4138")


def test_nothing_personal_before_verification(
    live_crm: LiveCrm, rasa_server: RasaServer
) -> None:
    customer = customer_id(live_crm, *ZHANG_WEI)
    own = [
        p["policy_no"]
        for p in crm_get(live_crm, f"/customers/{customer}/policies")["items"]
    ]
    sender = f"e2e-gate-{uuid.uuid4().hex[:8]}"

    first = say(rasa_server, sender, "帮我查一下我名下都有哪些保单")
    assert "核实" in first and "手机" in first, first
    second = say(rasa_server, sender, "我的理赔到哪一步了")
    for reply in (first, second):
        assert not POLICY_NO.search(reply) and not CLAIM_NO.search(reply), reply
        assert "¥" not in reply
    state = slots(rasa_server, sender)
    assert state["verified"] is not True and state["customer_id"] is None

    # the same questions are answered once the customer is verified
    say(rasa_server, sender, ZHANG_WEI[0])
    answer = say(rasa_server, sender, ZHANG_WEI[1])
    assert "身份核实成功" in answer, answer
    assert any(number in answer for number in own), answer
    conversation = crm_get(
        live_crm, f"/conversations/{slots(rasa_server, sender)['conversation_id']}"
    )
    assert conversation["verification_level"] == "verified"
    assert conversation["customer_id"] == customer


def test_contact_changes_only_after_the_code(
    live_crm: LiveCrm, rasa_server: RasaServer
) -> None:
    customer = customer_id(live_crm, *ZHOU_QIANG)
    before = crm_get(live_crm, f"/customers/{customer}")["email_masked"]
    sender = f"e2e-contact-{uuid.uuid4().hex[:8]}"

    assert "核实" in say(rasa_server, sender, "我想改一下我的邮箱")
    say(rasa_server, sender, ZHOU_QIANG[0])
    sent = say(rasa_server, sender, ZHOU_QIANG[1])
    assert "验证码已发送至138****8005" in sent, sent
    assert "验证码是6位数字" not in sent, sent  # nothing was typed yet

    code = outbox_code(live_crm.database_url, customer)
    assert code and len(code) == 6
    wrong = "000000" if code != "000000" else "111111"
    refused = say(rasa_server, sender, wrong)
    assert "验证码不正确" in refused, refused
    assert crm_get(live_crm, f"/customers/{customer}")["email_masked"] == before

    accepted = say(rasa_server, sender, code)
    assert "验证通过" in accepted and "邮箱" in accepted, accepted
    assert crm_get(live_crm, f"/customers/{customer}")["email_masked"] == before

    new_email = f"zhouqiang.{uuid.uuid4().hex[:6]}@example.com"
    done = say(rasa_server, sender, new_email)
    assert "已为您更新邮箱：z***@example.com" in done, done
    after = crm_get(live_crm, f"/customers/{customer}")["email_masked"]
    assert after != before and after.endswith("@example.com")
    assert slots(rasa_server, sender)["step_up_token"] is None
