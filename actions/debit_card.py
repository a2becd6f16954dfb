"""Change of a policy's debit card in chat (capability 3), behind a one-time code.

"我要换扣款银行卡" is an ``ask_payment_method`` request: action_payment_method sees
the change wording and calls :func:`start_card_change`, which asks the CRM for a
``change_bank`` code and opens step_up_form with ``step_up_purpose = change_bank``.
After the code the form asks which policy (when there is more than one the
customer holds), the bank and the card number (:class:`DebitCardSlots`);
action_change_debit_card sends them to the CRM and confirms with the card masked.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import CrmAction, DomainDict, Events, VerifiedCrmAction
from actions.crm.client import CrmClient
from actions.crm.errors import CrmError
from actions.crm.payment import PolicyFacts
from actions.enquiry_format import POLICY_NO, find_number, product_type_code
from actions.handoff import crm_conversation_id
from actions.identity_parse import normalize_digits

logger = logging.getLogger(__name__)

# "换/改/变更…卡/账户" or "卡/账户…换/不用了/注销/丢了"; a frequency change is not.
# The tracker holds the customer's own text, so 繁体 spellings are listed too.
CHANGE_VERB = r"(换|換|改|变更|變更|更换|更換|修改|更改|重新绑|重新綁|绑定新|绑新|綁新)"
CARD_WORD = r"(卡|账户|账号|帐户|帐号|賬戶|賬號|帳戶|帳號)"
CARD_CHANGE = re.compile(
    rf"{CHANGE_VERB}.{{0,8}}{CARD_WORD}|{CARD_WORD}.{{0,8}}"
    r"(换|換|改|变更|變更|不用了|注销|註銷|丢了|丟了|挂失|掛失|作废|過期|过期)"
)
CARD_SLOTS = (names.DEBIT_POLICY, names.DEBIT_BANK, names.DEBIT_ACCOUNT)
# short names customers type → the name the CRM keeps (as the demo book spells it)
BANK_ALIASES: tuple[tuple[str, str], ...] = (
    ("邮政储蓄", "邮储银行"),
    ("邮储", "邮储银行"),
    ("工商", "工商银行"),
    ("工行", "工商银行"),
    ("icbc", "工商银行"),
    ("建设", "建设银行"),
    ("建行", "建设银行"),
    ("ccb", "建设银行"),
    ("农业", "农业银行"),
    ("农行", "农业银行"),
    ("中国银行", "中国银行"),
    ("中行", "中国银行"),
    ("boc", "中国银行"),
    ("招商", "招商银行"),
    ("招行", "招商银行"),
    ("cmb", "招商银行"),
    ("交通", "交通银行"),
    ("交行", "交通银行"),
    ("兴业", "兴业银行"),
    ("浦发", "浦发银行"),
    ("中信", "中信银行"),
    ("光大", "光大银行"),
    ("民生", "民生银行"),
    ("平安", "平安银行"),
    ("广发", "广发银行"),
    ("华夏", "华夏银行"),
)
# any other "<name>银行 / 农商行 / 信用社" the customer names
OTHER_BANK = re.compile(r"[\u4e00-\u9fa5]{2,4}(银行|农商行|农村商业银行|信用社)")
# words that run into a bank name: "新卡是宁波银行的" → 宁波银行
LEADING_WORDS = "是的用成到在张个为了换改要扣款费卡新哪一下这那我你从"
CARD_DIGITS = re.compile(r"(?<!\d)\d{12,19}(?!\d)")
CARD_SEPARATORS = re.compile(r"(?<=\d)[\s\-－—_·.]+(?=\d)")
# what the CRM's refusals mean for the customer
REFUSALS = {
    403: "utter_debit_card_refused",
    404: "utter_debit_card_policy_unknown",
    409: "utter_debit_card_policy_closed",
    422: "utter_invalid_debit_account",
}


def wants_card_change(text: str | None) -> bool:
    """True when the customer asks to change the card or account premiums come from."""
    if not text:
        return False
    value = unicodedata.normalize("NFKC", text).lower()
    return bool(CARD_CHANGE.search(value))


def luhn_ok(digits: str) -> bool:
    """The Luhn check digit of a bank card number (UnionPay cards carry one)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def parse_card_number(text: Any) -> str | None:
    """The 12-19 digit number in the text (spaces, dashes, full-width allowed)."""
    if text is None:
        return None
    value = CARD_SEPARATORS.sub("", normalize_digits(str(text)))
    value = re.sub(r"(?<=\d) (?=\d)", "", value)
    match = CARD_DIGITS.search(value)
    return match.group(0) if match else None


