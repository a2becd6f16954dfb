"""Identity verification, step-up and the contact change it guards (capability 1).

identity_form asks for phone + ID last 4 (or policy number + birth date);
validate_identity_form checks the formats and, once a pair is complete, asks the
CRM. The CRM counts failures (per phone and per conversation) and locks; a lock
hands the customer to a person. Contact changes need a one-time code (step_up_form).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.common import names
from actions.common.base import DomainDict, Events, VerifiedCrmAction
from actions.crm.client import CrmClient
from actions.crm.errors import CrmError
from actions.crm.identity import VerifyResult
from actions.handoff import crm_conversation_id, escalate, mask_phone
from actions.identity_parse import (
    contact_field_of,
    mask_address,
    mask_email,
    parse_birth_date,
    parse_code,
    parse_email,
    parse_id_last4,
    parse_phone,
    parse_policy_number,
)

logger = logging.getLogger(__name__)

PHONE_PAIR = [names.PHONE, names.ID_LAST4]
POLICY_PAIR = [names.POLICY_NUMBER, names.BIRTH_DATE]
FIELD_LABELS = {"phone": "手机号", "email": "邮箱", "address": "联系地址"}
LOCKED_REASON = "身份核验多次失败，已锁定，需人工协助"
STEP_UP_LOCKED_REASON = "修改联系方式时验证码多次错误，需人工协助"
# what otp_code holds once the CRM accepted the code (the code itself is not kept)
CODE_ACCEPTED = "accepted"


def _crm_failed(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response=names.UTTER_CRM_UNAVAILABLE)
    dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)


# what to say when a new contact value has the wrong shape, by field
INVALID_CONTACT = {
    "phone": "utter_invalid_contact_phone",
    "email": "utter_invalid_contact_email",
    "address": "utter_invalid_contact_address",
}


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


class ActionStartUpdateContact(VerifiedCrmAction):
    """update_contact: for a verified customer, send a code and start step_up_form."""

    def name(self) -> str:
        """The action's name in the domain."""
        return names.ACTION_START_UPDATE_CONTACT

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Ask the CRM to send a one-time code to the phone on file."""
        conversation_id, events = await crm_conversation_id(crm, tracker)
        sent = await crm.request_step_up(
            customer_id=customer_id,
            purpose="update_contact",
            conversation_id=conversation_id,
        )
        dispatcher.utter_message(
            response="utter_step_up_sent",
            recipient=sent.recipient_masked or "您预留的手机",
        )
        field = contact_field_of((tracker.latest_message or {}).get("text"))
        return [
            *events,
            SlotSet(names.OTP_CODE, None),
            SlotSet(names.STEP_UP_TOKEN, None),
            SlotSet(names.CONTACT_FIELD, field),
            SlotSet(names.CONTACT_VALUE, None),
            FollowupAction(names.STEP_UP_FORM),
        ]


class ValidateStepUpForm(FormValidationAction):
    """The code first (checked by the CRM), then which field and its new value."""

    def name(self) -> str:
        """The form's validation action."""
        return names.VALIDATE_STEP_UP_FORM

    def crm_client(self) -> CrmClient:
        """A CRM client configured from the environment; tests override this."""
        return CrmClient.from_env()

    async def validate_otp_code(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Digits only here; run() has the CRM check them."""
        if value == CODE_ACCEPTED and tracker.get_slot(names.STEP_UP_TOKEN):
            return {names.OTP_CODE: value}
        code = parse_code(value)
        if not code:
            dispatcher.utter_message(response="utter_invalid_code")
        return {names.OTP_CODE: code}

    async def validate_contact_field(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """phone, email or address (a value given right away is kept too)."""
        if value in FIELD_LABELS:
            return {names.CONTACT_FIELD: value}
        field = contact_field_of(value)
        if field is None:
            dispatcher.utter_message(response="utter_ask_contact_field")
            return {names.CONTACT_FIELD: None}
        slots: dict[str, Any] = {names.CONTACT_FIELD: field}
        new_value = _contact_value(field, value)
        if new_value and tracker.get_slot(names.CONTACT_VALUE) is None:
            slots[names.CONTACT_VALUE] = new_value
        return slots

    async def validate_contact_value(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The new value in the right shape for the field."""
        field = tracker.get_slot(names.CONTACT_FIELD) or contact_field_of(value)
        new_value = _contact_value(field, value) if field else None
        if new_value:
            return {names.CONTACT_FIELD: field, names.CONTACT_VALUE: new_value}
        dispatcher.utter_message(
            response=INVALID_CONTACT.get(field or "", "utter_invalid_contact_value")
        )
        return {names.CONTACT_VALUE: None}

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Validate; a new code goes to the CRM (a dead one hands over to a person)."""
        events = await super().run(dispatcher, tracker, domain)
        code = next(
            (
                e.get("value")
                for e in reversed(events)
                if e.get("event") == "slot" and e.get("name") == names.OTP_CODE
            ),
            None,
        )
        if not code or code == CODE_ACCEPTED:
            return events
        try:
            async with self.crm_client() as crm:
                return events + await self._check_code(crm, dispatcher, tracker, code)
        except CrmError as exc:
            logger.warning("step-up check failed: %s", exc)
            _crm_failed(dispatcher)
            return events + [
                SlotSet(names.OTP_CODE, None),
                SlotSet(names.REQUESTED_SLOT, None),
            ]

    async def _check_code(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        code: str,
    ) -> Events:
        conversation_id, events = await crm_conversation_id(crm, tracker)
        result = await crm.verify_step_up(
            customer_id=int(tracker.get_slot(names.CUSTOMER_ID)),
            code=code,
            conversation_id=conversation_id,
        )
        if result.verified and result.token:
            dispatcher.utter_message(response="utter_step_up_ok")
            return events + [
                SlotSet(names.OTP_CODE, CODE_ACCEPTED),
                SlotSet(names.STEP_UP_TOKEN, result.token),
            ]
        if result.locked or result.expired or result.attempts_left <= 0:
            dispatcher.utter_message(response="utter_step_up_locked")
            handed_over = await escalate(
                crm,
                dispatcher,
                tracker,
                trigger="verification_failed",
                reason=STEP_UP_LOCKED_REASON,
            )
            return [
                *events,
                SlotSet(names.OTP_CODE, None),
                SlotSet(names.REQUESTED_SLOT, None),
                *handed_over,
            ]
        dispatcher.utter_message(
            response="utter_step_up_wrong", attempts_left=result.attempts_left
        )
        return events + [
            SlotSet(names.OTP_CODE, None),
            SlotSet(names.REQUESTED_SLOT, names.OTP_CODE),
        ]


def _contact_value(field: str, text: Any) -> str | None:
    """The new phone / email / address in ``text``, normalised, or None."""
    if not isinstance(text, str):
        return None
    if field == "phone":
        return parse_phone(text)
    if field == "email":
        return parse_email(text)
    address = text.strip()
    for prefix in ("新地址是", "新地址", "地址改成", "改成", "地址是", "地址："):
        if address.startswith(prefix):
            address = address[len(prefix) :].strip(" ：:，,")
    return (
        address
        if 4 <= len(address) <= 256
        and any(ch in address for ch in "省市区县路街号镇村道")
        else None
    )


class ActionUpdateContact(VerifiedCrmAction):
    """After step_up_form: change the contact field with the step-up token."""

    def name(self) -> str:
        """The form's submit action."""
        return names.ACTION_UPDATE_CONTACT

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Send the change; confirm it with masked values."""
        token = tracker.get_slot(names.STEP_UP_TOKEN)
        field = tracker.get_slot(names.CONTACT_FIELD)
        value = tracker.get_slot(names.CONTACT_VALUE)
        cleared = [
            SlotSet(names.OTP_CODE, None),
            SlotSet(names.STEP_UP_TOKEN, None),
            SlotSet(names.CONTACT_FIELD, None),
            SlotSet(names.CONTACT_VALUE, None),
        ]
        if not token or field not in FIELD_LABELS or not value:
            # the code check failed or the CRM was down: the customer was told
            return cleared
        try:
            await crm.update_contact(
                customer_id=customer_id, step_up_token=token, **{field: value}
            )
        except CrmError as exc:
            if exc.status_code not in (403, 422):
                raise
            logger.info("contact update refused: %s", exc)
            dispatcher.utter_message(response="utter_contact_update_refused")
            return cleared
        masked = {"phone": mask_phone, "email": mask_email, "address": mask_address}
        dispatcher.utter_message(
            response="utter_contact_updated",
            field=FIELD_LABELS[field],
            value=masked[field](value),
        )
        return cleared
