"""Session start: carry slots over and take a verified identity from the gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import DomainDict, Events


def _customer_id(value: Any) -> int | None:
    """A positive integer id from metadata (JSON may carry it as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None


def identity_from_metadata(metadata: Any) -> int | None:
    """The customer id when the gateway vouches for it (``verified: true``)."""
    if (
        not isinstance(metadata, Mapping)
        or metadata.get(names.META_VERIFIED) is not True
    ):
        return None
    return _customer_id(metadata.get(names.META_CUSTOMER_ID))


def carry_over_slots(tracker: Tracker, domain: DomainDict) -> Events:
    """SlotSet events for every slot that has a value, unless the domain says not to."""
    session_config = domain.get("session_config") or {}
    if not session_config.get("carry_over_slots_to_new_session", True):
        return []
    return [
        SlotSet(key, value) for key, value in tracker.slots.items() if value is not None
    ]


class ActionSessionStart(Action):
    """Start a session; a customer the gateway has verified starts verified."""

    def name(self) -> str:
        """Rasa's reserved name: this replaces the built-in session start."""
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """SessionStarted, carried-over slots, identity from metadata, then listen."""
        events: Events = [SessionStarted()]
        events.extend(carry_over_slots(tracker, domain))
        metadata = tracker.get_slot(names.SESSION_STARTED_METADATA)
        customer_id = identity_from_metadata(metadata)
        if customer_id is not None:
            events.append(SlotSet(names.CUSTOMER_ID, customer_id))
            events.append(SlotSet(names.VERIFIED, True))
        events.append(ActionExecuted("action_listen"))
        return events
