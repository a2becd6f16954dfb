"""Changing the debit card in chat: step-up code, policy, bank, number, the CRM."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.crm.client import CrmClient
from actions.debit_card import (
    ActionAskDebitPolicy,
    ActionChangeDebitCard,
    luhn_ok,
    mask_card,
    parse_bank,
    parse_card_number,
    wants_card_change,
)
from actions.identity import ValidateIdentityForm
from actions.payment import ActionPaymentMethod
from actions.step_up import ActionStepUpCancel, ValidateStepUpForm
from tests.actions.rasa_env.helpers import load_domain
from tests.live_crm import LiveCrm
from tests.ports import free_port
from tests.rasa_fixtures import outbox_code

LIN_PHONE, LIN_LAST4 = "13800138002", "1249"


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return load_domain()


def card_number(prefix: str = "622588", length: int = 16) -> str:
    """A random card number with a valid Luhn check digit."""
    body = prefix + "".join(
        str(secrets.randbelow(10)) for _ in range(length - len(prefix) - 1)
    )
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def tracker(
    slots: dict[str, Any],
    new: dict[str, Any] | None = None,
    *,
    text: str = "x",
    intent: str = "inform",
    sender_id: str | None = None,
    form: str | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text`` and whose turn set ``new``."""
    message = {"text": text, "intent": {"name": intent}, "entities": []}
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": message},
    ]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (new or {}).items()]
    return Tracker(
        sender_id=sender_id or f"card-{secrets.token_hex(6)}",
        slots={**slots, **(new or {})},
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name="action_listen",
    )


def run(action: Any, tracker: Tracker, domain: dict[str, Any]) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def crm_policies(crm: LiveCrm, customer_id: int) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{crm.url}/api/v1/service/customers/{customer_id}/policies",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json()["items"])


def changeable(crm: LiveCrm, customer_id: int) -> list[dict[str, Any]]:
    return [
        p
        for p in crm_policies(crm, customer_id)
        if p["status"] in ("in_force", "grace")
        and p["customer_role"] in ("holder", "holder_insured")
        and p["payment_frequency"] != "single"
    ]


def verified(domain: dict[str, Any], phone: str, last4: str) -> dict[str, Any]:
    """The slots of a conversation verified through validate_identity_form."""
    sender = f"card-{secrets.token_hex(4)}"
    form = tracker(
        {names.PHONE: phone, names.REQUESTED_SLOT: names.ID_LAST4},
        {names.ID_LAST4: last4},
        sender_id=sender,
        form=names.IDENTITY_FORM,
    )
    events, _ = run(ValidateIdentityForm(), form, domain)
    slots = slot_values(events)
    assert slots[names.VERIFIED] is True
    return {
        names.VERIFIED: True,
        names.CUSTOMER_ID: slots[names.CUSTOMER_ID],
        names.CONVERSATION_ID: slots[names.CONVERSATION_ID],
    }


# ---- parsing ----------------------------------------------------------------------


def test_what_customers_type_about_cards() -> None:
    assert wants_card_change("我要换扣款银行卡")
    assert wants_card_change("扣款的卡换成招商银行的怎么弄")
    assert wants_card_change("每年自动扣的那张卡我不用了")
    assert wants_card_change("變更扣費帳號")
    assert not wants_card_change("保费可以用支付宝交吗")
    assert not wants_card_change("能不能改成月缴")
    assert not wants_card_change("查下扣款账户")
    assert parse_bank("招行") == "招商银行"
    assert parse_bank("中国工商银行的卡") == "工商银行"
    assert parse_bank("新卡是宁波银行的") == "宁波银行"
    assert parse_bank("我要换扣款银行卡") is None
    assert parse_card_number("卡号 6222 0212 3456 7890 123") == "6222021234567890123"
    assert parse_card_number("６２２５８８０１２３４５６７８９") == "6225880123456789"
    assert parse_card_number("1234") is None
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert mask_card("6225880123456789") == "************6789"


# ---- the flow against the CRM ---------------------------------------------------


def test_unverified_is_asked_to_verify_first(domain) -> None:
    start = tracker({}, text="我要换扣款银行卡", intent="ask_payment_method")
    events, messages = run(ActionPaymentMethod(), start, domain)
    assert [m["response"] for m in messages] == [names.UTTER_NEED_VERIFICATION]
    assert slot_values(events)[names.PENDING_ACTION] == "action_payment_method"
    assert events[-1] == {
        "event": "followup",
        "timestamp": None,
        "name": names.IDENTITY_FORM,
    }


