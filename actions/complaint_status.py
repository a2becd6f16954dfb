"""Complaint follow-up (capability 4): "我的投诉", or a ticket by its number.

Answers from the ticket's customer-visible log in the CRM: status, acknowledgement,
requests for information, proposals, the resolution with its remedy, the deadlines.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import names
from actions.common.base import DomainDict, Events, VerifiedCrmAction
from actions.complaint import china_time
from actions.crm.client import CrmClient
from actions.crm.complaint import Ticket
from actions.crm.errors import CrmNotFound
from actions.enquiry_format import cn_date, find_number


def ticket_text(ticket: Ticket, *, with_events: bool) -> str:
    """One ticket: number, category, status, the latest step the customer needs
    (acknowledged, asked for information, a proposal, resolved with the outcome
    and remedy), deadlines and the visible updates."""
    lines = [
        f"工单{ticket.ticket_no}（{ticket.category_label}，"
        f"{cn_date(ticket.created_at)}提交）：{ticket.status_label}。"
    ]
    if ticket.open and ticket.acknowledged_at is not None:
        lines.append(
            f"已于{china_time(ticket.acknowledged_at)}确认受理，"
            f"处理结果最迟{cn_date(ticket.resolve_due_at)}给出。"
        )
    elif ticket.open:
        lines.append(
            f"确认期限{cn_date(ticket.ack_due_at)}，"
            f"处理结果最迟{cn_date(ticket.resolve_due_at)}给出。"
        )
    if ticket.open and ticket.info_request:
        lines.append(f"需要您补充：{ticket.info_request}。请直接回复我，或联系客服。")
    if ticket.open and ticket.proposal:
        lines.append(f"处理方案：{ticket.proposal}。请告诉我们您是否接受。")
    remedy = f"（{ticket.remedy_text}）" if ticket.remedy_text else ""
    if ticket.resolved_at is not None and ticket.outcome:
        lines.append(
            f"已于{china_time(ticket.resolved_at)}处理完毕：{ticket.outcome}{remedy}"
        )
    elif ticket.outcome:
        lines.append(f"处理结果：{ticket.outcome}{remedy}")
    if with_events:
        for event in ticket.events[-4:]:
            note = f"：{event.note}" if event.note else ""
            lines.append(f"· {china_time(event.at)} {event.label}{note}")
    return "\n".join(lines)


class ActionComplaintStatus(VerifiedCrmAction):
    """Follow up a complaint by ticket number, or the customer's open tickets."""

    def name(self) -> str:
        return "action_complaint_status"

    async def run_verified(
        self,
        crm: CrmClient,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        *,
        customer_id: int,
    ) -> Events:
        number = _asked_ticket(tracker)
        if number:
            try:
                ticket = await crm.get_ticket(number, customer_id=customer_id)
            except CrmNotFound:
                dispatcher.utter_message(
                    text=f"没有查到您名下工单号为{number}的投诉，请核对工单号；"
                    "也可以回复“我的投诉”查看您全部的投诉。"
                )
                return [SlotSet(names.TICKET_NUMBER, None)]
            dispatcher.utter_message(text=ticket_text(ticket, with_events=True))
            return [SlotSet(names.TICKET_NUMBER, None)]
        tickets = await crm.list_tickets(customer_id)
        open_ones = [t for t in tickets if t.open]
        if not tickets:
            dispatcher.utter_message(
                text="您目前没有投诉记录。如需反映问题，直接告诉我就可以，我来为您登记。"
            )
            return []
        # the newest finished ones, so that "我的投诉" also tells a recent resolution
        recent = []
        for summary in [t for t in tickets if not t.open][:RECENT_CHECKED]:
            ticket = await crm.get_ticket(summary.ticket_no, customer_id=customer_id)
            done = ticket.resolved_at
            now = datetime.now(timezone.utc)
            if done is not None and now - done <= RECENTLY_RESOLVED:
                recent.append(ticket)
        if not open_ones and not recent:
            dispatcher.utter_message(
                text="您目前没有处理中的投诉。最近一次：\n"
                + ticket_text(tickets[0], with_events=False)
            )
            return []
        parts = []
        if open_ones:
            parts.append(f"您有{len(open_ones)}件投诉正在处理：")
        for summary in open_ones[:3]:
            ticket = await crm.get_ticket(summary.ticket_no, customer_id=customer_id)
            parts.append(ticket_text(ticket, with_events=True))
        if recent:
            head = "最近处理完毕的投诉：" if open_ones else "您的投诉已处理完毕："
            parts.append(head)
            parts += [ticket_text(ticket, with_events=False) for ticket in recent]
        dispatcher.utter_message(text="\n".join(parts))
        return []


# "我的投诉" also tells tickets resolved this recently (of the newest few finished)
RECENTLY_RESOLVED = timedelta(days=30)
RECENT_CHECKED = 2
TICKET_NO = re.compile(r"TS?\d{8,14}", re.IGNORECASE)


def _asked_ticket(tracker: Tracker) -> str | None:
    """A ticket number from the entity or the message text."""
    latest = tracker.latest_message or {}
    for entity in latest.get("entities") or []:
        if entity.get("entity") == "ticket_number" and entity.get("value"):
            return (
                find_number(str(entity["value"]), TICKET_NO)
                or str(entity["value"]).strip().upper()
            )
    return find_number(latest.get("text"), TICKET_NO)
