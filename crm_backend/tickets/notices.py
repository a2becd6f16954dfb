"""Customer notices: what the customer is owed about each visible step of a ticket.

Every customer-visible verb (acknowledge, update, request-info, propose, resolve)
leaves one pending notice in natural Chinese; the gateway or the bot delivers it
(web chat, WeChat, or at the customer's next conversation) and marks it delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.errors import NotFound
from crm_backend.models import Customer, Ticket, TicketEvent, TicketNotice
from crm_backend.models.enums import OPEN_TICKET_STATUSES, TicketRemedy
from crm_backend.tickets.service import CHINA_TZ


def _when(at: datetime) -> str:
    local = at.astimezone(CHINA_TZ)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def remedy_text(ticket: Ticket) -> str:
    """The remedy in words, e.g. "退款 ¥128.50"; empty when none was given."""
    if ticket.remedy == TicketRemedy.refund and ticket.refund_fen is not None:
        return f"退款 ¥{ticket.refund_fen // 100}.{ticket.refund_fen % 100:02d}"
    if ticket.remedy == TicketRemedy.correction:
        return "已为您更正"
    if ticket.remedy == TicketRemedy.apology:
        return "我们向您郑重致歉"
    if ticket.remedy == TicketRemedy.rejected:
        return f"经核实未能支持您的诉求，原因：{ticket.remedy_reason or ''}"
    return ""


def latest_step(ticket: Ticket, visible: Sequence[TicketEvent]) -> dict[str, Any]:
    """What the bot's follow-up says beyond the status: acknowledged and resolved
    times, the remedy, the proposal, and an open request for information (the
    latest, unless a later step answered it)."""
    asked = next((e for e in reversed(visible) if e.kind == "info_requested"), None)
    if asked is not None and (
        ticket.status not in OPEN_TICKET_STATUSES
        or any(e.created_at > asked.created_at for e in visible if e is not asked)
    ):
        asked = None
    return {
        "acknowledged_at": ticket.acknowledged_at,
        "resolved_at": ticket.resolved_at,
        "remedy": ticket.remedy,
        "remedy_text": remedy_text(ticket) or None,
        "proposal": ticket.proposal,
        "proposed_at": ticket.proposed_at,
        "info_request": asked.note if asked is not None else None,
        "info_requested_at": asked.created_at if asked is not None else None,
    }


def text_for(ticket: Ticket, kind: str, *, at: datetime, note: str | None) -> str:
    """The notice's wording for one kind of step."""
    head = f"您的投诉 {ticket.ticket_no} "
    when = _when(at)
    if kind == "acknowledged":
        tail = f"：{note}" if note else "，专人正在跟进。"
        return f"{head}已于{when} 确认受理{tail}"
    if kind == "update":
        return f"{head}有新进展（{when}）：{note}"
    if kind == "info_requested":
        return f"{head}需要您补充信息（{when}）：{note}。请回复本消息或联系客服。"
    if kind == "proposed":
        return f"{head}的处理方案（{when}）：{note}。请告诉我们您是否接受。"
    if kind == "resolved":
        remedy = remedy_text(ticket)
        extra = f"（{remedy}）" if remedy else ""
        return f"{head}已于{when} 处理完毕：{ticket.outcome}{extra}"
    return f"{head}有更新（{when}）：{note or ''}"


def add(
    session: Session, ticket: Ticket, *, kind: str, at: datetime, note: str | None
) -> TicketNotice:
    """Leave a pending notice for the ticket's customer."""
    notice = TicketNotice(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        kind=kind,
        text=text_for(ticket, kind, at=at, note=note),
        channel=ticket.channel,
        created_at=at,
    )
    session.add(notice)
    return notice


def for_customer(
    session: Session, *, customer_id: int, undelivered: bool = False
) -> Sequence[TicketNotice]:
    """The customer's notices, oldest first; optionally only those not delivered."""
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    stmt = select(TicketNotice).where(TicketNotice.customer_id == customer_id)
    if undelivered:
        stmt = stmt.where(TicketNotice.delivered_at.is_(None))
    return session.scalars(
        stmt.order_by(TicketNotice.created_at, TicketNotice.id)
    ).all()


def mark_delivered(
    session: Session,
    *,
    customer_id: int,
    notice_id: int,
    at: datetime,
    channel: str | None = None,
) -> TicketNotice:
    """Mark the notice delivered (idempotent: the first delivery time stays)."""
    notice = session.scalar(
        select(TicketNotice)
        .where(TicketNotice.id == notice_id, TicketNotice.customer_id == customer_id)
        .with_for_update()
    )
    if notice is None:
        raise NotFound("Notice not found")
    if notice.delivered_at is None:
        notice.delivered_at = at
        if channel:
            notice.channel = channel
    session.flush()
    return notice
