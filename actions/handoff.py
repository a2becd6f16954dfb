"""Escalation to a person and the fallback that offers one (capability 5).

``escalate()`` is the one way any capability hands a conversation over: it asks
the CRM to escalate (trigger, Chinese reason, the slots collected, the message's
sentiment), tells the customer the CRM's notice, and pauses the Rasa conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ConversationPaused,
    FollowupAction,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import CrmAction, DomainDict, Events
from actions.crm.client import CrmClient
from actions.crm.errors import CrmError

logger = logging.getLogger(__name__)

# Rasa's channel as the CRM names it when the gateway did not tell us the
# conversation: the sender id is then the REST channel's user id.
REST_CHANNEL = "rest"
# Slots never sent with an escalation: secrets and Rasa's own bookkeeping.
PRIVATE_SLOTS = frozenset(
    {
        names.ID_LAST4,
        names.BIRTH_DATE,
        names.OTP_CODE,
        names.STEP_UP_TOKEN,
        names.DEBIT_ACCOUNT,
        names.SESSION_STARTED_METADATA,
        names.REQUESTED_SLOT,
        names.PENDING_ACTION,
        names.CONVERSATION_ID,
    }
)
# Actions that run inside every turn without answering the customer.
SILENT_ACTIONS = frozenset(
    {"action_listen", "action_extract_slots", "action_session_start"}
)
TRIGGER_REASONS = {
    "customer_request": "客户主动要求转人工",
    "nlu_failure": "连续两次未能理解客户的问题，客户同意转人工",
    "verification_failed": "身份核验多次失败，已锁定，需人工协助",
}


def mask_phone(phone: str | None) -> str | None:
    """138****5678 for a mainland mobile number (anything else is hidden)."""
    if not phone:
        return None
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def collected_slots(tracker: Tracker) -> dict[str, Any]:
    """What the bot collected, safe to show an agent (phone masked, no secrets)."""
    slots: dict[str, Any] = {}
    for key, value in tracker.slots.items():
        if key in PRIVATE_SLOTS or value is None or value == "" or value == []:
            continue
        slots[key] = mask_phone(value) if key == names.PHONE else value
    return slots


def message_sentiment(tracker: Tracker) -> float | None:
    """The latest message's sentiment score in [-1, 1], if the pipeline gave one."""
    value = (tracker.latest_message or {}).get("sentiment")
    if isinstance(value, Mapping):
        value = value.get("score")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return max(-1.0, min(1.0, float(value)))


def _metadata_conversation_id(tracker: Tracker) -> int | None:
    sources = [
        (tracker.latest_message or {}).get("metadata"),
        tracker.get_slot(names.SESSION_STARTED_METADATA),
    ]
    for metadata in sources:
        if isinstance(metadata, Mapping):
            value = metadata.get(names.META_CONVERSATION_ID)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
            if isinstance(value, str) and value.isdigit() and int(value) > 0:
                return int(value)
    return None


async def crm_conversation_id(crm: CrmClient, tracker: Tracker) -> tuple[int, Events]:
    """The CRM conversation of this Rasa sender, and the SlotSet that remembers it.

    The gateway's metadata names it; without a gateway (Rasa's REST channel) the
    CRM opens or reuses the conversation of channel "rest" and the sender id.
    """
    known = tracker.get_slot(names.CONVERSATION_ID)
    if known is not None:
        return int(known), []
    conversation_id = _metadata_conversation_id(tracker)
    if conversation_id is None:
        opened = await crm.open_conversation(
            channel=REST_CHANNEL, external_id=tracker.sender_id
        )
        conversation_id = opened.id
    return conversation_id, [SlotSet(names.CONVERSATION_ID, conversation_id)]


