"""Complaints (capability 4): the complaint form, the ticket, and its follow-up.

The form collects category, description, related policy and desired outcome; the
CRM opens the ticket (number, severity, priority, both deadlines). A ticket is
opened once per complaint: a repeated submit finds the ticket it already opened.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import CrmAction, DomainDict, Events, VerifiedCrmAction
from actions.crm.client import CrmClient
from actions.crm.complaint import Ticket
from actions.crm.errors import CrmNotFound
from actions.enquiry_format import POLICY_NO, cn_date, find_number
from actions.payment import conversation_id, escalate_or_offer

CATEGORY_LABELS = {
    "service_attitude": "服务态度",
    "claim_dispute": "理赔争议",
    "sales_misconduct": "销售误导",
    "billing": "扣费/缴费",
    "policy_service": "保全服务",
    "product": "产品问题",
    "other": "其他",
}
# words customers use → category; the first match wins, so specific ones go first
CATEGORY_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("销售误导", "sales_misconduct"),
    ("误导", "sales_misconduct"),
    ("忽悠", "sales_misconduct"),
    ("骗我买", "sales_misconduct"),
    ("夸大", "sales_misconduct"),
    ("销售", "sales_misconduct"),
    ("理赔", "claim_dispute"),
    ("赔付", "claim_dispute"),
    ("拒赔", "claim_dispute"),
    ("赔款", "claim_dispute"),
    ("报销", "claim_dispute"),
    ("扣费", "billing"),
    ("扣款", "billing"),
    ("扣钱", "billing"),
    ("缴费", "billing"),
    ("交费", "billing"),
    ("保费", "billing"),
    ("多扣", "billing"),
    ("乱扣", "billing"),
    ("保全", "policy_service"),
    ("变更", "policy_service"),
    ("改地址", "policy_service"),
    ("受益人", "policy_service"),
    ("退保", "policy_service"),
    ("态度", "service_attitude"),
    ("客服", "service_attitude"),
    ("业务员", "service_attitude"),
    ("坐席", "service_attitude"),
    ("不耐烦", "service_attitude"),
    ("骂", "service_attitude"),
    ("产品", "product"),
    ("条款", "product"),
    ("收益", "product"),
    ("其他", "other"),
    ("其它", "other"),
)
NO_POLICY_WORDS = ("没有", "不涉及", "无关", "不是", "没", "无", "不用", "跳过", "不")
NO_POLICY = "none"
# words that mean the customer is very upset or is going to a regulator / court
SEVERE_WORDS = (
    "银保监",
    "金融监管",
    "12378",
    "起诉",
    "法院",
    "律师",
    "媒体",
    "曝光",
    "气死",
    "太过分",
    "欺诈",
    "骗子",
    "垃圾",
    "无耻",
)
ANGRY_SENTIMENT = -0.6
HIGH_VALUE_TIERS = ("vip", "gold")
# a repeated submit within this window finds the ticket it opened
DUPLICATE_WINDOW = timedelta(minutes=30)
CHINA = timezone(timedelta(hours=8))
GENERIC_COMPLAINT = re.compile(
    r"^(我)?(要|想|需要)?(投诉|反映|反馈|举报|申诉)(一下|下)?(你们)?[。！!，,~～\s]*$"
)
SUBMITTED = names.COMPLAINT_SUBMITTED
# words that say a value given before was wrong
CORRECTION = re.compile(r"改成|改为|换成|应该是|不是|选错|搞错|弄错|错了|更正|纠正")


def is_category_correction(message: dict[str, Any]) -> bool:
    """True for "改成服务态度"-like messages: a category entity and a correction."""
    entities = message.get("entities") or []
    named = any(e.get("entity") == names.COMPLAINT_CATEGORY for e in entities)
    return named and bool(CORRECTION.search(str(message.get("text") or "")))


def category_code(value: Any) -> str | None:
    """The CRM category for an entity value, a code or free text."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text in CATEGORY_LABELS:
        return text
    for code, label in CATEGORY_LABELS.items():
        if text == label or text in label.split("/"):
            return code
    for keyword, code in CATEGORY_KEYWORDS:
        if keyword in text:
            return code
    return None


