"""Session start: carry slots over, take a verified identity from the gateway, and
tell a known customer what happened to their complaints while they were away.

Ticket notices the CRM could not push to an open chat (crm_backend/tickets/
delivery.py) wait for the customer; the bot tells them at the start of the next
session of a known customer, or right after a verification (actions/identity.py),
and marks them delivered on the conversation's channel. A CRM failure there is
logged and the session goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import DomainDict, Events
from actions.crm.client import CrmClient
from actions.crm.errors import CrmError

logger = logging.getLogger(__name__)
UTTER_COMPLAINT_NOTICES = "utter_complaint_notices"


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


def conversation_channel(tracker: Tracker) -> str | None:
    """The channel the gateway named (web, wechat), from this or the session's
    first message; None without a gateway."""
    for metadata in (
        (tracker.latest_message or {}).get("metadata"),
        tracker.get_slot(names.SESSION_STARTED_METADATA),
    ):
        if isinstance(metadata, Mapping) and metadata.get(names.META_CHANNEL):
            return str(metadata[names.META_CHANNEL])
    return None


async def tell_pending_notices(
    crm: CrmClient,
    dispatcher: CollectingDispatcher,
    *,
    customer_id: int,
    channel: str | None,
) -> int:
    """Say the ticket notices the customer has not heard, in one message, and mark
    each delivered; how many. CRM failures are logged, never raised."""
    try:
        notices = await crm.pending_notices(customer_id)
    except CrmError as exc:
        logger.warning("pending notices of customer %s not read: %s", customer_id, exc)
        return 0
    if not notices:
        return 0
    dispatcher.utter_message(
        response=UTTER_COMPLAINT_NOTICES,
        notices="\n".join(notice.text for notice in notices),
    )
    for notice in notices:
        try:
            await crm.mark_notice_delivered(
                customer_id=customer_id, notice_id=notice.id, channel=channel
            )
        except CrmError as exc:
            logger.warning("notice %s not marked delivered: %s", notice.id, exc)
    return len(notices)


class ActionSessionStart(Action):
    """Start a session; a customer the gateway has verified starts verified."""

    def name(self) -> str:
        """Rasa's reserved name: this replaces the built-in session start."""
        return "action_session_start"

    def crm_client(self) -> CrmClient:
        """A CRM client configured from the environment; tests override this."""
        return CrmClient.from_env()

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """SessionStarted, carried-over slots, identity from metadata, the notices
        a known customer missed, then listen."""
        events: Events = [SessionStarted()]
        carried = carry_over_slots(tracker, domain)
        events.extend(carried)
        metadata = tracker.get_slot(names.SESSION_STARTED_METADATA)
        customer_id = identity_from_metadata(metadata)
        if customer_id is not None:
            events.append(SlotSet(names.CUSTOMER_ID, customer_id))
            events.append(SlotSet(names.VERIFIED, True))
        else:
            customer_id = _carried_customer(carried)
        if customer_id is not None:
            try:
                async with self.crm_client() as crm:
                    await tell_pending_notices(
                        crm,
                        dispatcher,
                        customer_id=customer_id,
                        channel=conversation_channel(tracker),
                    )
            except Exception:  # the session must start whatever the CRM does
                logger.exception("pending notices not told at session start")
        events.append(ActionExecuted("action_listen"))
        return events


def _carried_customer(carried: Events) -> int | None:
    """The verified customer a carried-over session still has."""
    slots = {e["name"]: e["value"] for e in carried if e.get("event") == "slot"}
    if slots.get(names.VERIFIED) is not True:
        return None
    return _customer_id(slots.get(names.CUSTOMER_ID))