def test_card_changes_only_after_the_code(domain, live_crm: LiveCrm) -> None:
    base = verified(domain, LIN_PHONE, LIN_LAST4)
    customer_id = base[names.CUSTOMER_ID]
    policies = changeable(live_crm, customer_id)
    assert len(policies) > 1, "林慧敏 holds several policies in the demo book"
    target = policies[-1]

    # "我要换扣款银行卡": a change_bank code, then the form (policy asked: several)
    start = tracker(base, text="我要换扣款银行卡", intent="ask_payment_method")
    events, messages = run(ActionPaymentMethod(), start, domain)
    assert messages[0]["response"] == "utter_step_up_sent_card"
    assert messages[0]["recipient"] == "138****8002"
    slots = slot_values(events)
    assert slots[names.STEP_UP_PURPOSE] == names.PURPOSE_CHANGE_BANK
    assert slots[names.DEBIT_POLICY] is None and slots[names.DEBIT_BANK] is None
    assert events[-1]["name"] == names.STEP_UP_FORM
    base[names.STEP_UP_PURPOSE] = names.PURPOSE_CHANGE_BANK

    # without a token nothing changes
    new_card = card_number()
    submit = tracker(
        {
            **base,
            names.DEBIT_POLICY: target["policy_no"],
            names.DEBIT_BANK: "招商银行",
            names.DEBIT_ACCOUNT: new_card,
        }
    )
    events, messages = run(ActionChangeDebitCard(), submit, domain)
    assert messages == [] and slot_values(events)[names.STEP_UP_PURPOSE] is None
    assert changeable(live_crm, customer_id)[-1] == target

    # the code from the CRM's outbox; then the policy is asked (with buttons)
    code = outbox_code(live_crm.database_url, customer_id)
    asked = {**base, names.REQUESTED_SLOT: names.OTP_CODE}
    form = tracker(asked, {names.OTP_CODE: code}, form=names.STEP_UP_FORM)
    events, messages = run(ValidateStepUpForm(), form, domain)
    stepped = slot_values(events)
    assert stepped[names.OTP_CODE] == "accepted" and stepped[names.STEP_UP_TOKEN]
    assert stepped[names.REQUESTED_SLOT] == names.DEBIT_POLICY
    base.update(
        {names.OTP_CODE: "accepted", names.STEP_UP_TOKEN: stepped["step_up_token"]}
    )
    _, messages = run(ActionAskDebitPolicy(), tracker(base), domain)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [p["policy_no"] for p in policies[:6]]

    # an unknown policy is asked again; the right one is taken
    asked = {**base, names.REQUESTED_SLOT: names.DEBIT_POLICY}
    form = tracker(asked, {names.DEBIT_POLICY: "P9999999999999"}, form="step_up_form")
    events, messages = run(ValidateStepUpForm(), form, domain)
    assert slot_values(events)[names.DEBIT_POLICY] is None
    assert messages[-1]["response"] == "utter_debit_policy_unclear"
    chosen = {names.DEBIT_POLICY: target["policy_no"]}
    form = tracker(asked, chosen, form=names.STEP_UP_FORM)
    events, _ = run(ValidateStepUpForm(), form, domain)
    assert slot_values(events)[names.DEBIT_POLICY] == target["policy_no"]
    assert slot_values(events)[names.REQUESTED_SLOT] == names.DEBIT_BANK
    base[names.DEBIT_POLICY] = target["policy_no"]

    # bank and number in one message; a number failing the Luhn check is refused
    asked = {**base, names.REQUESTED_SLOT: names.DEBIT_BANK}
    bad = new_card[:-1] + str((int(new_card[-1]) + 1) % 10)
    form = tracker(asked, {names.DEBIT_BANK: f"招行 {bad}"}, form="step_up_form")
    events, messages = run(ValidateStepUpForm(), form, domain)
    assert slot_values(events)[names.DEBIT_BANK] == "招商银行"
    assert slot_values(events)[names.DEBIT_ACCOUNT] is None
    assert messages[-1]["response"] == "utter_invalid_debit_account"
    spaced = " ".join(new_card[i : i + 4] for i in range(0, len(new_card), 4))
    form = tracker(asked, {names.DEBIT_BANK: f"招行 {spaced}"}, form="step_up_form")
    events, messages = run(ValidateStepUpForm(), form, domain)
    filled = slot_values(events)
    assert filled[names.DEBIT_BANK] == "招商银行"
    assert filled[names.DEBIT_ACCOUNT] == new_card
    assert filled[names.REQUESTED_SLOT] is None and messages == []

    done = tracker({**base, **filled})
    events, messages = run(ActionChangeDebitCard(), done, domain)
    assert messages[0]["response"] == "utter_debit_card_changed"
    assert messages[0]["policy_no"] == target["policy_no"]
    assert messages[0]["bank"] == "招商银行"
    assert messages[0]["account"] == "*" * (len(new_card) - 4) + new_card[-4:]
    cleared = slot_values(events)
    assert cleared[names.DEBIT_ACCOUNT] is None and cleared[names.STEP_UP_TOKEN] is None
    after = next(
        p
        for p in crm_policies(live_crm, customer_id)
        if p["policy_no"] == target["policy_no"]
    )
    assert after["debit_bank"] == "招商银行"
    assert after["debit_account_masked"] == messages[0]["account"]