def _intent(event_or_message: dict[str, Any]) -> str | None:
    parse = event_or_message.get("parse_data") or event_or_message
    return (parse.get("intent") or {}).get("name")


def complain_message(tracker: Tracker) -> dict[str, Any] | None:
    """The latest user event classified as ``complain`` (before any verification)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user" and _intent(event) == "complain":
            return event
    return None


def worst_sentiment(tracker: Tracker) -> float | None:
    """The most negative sentiment of the user's messages since the complaint began."""
    scores: list[float] = []
    for event in reversed(tracker.events or []):
        if event.get("event") != "user":
            continue
        for source in (event.get("parse_data") or {}, event.get("metadata") or {}):
            value = _score(source.get("sentiment"))
            if value is not None:
                scores.append(value)
        if _intent(event) == "complain":
            break
    latest = _score((tracker.latest_message or {}).get("sentiment"))
    if latest is not None:
        scores.append(latest)
    return min(scores) if scores else None


def _score(value: Any) -> float | None:
    """A sentiment score from a number or a ``{"score": …}`` mapping."""
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def china_time(value: datetime) -> str:
    """2026年11月26日 21:00 in China time."""
    local = value.astimezone(CHINA)
    return f"{cn_date(local)} {local:%H:%M}"


def deadlines_text(ticket: Ticket) -> str:
    """我们将在…前与您联系确认，并在…前给出处理结果."""
    return (
        f"我们将在{cn_date(ticket.ack_due_at)}前与您联系确认，"
        f"并在{cn_date(ticket.resolve_due_at)}前给出处理结果"
    )


