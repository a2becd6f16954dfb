"""Identity actions against a real CRM: verify, attempts, lock-out, step-up, contact."""

from __future__ import annotations

import asyncio
import secrets
from datetime import date
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.crm.client import CrmClient
from actions.crm.errors import CrmUnavailable
from actions.identity import ActionIdentityVerified, ValidateIdentityForm
from actions.identity_parse import (
    parse_birth_date,
    parse_code,
    parse_id_last4,
    parse_phone,
    parse_policy_number,
)
from actions.session import UTTER_COMPLAINT_NOTICES
from actions.step_up import (
    ActionStartUpdateContact,
    ActionUpdateContact,
    ValidateStepUpForm,
)
from tests.actions.rasa_env.helpers import load_domain
from tests.actions.rasa_env.test_session import leave_notices, notices_of
from tests.live_crm import LiveCrm
from tests.ports import free_port
from tests.rasa_fixtures import outbox_code

ZHANG_PHONE, ZHANG_LAST4 = "13800138001", "2739"


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return load_domain()


def form_tracker(
    slots: dict[str, Any],
    new: dict[str, Any],
    *,
    sender_id: str | None = None,
    form: str = names.IDENTITY_FORM,
) -> Tracker:
    """A tracker inside ``form`` whose latest turn set the ``new`` slot candidates."""
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "x", "parse_data": {"intent": {"name": "inform"}}},
    ]
    events += [{"event": "slot", "name": k, "value": v} for k, v in new.items()]
    return Tracker(
        sender_id=sender_id or f"test-{secrets.token_hex(6)}",
        slots={**slots, **new},
        latest_message={"intent": {"name": "inform"}, "text": "x"},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form},
        latest_action_name="action_listen",
    )


def run(action: Any, tracker: Tracker, domain: dict[str, Any]) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") or m.get("text") for m in messages]


