"""Complaint tickets: deadlines from the SLA settings, breach flags, an event log."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from crm_backend.demo.book import PolicyInfo
from crm_backend.demo.context import BUSINESS_TZ, Context
from crm_backend.demo.texts import COMPLAINTS
from crm_backend.models import Ticket, TicketEvent
from crm_backend.models.enums import Severity, TicketCategory, TicketStatus

_TICKET_CATEGORY_WEIGHTS = {
    TicketCategory.claim_dispute: 28,
    TicketCategory.billing: 20,
    TicketCategory.service_attitude: 16,
    TicketCategory.sales_misconduct: 12,
    TicketCategory.policy_service: 12,
    TicketCategory.product: 7,
    TicketCategory.other: 5,
}
_SEVERITY_WEIGHTS = {
    Severity.low: 20,
    Severity.medium: 50,
    Severity.high: 24,
    Severity.critical: 6,
}
_SEVERITY_LABELS = {
    Severity.low: "低",
    Severity.medium: "中",
    Severity.high: "高",
    Severity.critical: "紧急",
}
_SEVERITY_PRIORITY = {
    Severity.low: 30,
    Severity.medium: 50,
    Severity.high: 70,
    Severity.critical: 90,
}


def _local(moment: datetime, fmt: str) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime(fmt)


def ticket_times(ctx: Context, status: TicketStatus) -> dict[str, datetime | None]:
    """Created / acknowledged / investigating / resolved / closed instants."""
    rng = ctx.rng
    ack_after = rng.uniform(1, 20) if rng.random() < 0.9 else rng.uniform(25, 60)
    resolve_after = rng.uniform(2, 14) if rng.random() < 0.9 else rng.uniform(15.5, 25)
    resolve_after = max(resolve_after, ack_after / 24 + 0.5)
    close_after = rng.uniform(1, 7)
    if status == TicketStatus.received:
        created = ctx.ago(hours=rng.uniform(0.5, 30))
    elif status == TicketStatus.acknowledged:
        created = ctx.ago(hours=ack_after + rng.uniform(2, 40))
    elif status == TicketStatus.investigating:
        created = ctx.ago(hours=ack_after + rng.uniform(24, 420))
    elif status == TicketStatus.resolved:
        created = ctx.ago(days=resolve_after + rng.uniform(0.2, 5))
    else:
        created = ctx.ago(days=resolve_after + close_after + rng.uniform(0.5, 170))
    created = created.replace(microsecond=0)
    order = list(TicketStatus).index(status)
    acked = created + timedelta(hours=ack_after) if order >= 1 else None
    investigating = (
        min(acked + timedelta(hours=rng.uniform(1, 30)), ctx.ago(minutes=30))
        if acked and order >= 2
        else None
    )
    resolved = created + timedelta(days=resolve_after) if order >= 3 else None
    if resolved and investigating:
        investigating = min(investigating, resolved - timedelta(hours=1))
    closed = resolved + timedelta(days=close_after) if resolved and order >= 4 else None
    return {
        "created": created,
        "acknowledged": acked,
        "investigating": investigating,
        "resolved": resolved,
        "closed": closed,
    }


def pick_ticket_status(ctx: Context) -> TicketStatus:
    """The next status still missing from the book, else a random one."""
    cov = ctx.coverage.ticket
    if cov:
        return cov.pop(0)
    return ctx.rng.choices(list(TicketStatus), [8, 7, 12, 13, 60])[0]


def add_ticket(
    ctx: Context,
    customer_id: int,
    policy: PolicyInfo | None,
    *,
    status: TicketStatus | None = None,
    category: TicketCategory | None = None,
    severity: Severity | None = None,
    repeat: bool = False,
    conversation_id: int | None = None,
    channel: str = "web",
    text_index: int | None = None,
    times: dict[str, datetime | None] | None = None,
) -> int:
    """Queue a complaint ticket with its event log; returns its id."""
    rng = ctx.rng
    status = status or pick_ticket_status(ctx)
    if category is None:
        categories = _TICKET_CATEGORY_WEIGHTS
        category = rng.choices(list(categories), list(categories.values()))[0]
    if severity is None:
        severities = _SEVERITY_WEIGHTS
        severity = rng.choices(list(severities), list(severities.values()))[0]
    texts = COMPLAINTS[category]
    description, desired, outcome = texts[
        text_index if text_index is not None else rng.randrange(len(texts))
    ]
    t = times or ticket_times(ctx, status)
    created = t["created"]
    assert created is not None
    ack_due = created + timedelta(hours=ctx.ack_hours)
    resolve_due = created + timedelta(days=ctx.resolve_days)
    team = "complaints"
    staff = ctx.staff
    assignee_no = None
    if t["acknowledged"] is not None:
        pool = staff.members[team]
        assignee_no = pool[0] if severity == Severity.critical else rng.choice(pool[1:])
    assignee = staff.agent_ids[assignee_no] if assignee_no else None
    priority = _SEVERITY_PRIORITY[severity] + (10 if repeat else 0)
    reasons = [f"严重程度：{_SEVERITY_LABELS[severity]}"] + (
        ["重复投诉"] if repeat else []
    )
    ctx.ticket_seq += 1
    row = ctx.add(
        Ticket,
        {
            "ticket_no": f"TS{_local(created, '%Y%m%d')}{ctx.ticket_seq:06d}",
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "policy_id": policy.id if policy else None,
            "category": category,
            "severity": severity,
            "priority": min(priority, 100),
            "priority_reasons": json.dumps(reasons, ensure_ascii=False),
            "description": description,
            "desired_outcome": desired,
            "channel": channel,
            "status": status,
            "ack_due_at": ack_due,
            "resolve_due_at": resolve_due,
            "acknowledged_at": t["acknowledged"],
            "investigating_at": t["investigating"],
            "resolved_at": t["resolved"],
            "closed_at": t["closed"],
            "ack_breached": (t["acknowledged"] or ctx.as_of) > ack_due,
            "resolve_breached": (t["resolved"] or ctx.as_of) > resolve_due,
            "assignee_id": assignee,
            "team_id": staff.team_ids[team],
            "outcome": outcome if t["resolved"] else None,
            "created_at": created,
            "updated_at": max(m for m in t.values() if m is not None),
        },
    )
    _ticket_events(ctx, row, t, assignee, outcome)
    return int(row["id"])


def _ticket_events(
    ctx: Context,
    ticket: dict[str, object],
    t: dict[str, datetime | None],
    assignee: int | None,
    outcome: str,
) -> None:
    ack_due = ticket["ack_due_at"]
    resolve_due = ticket["resolve_due_at"]
    assert isinstance(ack_due, datetime) and isinstance(resolve_due, datetime)
    S = TicketStatus
    events: list[
        tuple[
            str,
            TicketStatus | None,
            TicketStatus | None,
            int | None,
            str,
            bool,
            datetime | None,
        ]
    ] = [
        (
            "received",
            None,
            S.received,
            None,
            f"投诉已受理，工单号{ticket['ticket_no']}。我们将在"
            f"{_local(ack_due, '%m月%d日%H:%M')}前与您联系。",
            True,
            t["created"],
        ),
        (
            "acknowledged",
            S.received,
            S.acknowledged,
            assignee,
            f"已安排专人跟进，预计{_local(resolve_due, '%m月%d日')}前给您处理结果。",
            True,
            t["acknowledged"],
        ),
        (
            "investigating",
            S.acknowledged,
            S.investigating,
            assignee,
            "正在与相关部门核实情况。",
            True,
            t["investigating"],
        ),
    ]
    if t["investigating"] is not None and ctx.rng.random() < 0.5:
        note_at = t["investigating"] + timedelta(hours=2)
        if t["resolved"] is None or note_at < t["resolved"]:
            events.append(
                (
                    "note",
                    None,
                    None,
                    assignee,
                    "已联系相关部门核实，等待书面反馈。",
                    False,
                    ctx.clamp(note_at),
                )
            )
    events.append(
        (
            "resolved",
            S.investigating,
            S.resolved,
            assignee,
            outcome,
            True,
            t["resolved"],
        )
    )
    events.append(
        (
            "closed",
            S.resolved,
            S.closed,
            assignee,
            "回访客户确认处理结果，工单关闭。",
            True,
            t["closed"],
        )
    )
    for kind, before, after, actor, note, visible, moment in events:
        if moment is None:
            continue
        ctx.add(
            TicketEvent,
            {
                "ticket_id": ticket["id"],
                "kind": kind,
                "from_status": before,
                "to_status": after,
                "actor_id": actor,
                "note": note,
                "customer_visible": visible,
                "created_at": moment,
            },
        )
