"""Identity verification (capability 1).

identity_form asks for phone + ID last 4 (or policy number + birth date);
validate_identity_form checks the formats and, once a pair is complete, asks the
CRM. The CRM counts failures (per phone and per conversation) and locks; a lock
hands the customer to a person. Changes of contact data or bank details need a
one-time code on top (actions/step_up.py). A customer just verified hears the
ticket notices they missed (actions/session.py).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import names
from actions.common.base import DomainDict, Events
from actions.crm.client import CrmClient
from actions.crm.errors import CrmError
from actions.crm.identity import VerifyResult
from actions.handoff import crm_conversation_id, escalate
from actions.identity_parse import (
    parse_birth_date,
    parse_id_last4,
    parse_phone,
    parse_policy_number,
)
from actions.session import conversation_channel, tell_pending_notices

logger = logging.getLogger(__name__)

PHONE_PAIR = [names.PHONE, names.ID_LAST4]
POLICY_PAIR = [names.POLICY_NUMBER, names.BIRTH_DATE]
LOCKED_REASON = "身份核验多次失败，已锁定，需人工协助"


def _crm_failed(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response=names.UTTER_CRM_UNAVAILABLE)
    dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)


class ValidateIdentityForm(FormValidationAction):
    """Format checks for identity_form, then the CRM's verdict on a full pair."""

    def name(self) -> str:
        """The form's validation action."""
        return names.VALIDATE_IDENTITY_FORM

    def crm_client(self) -> CrmClient:
        """A CRM client configured from the environment; tests override this."""
        return CrmClient.from_env()

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Phone + ID last 4, unless the customer chose policy number + birth date."""
        if tracker.get_slot(names.POLICY_NUMBER) and not tracker.get_slot(names.PHONE):
            return list(POLICY_PAIR)
        return list(PHONE_PAIR)

    async def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, _: Any
    ) -> dict[str, Any]:
        """A mainland mobile number; a policy number switches the method."""
        phone = parse_phone(value)
        if phone:
            return {names.PHONE: phone}
        policy = parse_policy_number(value)
        if policy:
            return {names.PHONE: None, names.POLICY_NUMBER: policy}
        dispatcher.utter_message(response="utter_invalid_phone")
        return {names.PHONE: None}

    async def validate_id_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, _: Any
    ) -> dict[str, Any]:
        """Four characters: digits, the last may be X (a whole ID number is cut)."""
        last4 = parse_id_last4(value)
        if last4:
            return {names.ID_LAST4: last4}
        if parse_phone(value):
            # "手机号说错了，是138…": a correction of the phone (taken from its
            # entity); ask for the ID digits again without calling this wrong
            return {names.ID_LAST4: None}
        dispatcher.utter_message(response="utter_invalid_id_last4")
        return {names.ID_LAST4: None}

    async def validate_policy_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, _: Any
    ) -> dict[str, Any]:
        """A policy number such as P4400000000003."""
        policy = parse_policy_number(value)
        if policy:
            return {names.POLICY_NUMBER: policy}
        dispatcher.utter_message(response="utter_invalid_policy_number")
        return {names.POLICY_NUMBER: None}

    async def validate_birth_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, _: Any
    ) -> dict[str, Any]:
        """A birth date in any common shape, stored as ISO 1986-04-12."""
        born = parse_birth_date(value)
        if born:
            return {names.BIRTH_DATE: born.isoformat()}
        dispatcher.utter_message(response="utter_invalid_birth_date")
        return {names.BIRTH_DATE: None}

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Validate what was given; with a complete pair, verify with the CRM."""
        if tracker.get_slot(names.VERIFIED) is True:
            # once verified the conversation stays verified: never ask again
            return [SlotSet(names.REQUESTED_SLOT, None)]
        events = await super().run(dispatcher, tracker, domain)
        slots = dict(tracker.slots)
        for event in events:
            if event.get("event") == "slot":
                slots[event["name"]] = event.get("value")
        pair = PHONE_PAIR if slots.get(names.PHONE) else POLICY_PAIR
        if not all(slots.get(name) for name in pair):
            return events
        try:
            async with self.crm_client() as crm:
                return events + await self._verify(crm, dispatcher, tracker, slots)
        except CrmError as exc:
            logger.warning("identity verification failed: %s", exc)
            _crm_failed(dispatcher)
            return events + [
                *(SlotSet(name, None) for name in PHONE_PAIR + POLICY_PAIR),
                SlotSet(names.REQUESTED_SLOT, None),
            ]

    async def _verify(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slots: dict[str, Any],
    ) -> Events:
        conversation_id, events = await crm_conversation_id(crm, tracker)
        if slots.get(names.PHONE):
            pair = PHONE_PAIR
            result = await crm.verify_phone_id(
                phone=slots[names.PHONE],
                id_last4=slots[names.ID_LAST4],
                conversation_id=conversation_id,
            )
        else:
            pair = POLICY_PAIR
            born = parse_birth_date(slots[names.BIRTH_DATE])
            assert born is not None  # validated above
            result = await crm.verify_policy_birth(
                policy_no=slots[names.POLICY_NUMBER],
                birth_date=born,
                conversation_id=conversation_id,
            )
        return events + await self._answer(crm, dispatcher, tracker, result, pair)

    async def _answer(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        result: VerifyResult,
        pair: list[str],
    ) -> Events:
        secrets = [SlotSet(names.ID_LAST4, None), SlotSet(names.BIRTH_DATE, None)]
        if result.verified and result.customer is not None:
            dispatcher.utter_message(
                response="utter_verified", salutation=result.customer.salutation
            )
            # what happened to their complaints while they were away
            await tell_pending_notices(
                crm,
                dispatcher,
                customer_id=result.customer.id,
                channel=conversation_channel(tracker),
            )
            return [
                SlotSet(names.CUSTOMER_ID, result.customer.id),
                SlotSet(names.VERIFIED, True),
                *secrets,
                SlotSet(names.REQUESTED_SLOT, None),
            ]
        if result.locked or result.attempts_left <= 0:
            dispatcher.utter_message(response="utter_verification_locked")
            handed_over = await escalate(
                crm,
                dispatcher,
                tracker,
                trigger="verification_failed",
                reason=LOCKED_REASON,
            )
            return [
                *(SlotSet(name, None) for name in PHONE_PAIR + POLICY_PAIR),
                SlotSet(names.REQUESTED_SLOT, None),
                *handed_over,
            ]
        dispatcher.utter_message(
            response="utter_verification_failed", attempts_left=result.attempts_left
        )
        # ask the whole pair again: we cannot tell which half was wrong
        return [SlotSet(name, None) for name in pair] + [
            SlotSet(names.REQUESTED_SLOT, pair[0])
        ]


class ActionIdentityVerified(Action):
    """After identity_form: run what the customer asked for, or ask how to help."""

    def name(self) -> str:
        """The form's submit action."""
        return names.ACTION_IDENTITY_VERIFIED

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Follow up with the pending action once verified; nothing otherwise."""
        if tracker.get_slot(names.VERIFIED) is not True:
            # locked (handed over) or the CRM failed: the customer was told
            return [SlotSet(names.PENDING_ACTION, None)]
        pending = tracker.get_slot(names.PENDING_ACTION)
        if pending:
            return [SlotSet(names.PENDING_ACTION, None), FollowupAction(str(pending))]
        dispatcher.utter_message(response=names.UTTER_ASK_HOW_TO_HELP)
        return []