async def escalate(
    crm: CrmClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    trigger: str,
    reason: str,
    topic: str | None = None,
) -> Events:
    """Escalate to a person, tell the customer what happens next, pause the bot.

    When the CRM cannot take the escalation the customer gets an apology and
    another way to reach a person, and the bot stays in charge (no pause).
    """
    try:
        conversation_id, events = await crm_conversation_id(crm, tracker)
        escalation = await crm.escalate(
            conversation_id=conversation_id,
            trigger=trigger,
            reason=reason,
            slots=collected_slots(tracker),
            sentiment=message_sentiment(tracker),
            topic=topic,
        )
    except CrmError as exc:
        logger.warning("escalation (%s) failed: %s", trigger, exc)
        dispatcher.utter_message(response="utter_handoff_unavailable")
        return []
    dispatcher.utter_message(text=escalation.notice)
    return [*events, SlotSet(names.FALLBACK_COUNT, 0), ConversationPaused()]


def _answered_action(events: list[dict[str, Any]], start: int) -> str | None:
    """The first action after events[start] that spoke for the bot (or None)."""
    for event in events[start + 1 :]:
        kind = event.get("event")
        if kind == "user":
            return None
        if kind == "action" and event.get("name") not in SILENT_ACTIONS:
            return str(event.get("name"))
    return None


def _user_indices(tracker: Tracker) -> list[int]:
    """Positions of the user messages of the current session, oldest first."""
    indices: list[int] = []
    for index, event in enumerate(tracker.events):
        if event.get("event") == "session_started":
            indices = []
        elif event.get("event") == "user":
            indices.append(index)
    return indices


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many user messages in a row, before the latest one, the bot missed.

    Derived from the event history (which includes reverted turns), so any
    understood message resets it without bookkeeping.
    """
    count = 0
    for index in reversed(_user_indices(tracker)[:-1]):
        if _answered_action(tracker.events, index) != names.ACTION_DEFAULT_FALLBACK:
            break
        count += 1
    return count


def previous_turn_was_fallback(tracker: Tracker) -> bool:
    """True when the bot's answer to the previous message was the fallback."""
    indices = _user_indices(tracker)
    if len(indices) < 2:
        return False
    answered = _answered_action(tracker.events, indices[-2])
    return answered == names.ACTION_DEFAULT_FALLBACK


def already_answered(tracker: Tracker) -> bool:
    """True when an action already answered the latest user message."""
    indices = _user_indices(tracker)
    return bool(indices) and _answered_action(tracker.events, indices[-1]) not in (
        None,
        names.ACTION_DEFAULT_FALLBACK,
    )


class ActionHandoff(CrmAction):
    """The customer asked for a person (or accepted the offer of one)."""

    def name(self) -> str:
        """The action's name in the domain."""
        return names.ACTION_HANDOFF

    async def run_with_crm(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Escalate: nlu_failure if the offered person was accepted, else a request."""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        accepted_offer = intent == "affirm" and previous_turn_was_fallback(tracker)
        trigger = "nlu_failure" if accepted_offer else "customer_request"
        return await escalate(
            crm, dispatcher, tracker, trigger=trigger, reason=TRIGGER_REASONS[trigger]
        )


class ActionDefaultFallback(Action):
    """Rephrase once; after two misunderstandings in a row, offer a person."""

    def name(self) -> str:
        """Replaces Rasa's built-in fallback."""
        return names.ACTION_DEFAULT_FALLBACK

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Ask to rephrase (and forget the turn), or offer a person and listen."""
        if already_answered(tracker):
            # low dialogue confidence after the bot already answered this turn:
            # saying "I did not understand" now would be wrong; just listen.
            return [FollowupAction("action_listen")]
        count = consecutive_fallbacks(tracker) + 1
        if count < 2:
            dispatcher.utter_message(response=names.UTTER_REPHRASE)
            # forget the misunderstood message so it does not steer the dialogue
            return [UserUtteranceReverted(), SlotSet(names.FALLBACK_COUNT, count)]
        dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN_BUTTONS)
        return [SlotSet(names.FALLBACK_COUNT, count), FollowupAction("action_listen")]