def fingerprint(customer_id: int, fields: dict[str, Any]) -> str:
    """A stable key of one complaint's content, to recognise a repeated submit."""
    raw = "|".join(
        [str(customer_id)] + [str(fields.get(k) or "") for k in sorted(fields)]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def category_before_turn(tracker: Tracker) -> str | None:
    """The complaint category as it was before the customer's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif (
            seen_user
            and event.get("event") == "slot"
            and event.get("name") == names.COMPLAINT_CATEGORY
        ):
            return event.get("value")
    return None


def reset_slots() -> Events:
    """Clear the form's slots so the next complaint starts empty."""
    return [
        SlotSet(names.COMPLAINT_CATEGORY, None),
        SlotSet(names.COMPLAINT_DESCRIPTION, None),
        SlotSet(names.COMPLAINT_POLICY, None),
        SlotSet(names.COMPLAINT_OUTCOME, None),
    ]


class ActionComplaintStart(VerifiedCrmAction):
    """Start the complaint form, pre-filled from the message that triggered it."""

    def name(self) -> str:
        return "action_complaint_start"

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        events = reset_slots()
        message = complain_message(tracker) or {}
        text = str(message.get("text") or "").strip()
        entities = (message.get("parse_data") or {}).get("entities") or []
        category = next(
            (
                category_code(e.get("value"))
                for e in entities
                if e.get("entity") == "complaint_category"
            ),
            None,
        ) or category_code(text)
        if category:
            events.append(SlotSet(names.COMPLAINT_CATEGORY, category))
        # "我要投诉" alone says nothing; a sentence with substance is the description
        if len(text) >= 8 and not GENERIC_COMPLAINT.match(text):
            events.append(SlotSet(names.COMPLAINT_DESCRIPTION, text))
        dispatcher.utter_message(response="utter_complaint_start")
        if _intent(tracker.latest_message or {}) != "complain":
            # run as the pending action after verification: no rule starts the form
            events.append(FollowupAction(names.COMPLAINT_FORM))
        return events


class ActionAskComplaintPolicy(CrmAction):
    """Ask which policy the complaint is about, the customer's policies as buttons."""

    def name(self) -> str:
        return "action_ask_complaint_policy"

    async def run_with_crm(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        buttons = []
        customer_id = tracker.get_slot(names.CUSTOMER_ID)
        if customer_id is not None:
            for policy in (await crm.get_policy_facts(int(customer_id)))[:5]:
                buttons.append(
                    {
                        "title": f"{policy.product_name}（{policy.policy_no}）",
                        "payload": policy.policy_no,
                    }
                )
        buttons.append({"title": "不涉及具体保单", "payload": "不涉及具体保单"})
        dispatcher.utter_message(
            text="这次投诉和哪张保单有关？请点选或输入保单号；不涉及具体保单的话，"
            "回复“不涉及”即可。",
            buttons=buttons,
        )
        return []


class ValidateComplaintForm(FormValidationAction):
    """Check and normalise each complaint slot."""

    def name(self) -> str:
        return "validate_complaint_form"

    def validate_complaint_category(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A category code, or ask again with the buttons."""
        if value is None:
            # cleared by action_complaint_start in this turn: nothing was said
            return {names.COMPLAINT_CATEGORY: None}
        code = category_code(value)
        if code is None and tracker.get_slot(names.REQUESTED_SLOT) != (
            names.COMPLAINT_CATEGORY
        ):
            # a passing mention in another answer ("重复扣了两次" in the story) is
            # no new category: the one given before stays
            return {names.COMPLAINT_CATEGORY: category_before_turn(tracker)}
        if code is None:
            dispatcher.utter_message(response="utter_complaint_category_unclear")
        return {names.COMPLAINT_CATEGORY: code}

    def validate_complaint_description(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The whole message, when it says something (a correction is no story)."""
        if value is None:
            return {names.COMPLAINT_DESCRIPTION: None}
        text = str(value).strip()
        if is_category_correction(tracker.latest_message or {}):
            # "类别选错了，应该是服务态度": the category slot took it (from its entity);
            # ask for the description again rather than keep this as one
            return {names.COMPLAINT_DESCRIPTION: None}
        if len(text) < 4 or GENERIC_COMPLAINT.match(text):
            dispatcher.utter_message(response="utter_complaint_description_short")
            return {names.COMPLAINT_DESCRIPTION: None}
        return {names.COMPLAINT_DESCRIPTION: text[:4000]}

    def validate_complaint_policy(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A policy number, or ``none`` when no policy is involved."""
        if value is None:
            return {names.COMPLAINT_POLICY: None}
        text = str(value).strip()
        number = find_number(text, POLICY_NO)
        if number:
            return {names.COMPLAINT_POLICY: number}
        intent = _intent(tracker.latest_message or {})
        if intent == "deny" or any(word in text for word in NO_POLICY_WORDS):
            return {names.COMPLAINT_POLICY: NO_POLICY}
        dispatcher.utter_message(response="utter_complaint_policy_unclear")
        return {names.COMPLAINT_POLICY: None}

    def validate_complaint_outcome(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """What the customer wants, in their words."""
        text = str(value or "").strip()
        return {names.COMPLAINT_OUTCOME: text[:2000] if text else None}


class ActionSubmitComplaint(VerifiedCrmAction):
    """Open the ticket (once), tell its number and deadlines, escalate if needed."""

    def name(self) -> str:
        return "action_submit_complaint"

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        category = tracker.get_slot(names.COMPLAINT_CATEGORY) or "other"
        description = tracker.get_slot(names.COMPLAINT_DESCRIPTION)
        if not description:
            dispatcher.utter_message(response="utter_complaint_description_short")
            return [FollowupAction(names.COMPLAINT_FORM)]
        policy = tracker.get_slot(names.COMPLAINT_POLICY)
        policy_no = policy if policy and policy != NO_POLICY else None
        outcome = tracker.get_slot(names.COMPLAINT_OUTCOME)
        fields = {
            "category": category,
            "description": description,
            "policy": policy_no,
            "outcome": outcome,
        }
        key = fingerprint(customer_id, fields)
        ticket = await self._existing(crm, tracker, customer_id, key, fields)
        if ticket is None:
            ticket = await crm.open_ticket(
                customer_id=customer_id,
                category=category,
                description=description,
                desired_outcome=outcome,
                policy_no=policy_no,
                conversation_id=conversation_id(tracker),
                channel=_channel(tracker),
            )
        dispatcher.utter_message(
            text=(
                f"您的投诉已受理，工单号{ticket.ticket_no}"
                f"（{ticket.category_label}）。{deadlines_text(ticket)}。"
                "您随时可以发送“投诉进度”查看处理情况。"
            )
        )
        events = reset_slots() + [
            SlotSet(names.TICKET_NUMBER, ticket.ticket_no),
            SlotSet(SUBMITTED, {"key": key, "ticket_no": ticket.ticket_no}),
        ]
        trigger, reason = await self._escalation(
            crm, tracker, customer_id, description, ticket
        )
        if trigger:
            dispatcher.utter_message(response="utter_complaint_person_follows")
            events += await escalate_or_offer(
                crm,
                dispatcher,
                tracker,
                trigger=trigger,
                reason=reason,
                topic="complaints",
            )
        return events

    async def _existing(
        self,
        crm: CrmClient,
        tracker: Tracker,
        customer_id: int,
        key: str,
        fields: dict[str, Any],
    ) -> Ticket | None:
        """The ticket this very complaint already opened, if the submit repeats."""
        done = tracker.get_slot(SUBMITTED)
        if isinstance(done, dict) and done.get("key") == key:
            try:
                return await crm.get_ticket(
                    str(done["ticket_no"]), customer_id=customer_id
                )
            except CrmNotFound:
                pass
        now = datetime.now(timezone.utc)
        for summary in await crm.list_tickets(customer_id):
            if (
                not summary.open
                or summary.category != fields["category"]
                or now - summary.created_at > DUPLICATE_WINDOW
            ):
                continue
            ticket = await crm.get_ticket(summary.ticket_no, customer_id=customer_id)
            if (
                ticket.description == fields["description"]
                and (ticket.policy_no or None) == fields["policy"]
            ):
                return ticket
        return None

    async def _escalation(
        self,
        crm: CrmClient,
        tracker: Tracker,
        customer_id: int,
        description: str,
        ticket: Ticket,
    ) -> tuple[str | None, str]:
        """angry_complaint or high_value (with the reason), or no escalation."""
        sentiment = worst_sentiment(tracker)
        severe = [word for word in SEVERE_WORDS if word in description]
        if (
            (sentiment is not None and sentiment <= ANGRY_SENTIMENT)
            or severe
            or (ticket.severity in ("high", "critical"))
        ):
            why = f"情绪{sentiment:.2f}" if sentiment is not None else ""
            if severe:
                why += f"，提到“{'、'.join(severe)}”"
            return (
                "angry_complaint",
                f"客户投诉{ticket.ticket_no}（{ticket.category_label}）情绪激烈"
                f"{why}".strip("，")[:480],
            )
        summary = await crm.get_customer_summary(customer_id)
        if summary.value_tier in HIGH_VALUE_TIERS:
            tier = "VIP" if summary.value_tier == "vip" else "黄金"
            return (
                "high_value",
                f"{tier}客户投诉{ticket.ticket_no}（{ticket.category_label}）",
            )
        return None, ""


def _channel(tracker: Tracker) -> str | None:
    meta = tracker.get_slot(names.SESSION_STARTED_METADATA) or {}
    value = meta.get(names.META_CHANNEL) if isinstance(meta, dict) else None
    return str(value) if value else None


class ActionComplaintCancel(Action):
    """The customer dropped the complaint: say so politely and clear the form."""

    def name(self) -> str:
        return "action_complaint_cancel"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Events:
        dispatcher.utter_message(response="utter_complaint_cancelled")
        return reset_slots()
