"""Step-up (a one-time code) and the changes it guards (capabilities 1 and 3).

step_up_form asks for the code the CRM sent to the phone on file and has the CRM
check it; ``step_up_purpose`` says what the code authorises and so which slots the
form asks next: the contact field and its new value (``update_contact``,
action_update_contact) or the policy, bank and card number (``change_bank``,
actions/debit_card.py). A dead code hands the customer to a person.
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
from actions.debit_card import CARD_SLOTS, DebitCardSlots
from actions.handoff import crm_conversation_id, escalate, mask_phone
from actions.identity_parse import (
    contact_field_of,
    mask_address,
    mask_email,
    parse_code,
    parse_email,
    parse_phone,
)
from actions.payment import latest_text

logger = logging.getLogger(__name__)

FIELD_LABELS = {"phone": "手机号", "email": "邮箱", "address": "联系地址"}
CONTACT_SLOTS = (names.CONTACT_FIELD, names.CONTACT_VALUE)
LOCKED_REASONS = {
    names.PURPOSE_UPDATE_CONTACT: "修改联系方式时验证码多次错误，需人工协助",
    names.PURPOSE_CHANGE_BANK: "更换扣款银行卡时验证码多次错误，需人工协助",
}
# what otp_code holds once the CRM accepted the code (the code itself is not kept)
CODE_ACCEPTED = "accepted"
# what to say when a new contact value has the wrong shape, by field
INVALID_CONTACT = {
    "phone": "utter_invalid_contact_phone",
    "email": "utter_invalid_contact_email",
    "address": "utter_invalid_contact_address",
}


def _crm_failed(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response=names.UTTER_CRM_UNAVAILABLE)
    dispatcher.utter_message(response=names.UTTER_OFFER_HUMAN)


def purpose_of(tracker: Tracker) -> str:
    """What the step-up authorises (a contact change unless said otherwise)."""
    purpose = tracker.get_slot(names.STEP_UP_PURPOSE)
    return str(purpose) if purpose in LOCKED_REASONS else names.PURPOSE_UPDATE_CONTACT


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
            purpose=names.PURPOSE_UPDATE_CONTACT,
            conversation_id=conversation_id,
        )
        dispatcher.utter_message(
            response="utter_step_up_sent",
            recipient=sent.recipient_masked or "您预留的手机",
        )
        # the request itself, not the ID digits of a verification on the way
        field = contact_field_of(latest_text(tracker, ("update_contact",)))
        return [
            *events,
            SlotSet(names.STEP_UP_PURPOSE, names.PURPOSE_UPDATE_CONTACT),
            SlotSet(names.OTP_CODE, None),
            SlotSet(names.STEP_UP_TOKEN, None),
            SlotSet(names.CONTACT_FIELD, field),
            SlotSet(names.CONTACT_VALUE, None),
            FollowupAction(names.STEP_UP_FORM),
        ]


class ValidateStepUpForm(DebitCardSlots, FormValidationAction):
    """The code first (checked by the CRM), then the slots of the step-up purpose."""

    def name(self) -> str:
        """The form's validation action."""
        return names.VALIDATE_STEP_UP_FORM

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
        """The code, then the contact field and value, or the card's three slots."""
        if purpose_of(tracker) == names.PURPOSE_CHANGE_BANK:
            return [names.OTP_CODE, *CARD_SLOTS]
        return [names.OTP_CODE, *CONTACT_SLOTS]

    async def validate_otp_code(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Digits only here; run() has the CRM check them."""
        if value is None:  # emptied by the action that opened the form
            return {names.OTP_CODE: None}
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
        if value is None:  # emptied by the action that opened the form
            return {names.CONTACT_FIELD: None}
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
        if value is None:  # emptied by the action that opened the form
            return {names.CONTACT_VALUE: None}
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
                reason=LOCKED_REASONS[purpose_of(tracker)],
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
            SlotSet(names.STEP_UP_PURPOSE, None),
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


class ActionStepUpCancel(Action):
    """The customer called off a step-up change (算了): nothing is changed."""

    def name(self) -> str:
        """Runs after step_up_form is deactivated by a deny."""
        return names.ACTION_STEP_UP_CANCEL

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """Say nothing was changed and forget the code and the values."""
        dispatcher.utter_message(response="utter_step_up_cancelled")
        return [
            SlotSet(names.OTP_CODE, None),
            SlotSet(names.STEP_UP_TOKEN, None),
            SlotSet(names.STEP_UP_PURPOSE, None),
            SlotSet(names.CONTACT_FIELD, None),
            SlotSet(names.CONTACT_VALUE, None),
            *(SlotSet(slot, None) for slot in CARD_SLOTS),
        ]
