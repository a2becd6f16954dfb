"""Handoff and fallback actions against a real CRM."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.crm.client import CrmClient
from actions.handoff import (
    ActionDefaultFallback,
    ActionHandoff,
    collected_slots,
    consecutive_fallbacks,
)
from tests.live_crm import LiveCrm
from tests.ports import free_port

PAUSE = {"event": "pause", "timestamp": None}


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def tracker_of(
    events: list[dict[str, Any]],
    slots: dict[str, Any] | None = None,
    latest: dict[str, Any] | None = None,
) -> Tracker:
    last_user = next(e for e in reversed(events) if e["event"] == "user")
    latest_message = {
        "text": last_user["text"],
        "intent": last_user["parse_data"]["intent"],
        **(latest or {}),
    }
    return Tracker(
        sender_id=f"handoff-{secrets.token_hex(6)}",
        slots=dict(slots or {}),
        latest_message=latest_message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(act: Any, tracker: Tracker) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(act.run(dispatcher, tracker, {}))
    return events, dispatcher.messages


def escalation_of(crm: LiveCrm, conversation_id: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {crm.token}"}
    base = f"{crm.url}/api/v1/service"
    conversation = httpx.get(
        f"{base}/conversations/{conversation_id}", headers=headers, timeout=10
    ).json()
    escalation_id = conversation["open_escalation_id"]
    return httpx.get(
        f"{base}/escalations/{escalation_id}", headers=headers, timeout=10
    ).json()


def test_request_human_escalates_tells_the_notice_and_pauses(live_crm) -> None:
    tracker = tracker_of(
        [action("action_listen"), user("转人工", "request_human")],
        slots={names.PHONE: "13800138001", names.ID_LAST4: "2739"},
        latest={"sentiment": -0.7},
    )
    events, messages = run(ActionHandoff(), tracker)
    assert events[-1] == PAUSE
    conversation_id = next(
        e["value"] for e in events if e.get("name") == names.CONVERSATION_ID
    )
    escalation = escalation_of(live_crm, conversation_id)
    assert messages == [{**messages[0], "text": escalation["notice"]}]
    assert escalation["trigger"] == "customer_request"
    assert escalation["reason"] == "客户主动要求转人工"


def test_accepting_the_offer_after_two_misses_is_an_nlu_failure(live_crm) -> None:
    events = [
        action("action_listen"),
        user("asdf", "nlu_fallback"),
        action(names.ACTION_DEFAULT_FALLBACK),
        {"event": "rewind"},
        action("action_listen"),
        user("qwer", "nlu_fallback"),
        action(names.ACTION_DEFAULT_FALLBACK),
        action("action_listen"),
        user("好的", "affirm"),
    ]
    result, messages = run(ActionHandoff(), tracker_of(events))
    assert result[-1] == PAUSE
    conversation_id = next(
        e["value"] for e in result if e.get("name") == names.CONVERSATION_ID
    )
    assert escalation_of(live_crm, conversation_id)["trigger"] == "nlu_failure"


def test_crm_down_apologises_with_another_way_to_a_person() -> None:
    handoff = ActionHandoff()
    handoff.crm_client = lambda: CrmClient(f"http://127.0.0.1:{free_port()}")  # type: ignore[method-assign]
    tracker = tracker_of([action("action_listen"), user("人工", "request_human")])
    events, messages = run(handoff, tracker)
    assert events == []
    assert [m["response"] for m in messages] == ["utter_handoff_unavailable"]


def test_first_miss_rephrases_and_forgets_the_message() -> None:
    tracker = tracker_of(
        [action("action_listen"), user("asdf", "greet"), user("zxcv", "nlu_fallback")]
    )
    events, messages = run(ActionDefaultFallback(), tracker)
    assert [m["response"] for m in messages] == [names.UTTER_REPHRASE]
    assert events[0]["event"] == "rewind"
    assert events[1]["name"] == names.FALLBACK_COUNT and events[1]["value"] == 1


def test_second_miss_in_a_row_offers_a_person() -> None:
    events = [
        action("action_listen"),
        user("asdf", "nlu_fallback"),
        action(names.ACTION_DEFAULT_FALLBACK),
        {"event": "rewind"},
        action("action_listen"),
        user("qwer", "nlu_fallback"),
    ]
    tracker = tracker_of(events)
    assert consecutive_fallbacks(tracker) == 1
    result, messages = run(ActionDefaultFallback(), tracker)
    assert [m["response"] for m in messages] == [names.UTTER_OFFER_HUMAN_BUTTONS]
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "fallback_count",
        "value": 2,
    } in (result)


def test_an_understood_message_resets_the_count() -> None:
    events = [
        action("action_listen"),
        user("asdf", "nlu_fallback"),
        action(names.ACTION_DEFAULT_FALLBACK),
        {"event": "rewind"},
        action("action_listen"),
        user("你好", "greet"),
        action("utter_greet"),
        action("action_listen"),
        user("qwer", "nlu_fallback"),
    ]
    result, messages = run(ActionDefaultFallback(), tracker_of(events))
    assert [m["response"] for m in messages] == [names.UTTER_REPHRASE]


def test_low_dialogue_confidence_after_an_answer_just_listens() -> None:
    events = [action("action_listen"), user("你好", "greet"), action("utter_greet")]
    result, messages = run(ActionDefaultFallback(), tracker_of(events))
    assert messages == []
    assert result == [{"event": "followup", "timestamp": None, "name": "action_listen"}]


def test_escalation_slots_hide_secrets_and_mask_the_phone() -> None:
    tracker = tracker_of(
        [action("action_listen"), user("x", "inform")],
        slots={
            names.PHONE: "13800138001",
            names.ID_LAST4: "2739",
            names.STEP_UP_TOKEN: "t",
            names.PRODUCT_TYPE: "重疾险",
            "empty": None,
        },
    )
    assert collected_slots(tracker) == {
        names.PHONE: "138****8001",
        names.PRODUCT_TYPE: "重疾险",
    }
