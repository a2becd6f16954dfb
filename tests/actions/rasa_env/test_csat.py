"""The hand-back and the satisfaction survey: scores read, stored once, never a trap."""

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
from actions.csat import (
    SKIPPED,
    ActionHandback,
    ActionSubmitCsat,
    ValidateCsatForm,
    parse_score,
)
from tests.actions.rasa_env.helpers import load_domain
from tests.live_crm import LiveCrm
from tests.ports import free_port


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return load_domain()


def tracker(
    slots: dict[str, Any],
    new: dict[str, Any] | None = None,
    *,
    entities: list[dict[str, Any]] | None = None,
    intent: str = "inform",
) -> Tracker:
    message = {"text": "x", "intent": {"name": intent}, "entities": entities or []}
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "x", "parse_data": message},
    ]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (new or {}).items()]
    return Tracker(
        sender_id=f"csat-{secrets.token_hex(6)}",
        slots={**slots, **(new or {})},
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": names.CSAT_FORM},
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


def test_scores_the_way_customers_give_them() -> None:
    typed = {
        "5": 5,
        "五": 5,
        "五分": 5,
        "打4分吧": 4,
        "三星": 3,
        "非常满意": 5,
        "满意": 4,
        "一般般": 3,
        "不太满意": 2,
        "很差": 1,
        "非常不满意，等太久了": 1,
        '/inform{"csat_score": 2}': 2,
        "１分": 1,
    }
    assert {text: parse_score(text) for text in typed} == typed
    assert parse_score(4) == 4
    assert parse_score("10分") == 0 and parse_score(9) == 0  # out of range
    assert parse_score("谢谢") is None and parse_score("好的") is None


def test_handback_thanks_and_remembers_the_escalation(domain) -> None:
    trigger = tracker({}, entities=[{"entity": "escalation_id", "value": 7}])
    events, messages = run(ActionHandback(), trigger, domain)
    assert responses(messages) == ["utter_handback"]
    slots = slot_values(events)
    assert slots[names.CSAT_ESCALATION_ID] == 7
    assert slots[names.CSAT_SCORE] is None


def test_the_form_reads_typed_scores(domain) -> None:
    asked = {names.CSAT_ESCALATION_ID: 7, names.REQUESTED_SLOT: names.CSAT_SCORE}
    for text, score in (("五分", 5), ("很差", 1), ("非常满意", 5)):
        events, messages = run(
            ValidateCsatForm(), tracker(asked, {names.CSAT_SCORE: text}), domain
        )
        # the only slot is filled: Rasa's form ends
        assert slot_values(events) == {names.CSAT_SCORE: score}
        assert messages == []

    # out of range: emptied, so the form asks again
    events, messages = run(
        ValidateCsatForm(), tracker(asked, {names.CSAT_SCORE: "10分"}), domain
    )
    assert slot_values(events) == {names.CSAT_SCORE: None}
    assert responses(messages) == ["utter_csat_invalid"]

    # something that is no score ends the survey instead of asking forever
    events, messages = run(
        ValidateCsatForm(), tracker(asked, {names.CSAT_SCORE: "不用了"}), domain
    )
    assert slot_values(events) == {names.CSAT_SCORE: SKIPPED}


def test_opening_the_form_is_no_answer(domain) -> None:
    # action_handback empties csat_score; the form validates it when it opens
    asked = {names.CSAT_ESCALATION_ID: 7, names.REQUESTED_SLOT: names.CSAT_SCORE}
    events, messages = run(
        ValidateCsatForm(), tracker(asked, {names.CSAT_SCORE: None}), domain
    )
    assert slot_values(events) == {names.CSAT_SCORE: None}
    assert messages == []


def test_a_complaint_without_a_score_is_left_to_its_rule(domain) -> None:
    asked = {names.CSAT_ESCALATION_ID: 7, names.REQUESTED_SLOT: names.CSAT_SCORE}
    angry = tracker(asked, {names.CSAT_SCORE: "理赔太慢了我要投诉"}, intent="complain")
    events, messages = run(ValidateCsatForm(), angry, domain)
    assert events[-1]["event"] == "action_execution_rejected"
    assert events[-1]["name"] == names.CSAT_FORM
    assert slot_values(events) == {names.CSAT_SCORE: None} and messages == []
    # "非常不满意" understood as a complaint is still a score
    scored = tracker(asked, {names.CSAT_SCORE: "非常不满意"}, intent="complain")
    events, _ = run(ValidateCsatForm(), scored, domain)
    assert slot_values(events) == {names.CSAT_SCORE: 1}


def test_without_an_escalation_there_is_nothing_to_ask(domain) -> None:
    events, _ = run(ValidateCsatForm(), tracker({}), domain)
    assert slot_values(events) == {names.REQUESTED_SLOT: None}


def _closed_escalation(crm: LiveCrm) -> int:
    """A bot conversation escalated and then closed (as a resolve would)."""
    headers = {"Authorization": f"Bearer {crm.token}"}
    base = f"{crm.url}/api/v1/service"
    with httpx.Client(headers=headers, timeout=10) as http:
        conversation = http.post(
            f"{base}/conversations",
            json={"channel": "rest", "external_id": f"csat-{secrets.token_hex(6)}"},
        ).json()
        escalation = http.post(
            f"{base}/escalations",
            json={
                "conversation_id": conversation["id"],
                "trigger": "customer_request",
                "reason": "客户主动要求转人工",
            },
        )
        escalation.raise_for_status()
        http.post(f"{base}/conversations/{conversation['id']}/close").raise_for_status()
        return int(escalation.json()["id"])


def _csat(crm: LiveCrm, escalation_id: int) -> Any:
    response = httpx.get(
        f"{crm.url}/api/v1/service/escalations/{escalation_id}",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["csat"]


def test_the_score_is_stored_once(domain, live_crm: LiveCrm) -> None:
    escalation_id = _closed_escalation(live_crm)
    done = tracker({names.CSAT_ESCALATION_ID: escalation_id, names.CSAT_SCORE: 4})
    events, messages = run(ActionSubmitCsat(), done, domain)
    assert responses(messages) == ["utter_csat_thanks"]
    assert slot_values(events) == {
        names.CSAT_SCORE: None,
        names.CSAT_ESCALATION_ID: None,
    }
    assert _csat(live_crm, escalation_id) == 4

    # a second score (a repeated button tap) is refused by the CRM: thanked anyway
    again = tracker({names.CSAT_ESCALATION_ID: escalation_id, names.CSAT_SCORE: 1})
    _, messages = run(ActionSubmitCsat(), again, domain)
    assert responses(messages) == ["utter_csat_thanks_low"]
    assert _csat(live_crm, escalation_id) == 4


def test_skipped_survey_stores_nothing(domain) -> None:
    skipped = tracker({names.CSAT_ESCALATION_ID: 99, names.CSAT_SCORE: SKIPPED})
    events, messages = run(ActionSubmitCsat(), skipped, domain)
    assert responses(messages) == ["utter_csat_skipped"]
    assert slot_values(events)[names.CSAT_ESCALATION_ID] is None


class _DownSubmit(ActionSubmitCsat):
    def crm_client(self) -> CrmClient:
        return CrmClient(f"http://127.0.0.1:{free_port()}")


def test_crm_down_still_thanks_the_customer(domain) -> None:
    done = tracker({names.CSAT_ESCALATION_ID: 5, names.CSAT_SCORE: 5})
    events, messages = run(_DownSubmit(), done, domain)
    assert responses(messages) == ["utter_csat_thanks"]
    assert slot_values(events)[names.CSAT_SCORE] is None