def parse_bank(text: Any) -> str | None:
    """The bank the customer names (招行 → 招商银行), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = unicodedata.normalize("NFKC", text).lower()
    for alias, bank in BANK_ALIASES:
        if alias in value:
            return bank
    match = OTHER_BANK.search(value)
    if match is None:
        return None
    name = match.group(0).lstrip(LEADING_WORDS)
    return name if len(name) >= 4 else None


def mask_card(digits: str) -> str:
    """************1234: every digit but the last four starred (the CRM's mask)."""
    return "*" * (len(digits) - 4) + digits[-4:] if len(digits) > 4 else "****"


def changeable(policies: list[PolicyFacts]) -> list[PolicyFacts]:
    """Live policies the customer holds that still have premiums to debit."""
    return [
        p for p in policies if p.live and p.held and p.payment_frequency != "single"
    ]


def choose_policy(text: Any, policies: list[PolicyFacts]) -> PolicyFacts | None:
    """The policy meant by a number, a product name or a product type."""
    if not isinstance(text, str):
        return None
    number = find_number(normalize_digits(text), POLICY_NO)
    if number:
        return next((p for p in policies if p.policy_no == number.upper()), None)
    named = [p for p in policies if p.product_name and p.product_name in text]
    if len(named) == 1:
        return named[0]
    kind = product_type_code(text)
    typed = [p for p in policies if kind and p.product_type == kind]
    return typed[0] if len(typed) == 1 else None


async def start_card_change(
    crm: CrmClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    customer_id: int,
    request: str,
) -> Events:
    """Send a ``change_bank`` code and open step_up_form for the card change."""
    policies = changeable(await crm.get_policy_facts(customer_id))
    if not policies:
        dispatcher.utter_message(response="utter_debit_card_no_policy")
        return [SlotSet(names.STEP_UP_PURPOSE, None)]
    chosen = choose_policy(request, policies)
    if chosen is None and len(policies) == 1:
        chosen = policies[0]
    conversation_id, events = await crm_conversation_id(crm, tracker)
    sent = await crm.request_step_up(
        customer_id=customer_id,
        purpose=names.PURPOSE_CHANGE_BANK,
        conversation_id=conversation_id,
    )
    dispatcher.utter_message(
        response="utter_step_up_sent_card",
        recipient=sent.recipient_masked or "您预留的手机",
    )
    return [
        *events,
        SlotSet(names.STEP_UP_PURPOSE, names.PURPOSE_CHANGE_BANK),
        SlotSet(names.OTP_CODE, None),
        SlotSet(names.STEP_UP_TOKEN, None),
        SlotSet(names.DEBIT_POLICY, chosen.policy_no if chosen else None),
        # "换成招商银行的卡": the bank named with the request is kept
        SlotSet(names.DEBIT_BANK, parse_bank(request)),
        SlotSet(names.DEBIT_ACCOUNT, None),
        FollowupAction(names.STEP_UP_FORM),
    ]


class DebitCardSlots:
    """step_up_form's validation of the card-change slots (mixed into its action).

    Customers answer out of order and correct themselves ("银行说错了，是建行"), so
    each validator also keeps a bank or card number found in the same message.
    """

    def crm_client(self) -> CrmClient:
        """A CRM client configured from the environment; tests override this."""
        return CrmClient.from_env()

    async def validate_debit_policy(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """One of the customer's changeable policies (number, name or type)."""
        if value is None:  # emptied by the action that opened the form
            return {names.DEBIT_POLICY: None}
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if customer_id is None:
            return {names.DEBIT_POLICY: None}
        try:
            async with self.crm_client() as crm:
                policies = changeable(await crm.get_policy_facts(int(customer_id)))
        except CrmError as exc:
            logger.warning("policies for the card change: %s", exc)
            dispatcher.utter_message(response=names.UTTER_CRM_UNAVAILABLE)
            return {names.DEBIT_POLICY: None, names.REQUESTED_SLOT: None}
        chosen = choose_policy(value, policies)
        if chosen is None:
            dispatcher.utter_message(response="utter_debit_policy_unclear")
            return {names.DEBIT_POLICY: None}
        return {names.DEBIT_POLICY: chosen.policy_no}

    async def validate_debit_bank(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A bank name; a card number typed with it is kept as well."""
        if value is None:  # emptied by the action that opened the form
            return {names.DEBIT_BANK: None}
        slots: dict[str, Any] = {}
        number = parse_card_number(value)
        if number and tracker.get_slot(names.DEBIT_ACCOUNT) is None:
            slots.update(
                await self.validate_debit_account(value, dispatcher, tracker, domain)
            )
        bank = parse_bank(value)
        if bank is None and number is None:
            dispatcher.utter_message(response="utter_invalid_debit_bank")
        # only a number typed: keep it and ask for the bank again
        return {**slots, names.DEBIT_BANK: bank}

    async def validate_debit_account(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """16-19 digits that pass the Luhn check; a bank named with it is kept."""
        if value is None:  # emptied by the action that opened the form
            return {names.DEBIT_ACCOUNT: None}
        slots: dict[str, Any] = {}
        bank = parse_bank(value)
        if bank:
            slots[names.DEBIT_BANK] = bank
        number = parse_card_number(value)
        if number is None:
            if not bank:
                dispatcher.utter_message(response="utter_invalid_debit_account")
            # a bank correction alone: ask for the number again, silently
            return {**slots, names.DEBIT_ACCOUNT: None}
        if not 16 <= len(number) <= 19 or not luhn_ok(number):
            dispatcher.utter_message(response="utter_invalid_debit_account")
            return {**slots, names.DEBIT_ACCOUNT: None}
        return {**slots, names.DEBIT_ACCOUNT: number}


class ActionAskDebitPolicy(CrmAction):
    """Ask which policy's debit card to change, the customer's policies as buttons."""

    def name(self) -> str:
        """Asked by step_up_form for the ``debit_policy`` slot."""
        return "action_ask_debit_policy"

    async def run_with_crm(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        """List the changeable policies with their current debit account."""
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        policies = (
            changeable(await crm.get_policy_facts(int(customer_id)))
            if customer_id is not None
            else []
        )
        buttons = []
        for policy in policies[:6]:
            account = (
                f"，现从{policy.debit_bank}尾号{policy.debit_account_masked[-4:]}扣款"
                if policy.debit_bank and policy.debit_account_masked
                else ""
            )
            buttons.append(
                {
                    "title": f"{policy.product_name}（{policy.policy_no}{account}）",
                    "payload": policy.policy_no,
                }
            )
        dispatcher.utter_message(response="utter_ask_debit_policy", buttons=buttons)
        return []


class ActionChangeDebitCard(VerifiedCrmAction):
    """After step_up_form (change_bank): change the card; confirm it masked."""

    def name(self) -> str:
        """The step-up form's submit action for the change_bank purpose."""
        return names.ACTION_CHANGE_DEBIT_CARD

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        """Send the change with the step-up token; refusals get a polite reason."""
        token = tracker.get_slot(names.STEP_UP_TOKEN)
        values = [tracker.get_slot(slot) for slot in CARD_SLOTS]
        cleared = [
            SlotSet(names.OTP_CODE, None),
            SlotSet(names.STEP_UP_TOKEN, None),
            SlotSet(names.STEP_UP_PURPOSE, None),
            *(SlotSet(slot, None) for slot in CARD_SLOTS),
        ]
        if not token or not all(values):
            # the code check failed, the customer left or the CRM was down: told
            return cleared
        policy_no, bank, account = (str(v) for v in values)
        try:
            card = await crm.change_debit_card(
                customer_id=customer_id,
                policy_no=policy_no,
                step_up_token=str(token),
                bank=bank,
                account_no=account,
            )
        except CrmError as exc:
            refusal = REFUSALS.get(exc.status_code or 0)
            if refusal is None:
                raise
            logger.info("debit card change refused: %s", exc)
            dispatcher.utter_message(response=refusal)
            return cleared
        dispatcher.utter_message(
            response="utter_debit_card_changed",
            policy_no=card.policy_no,
            bank=card.debit_bank,
            account=card.debit_account_masked or mask_card(account),
        )
        return cleared
