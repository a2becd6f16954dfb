"""The offer sweep: expired offers move on, waiting team escalations are offered.

It reads only the database (``offer_expires_at`` is stored), so a restart loses
nothing. Two CRM workers may sweep at once: on PostgreSQL each picks its rows with
``SELECT … FOR UPDATE SKIP LOCKED``, so a row is moved by one of them only (on
SQLite writers are serialised by the database).

Run by the app's lifespan every ``CRM_OFFER_SWEEP_SECONDS`` (5) unless
``CRM_OFFER_SWEEP_ENABLED=false``; tests call :func:`sweep` with their own ``now``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.console.dispatch import deliver
from crm_backend.console.hub import Hub
from crm_backend.core.config import Settings
from crm_backend.core.db import get_sessionmaker
from crm_backend.core.gateway import GatewayClient
from crm_backend.core.outbox import take
from crm_backend.escalations import offers
from crm_backend.models import Agent, Escalation
from crm_backend.models.base import utcnow
from crm_backend.models.enums import EscalationStatus

log = logging.getLogger(__name__)
EXPIRE_BATCH = 100


@dataclass
class Swept:
    """What one sweep did."""

    expired: list[int] = field(default_factory=list)
    offered: list[int] = field(default_factory=list)


def expire_offers(session: Session, *, now: datetime, settings: Settings) -> list[int]:
    """Move every offer past its expiry to the next agent; returns the escalations."""
    due = session.scalars(
        select(Escalation)
        .where(
            Escalation.status == EscalationStatus.queued,
            Escalation.offered_agent_id.is_not(None),
            Escalation.offer_expires_at <= now,
        )
        .order_by(Escalation.offer_expires_at, Escalation.id)
        .limit(EXPIRE_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    for escalation in due:
        agent = session.get(Agent, escalation.offered_agent_id)
        who = agent.name if agent is not None else "坐席"
        offers.pass_on(
            session,
            escalation,
            kind="offer_expired",
            now=now,
            settings=settings,
            note=f"{who}未在{settings.offer_timeout_seconds}秒内接入",
        )
    return [e.id for e in due]


def sweep(
    session: Session, *, settings: Settings, now: datetime | None = None
) -> Swept:
    """One pass: expire offers, then offer waiting escalations to agents with room.
    Flushes only; the caller commits and delivers the session's outbox."""
    now = now or utcnow()
    expired = expire_offers(session, now=now, settings=settings)
    offered = offers.fill(session, now=now, settings=settings)
    session.flush()
    return Swept(expired=expired, offered=offered)


def sweep_once(
    settings: Settings,
    hub: Hub | None = None,
    sessions: Callable[[], Session] | None = None,
    *,
    gateway: GatewayClient | None = None,
) -> Swept:
    """Sweep in a session of its own, commit, then deliver hints and events."""
    session = (sessions or get_sessionmaker())()
    try:
        swept = sweep(session, settings=settings)
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        outbox = take(session)
        session.close()
    if outbox:
        deliver(outbox, settings=settings, hub=hub, gateway=gateway)
    return swept


async def run_sweeper(
    settings: Settings,
    hub: Hub | None = None,
    sessions: Callable[[], Session] | None = None,
    *,
    gateway: GatewayClient | None = None,
) -> None:
    """Sweep every ``offer_sweep_seconds`` until cancelled (the app's lifespan)."""
    while True:
        try:
            swept = await asyncio.to_thread(
                sweep_once, settings, hub, sessions, gateway=gateway
            )
            if swept.expired or swept.offered:
                log.info(
                    "offer sweep: %d expired, %d offered",
                    len(swept.expired),
                    len(swept.offered),
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("offer sweep failed; trying again")
        await asyncio.sleep(settings.offer_sweep_seconds)
