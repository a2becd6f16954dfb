"""action_session_start: carried-over slots, identity from the gateway's metadata,
and the ticket notices a known customer missed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.crm.client import CrmClient
from actions.session import (
    UTTER_COMPLAINT_NOTICES,
    ActionSessionStart,
    identity_from_metadata,
)
from tests.actions.rasa_env.helpers import load_domain, make_tracker
from tests.live_crm import LiveCrm
from tests.ports import free_port


class _CrmDown(ActionSessionStart):
    def crm_client(self) -> CrmClient:
        return CrmClient(f"http://127.0.0.1:{free_port()}")


def _start(
    slots: dict[str, Any],
    domain: dict[str, Any] | None = None,
    action: ActionSessionStart | None = None,
) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    """Run the session start; without ``action``, one whose CRM is down (the
    notices are tested against the live CRM below)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        (action or _CrmDown()).run(
            dispatcher, make_tracker(slots), domain if domain else load_domain()
        )
    )
    return events, dispatcher


def test_name_replaces_the_builtin_session_start() -> None:
    assert ActionSessionStart().name() == "action_session_start"


def test_without_metadata_starts_a_bare_session() -> None:
    events, dispatcher = _start({names.CUSTOMER_ID: None, names.VERIFIED: None})
    assert events == [SessionStarted(), ActionExecuted("action_listen")]
    assert dispatcher.messages == []


def test_verified_metadata_sets_customer_and_verified() -> None:
    metadata = {"channel": "wechat", "customer_id": 42, "verified": True}
    events, _ = _start({names.SESSION_STARTED_METADATA: metadata})
    assert events[0] == SessionStarted()
    assert events[-1] == ActionExecuted("action_listen")
    assert SlotSet(names.CUSTOMER_ID, 42) in events
    assert SlotSet(names.VERIFIED, True) in events
    # the identity comes after the carried-over slots, so it wins over old values
    assert events.index(SlotSet(names.CUSTOMER_ID, 42)) > events.index(
        SlotSet(names.SESSION_STARTED_METADATA, metadata)
    )


def test_slots_are_carried_over() -> None:
    events, _ = _start({names.CUSTOMER_ID: 5, names.VERIFIED: True, "other": None})
    assert events == [
        SessionStarted(),
        SlotSet(names.CUSTOMER_ID, 5),
        SlotSet(names.VERIFIED, True),
        ActionExecuted("action_listen"),
    ]


def test_no_carry_over_when_the_domain_says_so() -> None:
    domain = {"session_config": {"carry_over_slots_to_new_session": False}}
    events, _ = _start({names.CUSTOMER_ID: 5, names.VERIFIED: True}, domain)
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"customer_id": 42, "verified": True}, 42),
        ({"customer_id": "42", "verified": True}, 42),
        ({"customer_id": 42, "verified": False}, None),
        ({"customer_id": 42, "verified": "true"}, None),
        ({"customer_id": 42}, None),
        ({"verified": True}, None),
        ({"customer_id": True, "verified": True}, None),
        ({"customer_id": 0, "verified": True}, None),
        ({"customer_id": "abc", "verified": True}, None),
        (None, None),
        ("customer_id=42", None),
    ],
)
def test_identity_from_metadata(metadata: Any, expected: int | None) -> None:
    assert identity_from_metadata(metadata) == expected


def test_unverified_metadata_sets_nothing() -> None:
    metadata = {"customer_id": 42, "verified": False}
    events, _ = _start({names.SESSION_STARTED_METADATA: metadata})
    assert events == [
        SessionStarted(),
        SlotSet(names.SESSION_STARTED_METADATA, metadata),
        ActionExecuted("action_listen"),
    ]


def test_domain_declares_the_slots_and_responses_actions_use() -> None:
    domain = load_domain()
    for slot in (names.CUSTOMER_ID, names.VERIFIED):
        assert domain["slots"][slot]["influence_conversation"] is False
        assert domain["slots"][slot]["mappings"] == [{"type": "custom"}]
    for response in (
        names.UTTER_CRM_UNAVAILABLE,
        names.UTTER_OFFER_HUMAN,
    ):
        assert domain["responses"][response][0]["text"]
    assert "action_session_start" in domain["actions"]
    assert domain["session_config"] == {
        "session_expiration_time": 60,
        "carry_over_slots_to_new_session": True,
    }


# ---- ticket notices the customer missed -------------------------------------------

SUPERVISOR = ("KN1031", "demo1234")  # 曹丽华, may act on every ticket