def test_a_forged_token_is_refused(domain, live_crm: LiveCrm) -> None:
    base = verified(domain, LIN_PHONE, LIN_LAST4)
    policy = changeable(live_crm, base[names.CUSTOMER_ID])[0]
    forged = tracker(
        {
            **base,
            names.STEP_UP_TOKEN: "not-a-token",
            names.DEBIT_POLICY: policy["policy_no"],
            names.DEBIT_BANK: "建设银行",
            names.DEBIT_ACCOUNT: card_number("621700", 19),
        }
    )
    events, messages = run(ActionChangeDebitCard(), forged, domain)
    assert [m["response"] for m in messages] == ["utter_debit_card_refused"]
    assert slot_values(events)[names.STEP_UP_TOKEN] is None
    unchanged = next(
        p
        for p in crm_policies(live_crm, base[names.CUSTOMER_ID])
        if p["policy_no"] == policy["policy_no"]
    )
    assert unchanged["debit_account_masked"] == policy["debit_account_masked"]


def test_one_changeable_policy_is_chosen_without_asking(
    domain, live_crm: LiveCrm
) -> None:
    base = verified(domain, "13800138003", "3557")  # 赵磊, overdue premium
    policies = changeable(live_crm, base[names.CUSTOMER_ID])
    start = tracker(base, text="扣款卡换成建行的", intent="ask_payment_method")
    events, messages = run(ActionPaymentMethod(), start, domain)
    slots = slot_values(events)
    assert messages[0]["response"] == "utter_step_up_sent_card"
    assert slots[names.DEBIT_BANK] == "建设银行"  # named with the request
    expected = policies[0]["policy_no"] if len(policies) == 1 else None
    assert slots[names.DEBIT_POLICY] == expected


def test_a_bank_correction_while_the_number_is_asked(domain) -> None:
    asked = {
        names.STEP_UP_PURPOSE: names.PURPOSE_CHANGE_BANK,
        names.OTP_CODE: "accepted",
        names.STEP_UP_TOKEN: "t",
        names.DEBIT_POLICY: "P4400000000003",
        names.DEBIT_BANK: "招商银行",
        names.REQUESTED_SLOT: names.DEBIT_ACCOUNT,
    }
    correction = {names.DEBIT_ACCOUNT: "银行说错了，是建行"}
    form = tracker(asked, correction, form=names.STEP_UP_FORM)
    events, messages = run(ValidateStepUpForm(), form, domain)
    slots = slot_values(events)
    assert slots[names.DEBIT_BANK] == "建设银行"
    assert slots[names.DEBIT_ACCOUNT] is None
    assert slots[names.REQUESTED_SLOT] == names.DEBIT_ACCOUNT
    assert messages == []  # no "wrong number": it was a correction


def test_opening_the_form_complains_about_nothing(domain) -> None:
    # start_card_change empties the slots; the form validates them when it opens
    opened = {
        names.STEP_UP_PURPOSE: names.PURPOSE_CHANGE_BANK,
        names.REQUESTED_SLOT: names.OTP_CODE,
    }
    emptied = {
        names.OTP_CODE: None,
        names.DEBIT_POLICY: None,
        names.DEBIT_BANK: None,
        names.DEBIT_ACCOUNT: None,
    }
    form = tracker(opened, emptied, form=names.STEP_UP_FORM)
    events, messages = run(ValidateStepUpForm(), form, domain)
    assert messages == []
    assert slot_values(events)[names.REQUESTED_SLOT] == names.OTP_CODE


def test_calling_it_off_forgets_everything(domain) -> None:
    events, messages = run(ActionStepUpCancel(), tracker({}), domain)
    assert [m["response"] for m in messages] == ["utter_step_up_cancelled"]
    slots = slot_values(events)
    for slot in (names.STEP_UP_TOKEN, names.STEP_UP_PURPOSE, names.DEBIT_ACCOUNT):
        assert slot in slots and slots[slot] is None


class _DownChange(ActionChangeDebitCard):
    def crm_client(self) -> CrmClient:
        return CrmClient(f"http://127.0.0.1:{free_port()}")


def test_crm_down_apologises_and_offers_a_person(domain) -> None:
    down = tracker(
        {
            names.VERIFIED: True,
            names.CUSTOMER_ID: 2,
            names.STEP_UP_TOKEN: "t",
            names.DEBIT_POLICY: "P4400000000003",
            names.DEBIT_BANK: "建设银行",
            names.DEBIT_ACCOUNT: card_number(),
        }
    )
    events, messages = run(_DownChange(), down, domain)
    assert events == []
    assert [m["response"] for m in messages] == [
        names.UTTER_CRM_UNAVAILABLE,
        names.UTTER_OFFER_HUMAN,
    ]