def crm_get(crm: LiveCrm, path: str) -> dict[str, Any]:
    response = httpx.get(
        f"{crm.url}/api/v1/service{path}",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def unknown_phone() -> str:
    return "139" + f"{secrets.randbelow(10**8):08d}"


def verify_zhang(domain: dict[str, Any], sender_id: str) -> dict[str, Any]:
    tracker = form_tracker(
        {names.PHONE: ZHANG_PHONE, names.REQUESTED_SLOT: names.ID_LAST4},
        {names.ID_LAST4: ZHANG_LAST4},
        sender_id=sender_id,
    )
    events, _ = run(ValidateIdentityForm(), tracker, domain)
    return slot_values(events)


# ---- parsing --------------------------------------------------------------------


def test_parsing_what_customers_type() -> None:
    assert parse_phone("我手机 138 0013 8001") == "13800138001"
    assert parse_phone("+86-138-0013-8001") == "13800138001"
    assert parse_phone("幺三八零零幺三八零零幺") == "13800138001"
    assert parse_phone("１３８００１３８００１") == "13800138001"
    assert parse_phone("12345") is None
    assert parse_id_last4("后四位是273x") == "273X"
    assert parse_id_last4("44030519860412273X") == "273X"
    assert parse_id_last4("12") is None
    assert parse_policy_number("保单号 p4400000000003") == "P4400000000003"
    assert parse_birth_date("1986-04-12") == date(1986, 4, 12)
    assert parse_birth_date("1986年4月12日") == date(1986, 4, 12)
    assert parse_birth_date("86.4.12") == date(1986, 4, 12)
    assert parse_birth_date("一九八六年四月十二日") == date(1986, 4, 12)
    assert parse_birth_date("19860412") == date(1986, 4, 12)
    assert parse_birth_date("1986-02-30") is None
    assert parse_code("验证码 482 913") == "482913"


# ---- identity_form --------------------------------------------------------------


def test_format_errors_are_asked_again_without_the_crm(domain) -> None:
    tracker = form_tracker(
        {names.REQUESTED_SLOT: names.PHONE}, {names.PHONE: "1234"}, sender_id="fmt"
    )
    events, messages = run(ValidateIdentityForm(), tracker, domain)
    assert slot_values(events)[names.PHONE] is None
    assert responses(messages) == ["utter_invalid_phone"]


def test_a_policy_number_switches_to_policy_and_birth_date(domain) -> None:
    tracker = form_tracker(
        {names.REQUESTED_SLOT: names.PHONE}, {names.PHONE: "我用保单号 P4400000000003"}
    )
    events, messages = run(ValidateIdentityForm(), tracker, domain)
    slots = slot_values(events)
    assert slots[names.PHONE] is None
    assert slots[names.POLICY_NUMBER] == "P4400000000003"
    assert slots[names.REQUESTED_SLOT] == names.BIRTH_DATE
    assert messages == []


def test_verify_success_greets_by_salutation(domain, live_crm: LiveCrm) -> None:
    sender = f"ok-{secrets.token_hex(4)}"
    tracker = form_tracker(
        {names.PHONE: ZHANG_PHONE, names.REQUESTED_SLOT: names.ID_LAST4},
        {names.ID_LAST4: ZHANG_LAST4},
        sender_id=sender,
    )
    events, messages = run(ValidateIdentityForm(), tracker, domain)
    slots = slot_values(events)
    assert slots[names.VERIFIED] is True
    assert isinstance(slots[names.CUSTOMER_ID], int)
    assert slots[names.ID_LAST4] is None  # the secret is not kept
    assert slots[names.REQUESTED_SLOT] is None
    assert messages[0]["response"] == "utter_verified"
    assert messages[0]["salutation"] == "张先生"
    conversation = crm_get(live_crm, f"/conversations/{slots[names.CONVERSATION_ID]}")
    assert conversation["verification_level"] == "verified"
    assert conversation["customer_id"] == slots[names.CUSTOMER_ID]
    assert conversation["external_id"] == sender


def test_verify_by_policy_number_and_birth_date(domain, live_crm: LiveCrm) -> None:
    tracker = form_tracker(
        {names.POLICY_NUMBER: "P3100000000001", names.REQUESTED_SLOT: "birth_date"},
        {names.BIRTH_DATE: "1986年4月12日"},
    )
    events, messages = run(ValidateIdentityForm(), tracker, domain)
    slots = slot_values(events)
    assert slots.get(names.VERIFIED) is True, messages
    assert messages[0]["response"] == "utter_verified"


def test_wrong_last4_tells_the_attempts_left(domain, live_crm: LiveCrm) -> None:
    tracker = form_tracker(
        {names.PHONE: unknown_phone(), names.REQUESTED_SLOT: names.ID_LAST4},
        {names.ID_LAST4: "0000"},
    )
    events, messages = run(ValidateIdentityForm(), tracker, domain)
    slots = slot_values(events)
    assert slots[names.PHONE] is None and slots[names.ID_LAST4] is None
    assert slots[names.REQUESTED_SLOT] == names.PHONE
    assert names.VERIFIED not in slots
    assert messages == [
        {**messages[0], "response": "utter_verification_failed", "attempts_left": 2}
    ]


def test_three_wrong_answers_lock_and_escalate(domain, live_crm: LiveCrm) -> None:
    sender = f"lock-{secrets.token_hex(4)}"
    phone = unknown_phone()
    conversation_id = None
    for _attempt in range(3):
        slots_before = {names.PHONE: phone, names.REQUESTED_SLOT: names.ID_LAST4}
        if conversation_id is not None:
            slots_before[names.CONVERSATION_ID] = conversation_id
        tracker = form_tracker(slots_before, {names.ID_LAST4: "1111"}, sender_id=sender)
        events, messages = run(ValidateIdentityForm(), tracker, domain)
        conversation_id = conversation_id or slot_values(events)[names.CONVERSATION_ID]
    assert responses(messages)[0] == "utter_verification_locked"
    notice = messages[1]["text"]
    assert "人工" in notice or "客服" in notice or "回电" in notice
    assert {"event": "pause", "timestamp": None} in events
    assert slot_values(events)[names.REQUESTED_SLOT] is None
    conversation = crm_get(live_crm, f"/conversations/{conversation_id}")
    assert conversation["verification_level"] == "none"
    escalation = crm_get(live_crm, f"/escalations/{conversation['open_escalation_id']}")
    assert escalation["trigger"] == "verification_failed"
    assert phone not in str(escalation)  # the phone goes to the agent masked only


def test_crm_down_apologises_and_offers_a_person(domain) -> None:
    action = ValidateIdentityForm()
    action.crm_client = lambda: CrmClient(f"http://127.0.0.1:{free_port()}")  # type: ignore[method-assign]
    tracker = form_tracker(
        {names.PHONE: ZHANG_PHONE, names.REQUESTED_SLOT: names.ID_LAST4},
        {names.ID_LAST4: ZHANG_LAST4},
    )
    events, messages = run(action, tracker, domain)
    assert responses(messages) == ["utter_crm_unavailable", "utter_offer_human"]
    slots = slot_values(events)
    assert names.VERIFIED not in slots and slots[names.REQUESTED_SLOT] is None


def test_a_verified_conversation_is_never_asked_again(domain) -> None:
    tracker = form_tracker({names.VERIFIED: True, names.CUSTOMER_ID: 1}, {})
    events, messages = run(ValidateIdentityForm(), tracker, domain)
    assert events == [
        {"event": "slot", "timestamp": None, "name": "requested_slot", "value": None}
    ]
    assert messages == []


def test_after_verification_the_pending_action_runs(domain) -> None:
    tracker = form_tracker(
        {names.VERIFIED: True, names.CUSTOMER_ID: 1, names.PENDING_ACTION: "action_x"},
        {},
    )
    events, messages = run(ActionIdentityVerified(), tracker, domain)
    assert slot_values(events) == {names.PENDING_ACTION: None}
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "action_x"
    plain = form_tracker({names.VERIFIED: True, names.CUSTOMER_ID: 1}, {})
    events, messages = run(ActionIdentityVerified(), plain, domain)
    assert events == [] and responses(messages) == [names.UTTER_ASK_HOW_TO_HELP]


# ---- step-up and the contact change ----------------------------------------------


def test_update_contact_needs_verification_first(domain) -> None:
    tracker = form_tracker({}, {})
    events, messages = run(ActionStartUpdateContact(), tracker, domain)
    assert responses(messages) == [names.UTTER_NEED_VERIFICATION]
    assert (
        slot_values(events)[names.PENDING_ACTION] == names.ACTION_START_UPDATE_CONTACT
    )


def test_email_changes_only_after_the_right_code(domain, live_crm: LiveCrm) -> None:
    sender = f"stepup-{secrets.token_hex(4)}"
    verified = verify_zhang(domain, sender)
    customer_id = verified[names.CUSTOMER_ID]
    base = {
        names.VERIFIED: True,
        names.CUSTOMER_ID: customer_id,
        names.CONVERSATION_ID: verified[names.CONVERSATION_ID],
    }
    events, messages = run(ActionStartUpdateContact(), form_tracker(base, {}), domain)
    assert messages[0]["response"] == "utter_step_up_sent"
    assert messages[0]["recipient"] == "138****8001"
    assert events[-1]["name"] == names.STEP_UP_FORM
    code = outbox_code(live_crm.database_url, customer_id)
    assert code and len(code) == 6
    before = crm_get(live_crm, f"/customers/{customer_id}")["email_masked"]

    wrong = "000000" if code != "000000" else "111111"
    asked = {**base, names.REQUESTED_SLOT: names.OTP_CODE}
    tracker = form_tracker(asked, {names.OTP_CODE: wrong}, form=names.STEP_UP_FORM)
    events, messages = run(ValidateStepUpForm(), tracker, domain)
    assert messages[-1]["response"] == "utter_step_up_wrong"
    assert messages[-1]["attempts_left"] == 2
    assert slot_values(events)[names.OTP_CODE] is None
    # the form ends without a token: the submit action changes nothing
    submit = form_tracker({**base, names.CONTACT_FIELD: "email"}, {})
    run(ActionUpdateContact(), submit, domain)
    assert crm_get(live_crm, f"/customers/{customer_id}")["email_masked"] == before

    tracker = form_tracker(asked, {names.OTP_CODE: code}, form=names.STEP_UP_FORM)
    events, messages = run(ValidateStepUpForm(), tracker, domain)
    slots = slot_values(events)
    assert slots[names.OTP_CODE] == "accepted" and slots[names.STEP_UP_TOKEN]
    assert responses(messages) == ["utter_step_up_ok"]

    tracker = form_tracker(
        {**base, **slots, names.REQUESTED_SLOT: names.CONTACT_FIELD},
        {names.CONTACT_FIELD: "改邮箱，新的是 ZW.New@Example.com"},
        form=names.STEP_UP_FORM,
    )
    events, messages = run(ValidateStepUpForm(), tracker, domain)
    filled = slot_values(events)
    assert filled[names.CONTACT_FIELD] == "email"
    assert filled[names.CONTACT_VALUE] == "zw.new@example.com"

    done = form_tracker({**base, **slots, **filled}, {})
    events, messages = run(ActionUpdateContact(), done, domain)
    assert messages[0]["response"] == "utter_contact_updated"
    assert messages[0]["value"] == "z***@example.com"
    assert slot_values(events)[names.STEP_UP_TOKEN] is None
    after = crm_get(live_crm, f"/customers/{customer_id}")["email_masked"]
    assert after != before and after.endswith("@example.com")


# ---- the ticket notices missed, right after verification --------------------------


def test_verification_tells_the_notices_missed(domain, live_crm: LiveCrm) -> None:
    customer_id = verify_zhang(domain, f"first-{secrets.token_hex(4)}")[
        names.CUSTOMER_ID
    ]
    ticket_no = leave_notices(
        live_crm, customer_id, ("acknowledge", {"note": "已联系经办网点"})
    )
    tracker = form_tracker(
        {names.PHONE: ZHANG_PHONE, names.REQUESTED_SLOT: names.ID_LAST4},
        {names.ID_LAST4: ZHANG_LAST4},
    )
    tracker.latest_message["metadata"] = {"channel": "web", "conversation_id": None}
    events, messages = run(ValidateIdentityForm(), tracker, domain)
    assert slot_values(events)[names.VERIFIED] is True
    assert responses(messages) == ["utter_verified", UTTER_COMPLAINT_NOTICES]
    assert messages[1]["notices"].startswith(f"您的投诉 {ticket_no} 已于")
    assert messages[1]["notices"].endswith("确认受理：已联系经办网点")
    [notice] = [
        n
        for n in notices_of(live_crm, customer_id)
        if n["text"] == messages[1]["notices"]
    ]
    assert notice["delivered_at"] and notice["channel"] == "web"


class _NoticesDown(CrmClient):
    async def pending_notices(self, customer_id: int) -> list[Any]:
        raise CrmUnavailable("CRM timed out: GET notices")


def test_a_crm_failure_on_the_notices_keeps_the_verification(
    domain, live_crm: LiveCrm
) -> None:
    action = ValidateIdentityForm()
    action.crm_client = _NoticesDown.from_env  # type: ignore[method-assign]
    tracker = form_tracker(
        {names.PHONE: ZHANG_PHONE, names.REQUESTED_SLOT: names.ID_LAST4},
        {names.ID_LAST4: ZHANG_LAST4},
    )
    events, messages = run(action, tracker, domain)
    assert slot_values(events)[names.VERIFIED] is True
    assert responses(messages) == ["utter_verified"]
