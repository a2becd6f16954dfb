"""Supervisor statistics: backlog, breach rate, time to acknowledge and to resolve,
by team and by category.

Averages and the breach rate cover the tickets opened in the window (default 30
days); the backlog is every ticket open now. Aggregated in Python so SQLite and
PostgreSQL agree on time arithmetic (the window keeps the row count small).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_backend.models import Team, Ticket
from crm_backend.models.enums import OPEN_TICKET_STATUSES, TicketCategory
from crm_backend.tickets.schemas import CATEGORY_LABELS


def _mean_hours(spans: list[timedelta]) -> float | None:
    if not spans:
        return None
    return round(sum(s.total_seconds() for s in spans) / len(spans) / 3600, 2)


def _bucket(
    key: str | None, label: str, rows: Iterable[Ticket], since: datetime
) -> dict[str, Any]:
    rows = list(rows)
    recent = [t for t in rows if t.created_at >= since]
    breached = [t for t in recent if t.ack_breached or t.resolve_breached]
    ack = [t.acknowledged_at - t.created_at for t in recent if t.acknowledged_at]
    res = [t.resolved_at - t.created_at for t in recent if t.resolved_at]
    return {
        "key": key,
        "label": label,
        "backlog": sum(1 for t in rows if t.status in OPEN_TICKET_STATUSES),
        "opened": len(recent),
        "breached": len(breached),
        "breach_rate": round(len(breached) / len(recent), 4) if recent else None,
        "avg_ack_hours": _mean_hours(ack),
        "avg_resolve_hours": _mean_hours(res),
    }


def _group(rows: list[Ticket], key: Callable[[Ticket], Any]) -> dict[Any, list[Ticket]]:
    groups: dict[Any, list[Ticket]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def summary(session: Session, *, now: datetime, days: int = 30) -> dict[str, Any]:
    """The statistics overall, by team and by category."""
    since = now - timedelta(days=days)
    rows = list(
        session.scalars(
            select(Ticket).where(
                or_(Ticket.created_at >= since, Ticket.status.in_(OPEN_TICKET_STATUSES))
            )
        )
    )
    names: dict[int, str] = {
        tid: name for tid, name in session.execute(select(Team.id, Team.name))
    }
    teams = [
        _bucket(
            str(tid) if tid else None,
            names.get(tid, "未分配") if tid else "未分配",
            group,
            since,
        )
        for tid, group in sorted(
            _group(rows, lambda t: t.team_id).items(),
            key=lambda kv: (kv[0] is None, kv[0] or 0),
        )
    ]
    categories = [
        _bucket(cat.value, CATEGORY_LABELS[TicketCategory(cat)], group, since)
        for cat, group in sorted(
            _group(rows, lambda t: t.category).items(), key=lambda kv: kv[0].value
        )
    ]
    return {
        "as_of": now,
        "since": since,
        "overall": _bucket(None, "全部", rows, since),
        "by_team": teams,
        "by_category": categories,
    }
