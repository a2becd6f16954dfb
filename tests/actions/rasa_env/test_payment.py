"""Payment actions against a real CRM: real figures, churn signals, escalation."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from datetime import date
from typing import Any

import httpx
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import CrmAction
from actions.crm.client import CrmClient
from actions.payment import (
    ActionCancelPolicy,
    ActionPaymentDifficulty,
    ActionPaymentFailed,
    ActionPaymentMethod,
)
from tests.live_crm import CRM_PYTHON, LiveCrm
from tests.ports import free_port

ZHANG_WEI, LIN_HUIMIN, ZHAO_LEI, SUN_LI = 1, 2, 3, 4


def _tracker(customer_id: int | None, text: str, intent: str) -> Tracker:
    message = {"text": text, "intent": {"name": intent}, "entities": []}
    return Tracker(
        sender_id=f"payment-{uuid.uuid4().hex[:8]}",
        slots={names.CUSTOMER_ID: customer_id, names.VERIFIED: customer_id is not None},
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def _run(action: CrmAction, tracker: Tracker) -> tuple[list[dict[str, Any]], str]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    texts = [m.get("text") or m.get("response") or "" for m in dispatcher.messages]
    return events, "\n".join(texts)


def _get(crm: LiveCrm, path: str) -> Any:
    response = httpx.get(
        f"{crm.url}/api/v1/service{path}",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _escalation(crm: LiveCrm, events: list[dict[str, Any]]) -> Any:
    """The open escalation of the conversation the action's events name."""
    conversation = next(
        e["value"] for e in events if e.get("name") == names.CONVERSATION_ID
    )
    escalation_id = _get(crm, f"/conversations/{conversation}")["open_escalation_id"]
    return _get(crm, f"/escalations/{escalation_id}")