def leave_notices(
    crm: LiveCrm, customer_id: int, *verbs: tuple[str, dict[str, Any]]
) -> str:
    """Open a complaint for the customer and run agent verbs on it (each leaves a
    pending notice); the ticket number."""
    service = {"Authorization": f"Bearer {crm.token}"}
    with httpx.Client(base_url=f"{crm.url}/api/v1", timeout=15) as http:
        opened = http.post(
            "/service/tickets",
            json={
                "customer_id": customer_id,
                "category": "billing",
                "description": "上个月被重复扣费了",
                "channel": "web",
            },
            headers=service,
        )
        assert opened.status_code == 201, opened.text
        ticket_no = str(opened.json()["ticket_no"])
        employee_no, password = SUPERVISOR
        login = http.post(
            "/agent/auth/login", json={"employee_no": employee_no, "password": password}
        )
        agent = {"Authorization": f"Bearer {login.json()['token']}"}
        found = http.get("/agent/tickets", params={"limit": 200}, headers=agent).json()[
            "items"
        ]
        ticket_id = next(t["id"] for t in found if t["ticket_no"] == ticket_no)
        for verb, body in verbs:
            done = http.post(
                f"/agent/tickets/{ticket_id}/{verb}", json=body, headers=agent
            )
            assert done.status_code == 200, done.text
    return ticket_no


def notices_of(crm: LiveCrm, customer_id: int) -> list[dict[str, Any]]:
    """Every notice of the customer, oldest first."""
    response = httpx.get(
        f"{crm.url}/api/v1/service/customers/{customer_id}/notices",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json()["items"])


def test_a_known_customer_hears_the_notices_missed(live_crm: LiveCrm) -> None:
    customer_id = 27
    ticket_no = leave_notices(
        live_crm,
        customer_id,
        ("acknowledge", {"note": "已转财务核实"}),
        (
            "resolve",
            {"outcome": "重复扣款已退回", "remedy": "refund", "refund_fen": 35600},
        ),
    )
    metadata = {"channel": "wechat", "customer_id": customer_id, "verified": True}
    live = ActionSessionStart()
    events, dispatcher = _start({names.SESSION_STARTED_METADATA: metadata}, None, live)
    assert SlotSet(names.CUSTOMER_ID, customer_id) in events
    assert events[-1] == ActionExecuted("action_listen")
    [told] = dispatcher.messages
    assert told["response"] == UTTER_COMPLAINT_NOTICES
    acknowledged, resolved = told["notices"].split("\n")
    assert acknowledged.startswith(f"您的投诉 {ticket_no} 已于")
    assert acknowledged.endswith("确认受理：已转财务核实")
    assert "处理完毕：重复扣款已退回（退款 ¥356.00）" in resolved
    assert (
        "在您离开期间，您的投诉有了新进展"
        in load_domain()["responses"][UTTER_COMPLAINT_NOTICES][0]["text"]
    )
    stored = notices_of(live_crm, customer_id)
    assert [n["channel"] for n in stored] == ["wechat", "wechat"]
    assert all(n["delivered_at"] for n in stored)

    # told once: the next session has nothing to say
    _, again = _start({names.SESSION_STARTED_METADATA: metadata}, None, live)
    assert again.messages == []


def test_a_verified_session_carried_over_hears_them_too(live_crm: LiveCrm) -> None:
    customer_id = 26
    leave_notices(live_crm, customer_id, ("acknowledge", {}))
    _, dispatcher = _start(
        {names.CUSTOMER_ID: customer_id, names.VERIFIED: True},
        None,
        ActionSessionStart(),
    )
    assert [m["response"] for m in dispatcher.messages] == [UTTER_COMPLAINT_NOTICES]
    assert "专人正在跟进" in dispatcher.messages[0]["notices"]
    [notice] = notices_of(live_crm, customer_id)
    assert notice["delivered_at"] and notice["channel"] == "web"  # the ticket's


def test_the_session_starts_when_the_crm_is_down() -> None:
    metadata = {"channel": "web", "customer_id": 27, "verified": True}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        _CrmDown().run(
            dispatcher,
            make_tracker({names.SESSION_STARTED_METADATA: metadata}),
            load_domain(),
        )
    )
    assert events[0] == SessionStarted() and events[-1] == ActionExecuted(
        "action_listen"
    )
    assert SlotSet(names.VERIFIED, True) in events
    assert dispatcher.messages == []
