"""action_session_start: carried-over slots and identity from the gateway's metadata."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.session import ActionSessionStart, identity_from_metadata
from tests.actions.rasa_env.helpers import load_domain, make_tracker


def _start(
    slots: dict[str, Any], domain: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionSessionStart().run(
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