def _cn(iso: str) -> str:
    day = date.fromisoformat(iso[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def _policies(crm: LiveCrm, customer_id: int) -> list[dict[str, Any]]:
    return list(_get(crm, f"/customers/{customer_id}/policies")["items"])


def test_payment_method_shows_the_debit_account(live_crm: LiveCrm) -> None:
    policy = _policies(live_crm, ZHAO_LEI)[0]
    _, text = _run(ActionPaymentMethod(), _tracker(ZHAO_LEI, "保费怎么交", "x"))
    assert "微信" in text and "支付宝" in text and "柜面" in text
    assert policy["debit_bank"] in text and policy["debit_account_masked"] in text
    assert f"¥{policy['premium_yuan']}" in text


def test_failed_debit_explains_the_reason_and_retry(live_crm: LiveCrm) -> None:
    payments = _get(live_crm, f"/customers/{ZHAO_LEI}/payments")["items"]
    failed = next(p for p in payments if p["result"] == "failed")
    policy = _policies(live_crm, ZHAO_LEI)[0]
    _, text = _run(ActionPaymentFailed(), _tracker(ZHAO_LEI, "扣款失败了", "x"))
    assert failed["failure_label"] in text and failed["failure_advice"] in text
    assert f"¥{failed['amount_yuan']}" in text
    assert _cn(policy["grace_end_date"]) in text
    assert f"还有{policy['grace_days_left']}天" in text


def _signal_count(crm: LiveCrm, customer_id: int, kind: str) -> int:
    """Signals of ``kind`` in the CRM's database (no service API lists them)."""
    code = (
        "import sys, sqlalchemy as sa;"
        "e = sa.create_engine(sys.argv[1]);"
        "c = e.connect();"
        "print(c.execute(sa.text('select count(*) from customer_signals "
        "where customer_id = :c and kind = :k'), "
        "{'c': int(sys.argv[2]), 'k': sys.argv[3]}).scalar())"
    )
    result = subprocess.run(
        [str(CRM_PYTHON), "-c", code, crm.database_url, str(customer_id), kind],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(result.stdout.strip())


def test_difficulty_gives_grace_and_options_and_a_signal(live_crm: LiveCrm) -> None:
    policy = _policies(live_crm, ZHAO_LEI)[0]
    before = _signal_count(live_crm, ZHAO_LEI, "payment_difficulty")
    events, text = _run(
        ActionPaymentDifficulty(), _tracker(ZHAO_LEI, "最近手头紧交不起保费", "x")
    )
    assert _signal_count(live_crm, ZHAO_LEI, "payment_difficulty") == before + 1
    assert _cn(policy["grace_end_date"]) in text
    assert f"还剩{policy['grace_days_left']}天" in text
    assert f"¥{policy['loan_available_yuan']}" in text
    assert "减额缴清" in text and "月缴" in text
    # standard tier, but in grace after missed debits and now saying he cannot
    # pay: high churn risk, so he is escalated to retention
    assert any(e.get("event") == "pause" for e in events), events
    escalation = _escalation(live_crm, events)
    assert escalation["trigger"] == "churn_risk"
    assert escalation["topic"] == "retention"
    assert escalation["reason"].startswith("流失风险高表示缴费困难")


def test_low_risk_difficulty_offers_a_person(live_crm: LiveCrm) -> None:
    before = _get(live_crm, f"/customers/{SUN_LI}")
    assert (before["value_tier"], before["churn_risk"]) == ("standard", "low")
    events, text = _run(
        ActionPaymentDifficulty(), _tracker(SUN_LI, "这个月保费有点吃力", "x")
    )
    assert _signal_count(live_crm, SUN_LI, "payment_difficulty") == 1
    # standard tier, one sign of trouble: a person is offered, nobody is paged
    assert names.UTTER_OFFER_HUMAN in text
    assert not any(e.get("event") == "pause" for e in events)


def test_vip_difficulty_is_escalated_to_retention(live_crm: LiveCrm) -> None:
    events, _ = _run(
        ActionPaymentDifficulty(), _tracker(LIN_HUIMIN, "今年保费压力太大", "x")
    )
    assert any(e.get("event") == "pause" for e in events), events
    escalation = _escalation(live_crm, events)
    assert escalation["trigger"] == "payment_difficulty"
    assert escalation["topic"] == "retention"


def test_surrender_shows_what_it_costs(live_crm: LiveCrm) -> None:
    policies = [p for p in _policies(live_crm, ZHANG_WEI) if p["status"] == "in_force"]
    before = _signal_count(live_crm, ZHANG_WEI, "surrender_enquiry")
    _, text = _run(ActionCancelPolicy(), _tracker(ZHANG_WEI, "我要退保", "x"))
    assert _signal_count(live_crm, ZHANG_WEI, "surrender_enquiry") == before + 1
    for policy in policies:
        assert policy["policy_no"] in text
        if policy["surrender_value_fen"]:
            assert f"¥{policy['surrender_value_yuan']}" in text
        assert f"¥{policy['sum_assured_yuan']}" in text
    # the outcome follows the CRM's verdict after the signal: other tests in the
    # session raise this customer's churn risk, and high risk goes to retention
    summary = _get(live_crm, f"/customers/{ZHANG_WEI}")
    if summary["value_tier"] in ("vip", "gold") or summary["churn_risk"] == "high":
        assert "专属的服务人员" in text and "柜面" not in text
    else:
        assert "柜面" in text and names.UTTER_OFFER_HUMAN in text


def test_vip_surrender_is_escalated(live_crm: LiveCrm) -> None:
    events, _ = _run(ActionCancelPolicy(), _tracker(LIN_HUIMIN, "我想退保", "x"))
    assert _escalation(live_crm, events)["trigger"] == "surrender"


def test_unverified_is_asked_to_verify(live_crm: LiveCrm) -> None:
    events, text = _run(ActionPaymentFailed(), _tracker(None, "扣款失败了", "x"))
    assert text == names.UTTER_NEED_VERIFICATION
    assert {"name": names.PENDING_ACTION, "value": "action_payment_failed"}.items() <= (
        events[0].items()
    )


class _DownDifficulty(ActionPaymentDifficulty):
    def crm_client(self) -> CrmClient:
        return CrmClient(f"http://127.0.0.1:{free_port()}")


def test_crm_down_apologises_and_offers_a_person() -> None:
    events, text = _run(_DownDifficulty(), _tracker(ZHAO_LEI, "交不起了", "x"))
    assert events == []
    assert text.split("\n") == [names.UTTER_CRM_UNAVAILABLE, names.UTTER_OFFER_HUMAN]
