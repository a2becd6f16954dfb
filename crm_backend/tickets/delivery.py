"""Ticket notices reach the customer in their open chat (docs/takeover.md).

A pending notice goes to the customer's reachable conversation: the ticket's own
if it is still open, else the customer's latest open web or WeChat conversation
(WeChat only inside the 48-hour window). The gateway answers whether it reached
the customer (a socket in the web chat's room; WeChat's customer-service API said
yes) and records it as a ``system`` message; the notice is then marked delivered
with that channel. Not delivered: it stays pending and is tried again no sooner
than ``notice_sweep_seconds`` later (``attempted_at``), and only while a reachable
conversation exists. A customer who comes back later hears it from the bot at the
start of their next conversation (actions/session.py).

Everything is in the database, so a restart loses nothing. A pass never holds a
transaction while it waits for the gateway (which writes to the CRM itself): it
claims notices (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, stamping
``attempted_at``) and commits, asks the gateway, then marks what was delivered.

Run by the app's lifespan every ``CRM_NOTICE_SWEEP_SECONDS`` (5) unless
``CRM_NOTICE_SWEEP_ENABLED=false``, and woken right after a verb's commit left a
notice (:func:`kick_after_commit`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, event, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm_backend.console.dispatch import deliver as deliver_outbox
from crm_backend.console.hub import Hub
from crm_backend.conversations import service as conversations
from crm_backend.core.config import Settings
from crm_backend.core.db import get_sessionmaker
from crm_backend.core.gateway import GatewayClient, NoticeAnswer, notice_event
from crm_backend.core.outbox import conversation_hint, pending, take
from crm_backend.models import Conversation, Ticket, TicketNotice
from crm_backend.models.base import utcnow
from crm_backend.models.enums import Channel, ConversationStatus, Sender

log = logging.getLogger(__name__)
CLAIM_BATCH = 50
KICK_KEY = "notice_kick"


@dataclass(frozen=True)
class Attempt:
    """One notice on its way to one conversation."""

    notice_id: int
    customer_id: int
    kind: str
    ticket_no: str
    text: str
    conversation_id: int
    channel: str
    external_id: str


@dataclass
class Passed:
    """What one pass did: the notices tried and those that reached the customer."""

    attempted: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)


def _reachable(now: datetime, settings: Settings) -> Any:
    """Open WeChat conversations inside the 48-hour window, and open web chats
    with any message in the same 48 hours.

    WeChat allows no message outside the window; a web chat never closes, and the
    window bounds the retries for a customer who left (the bot tells them at their
    next conversation, or the sweep once the chat is used again).
    """
    window_start = now - timedelta(hours=settings.wechat_window_hours)
    return and_(
        Conversation.status != ConversationStatus.closed,
        or_(
            and_(
                Conversation.channel == Channel.web,
                Conversation.last_message_at > window_start,
            ),
            and_(
                Conversation.channel == Channel.wechat,
                Conversation.last_customer_message_at > window_start,
            ),
        ),
    )


def reachable_conversation(
    session: Session,
    *,
    customer_id: int,
    settings: Settings,
    now: datetime,
    prefer_id: int | None = None,
) -> Conversation | None:
    """The ticket's own conversation if reachable, else the latest reachable one."""
    own_first = case((Conversation.id == prefer_id, 0), else_=1)
    return session.scalars(
        select(Conversation)
        .where(Conversation.customer_id == customer_id, _reachable(now, settings))
        .order_by(
            own_first, Conversation.last_message_at.desc(), Conversation.id.desc()
        )
        .limit(1)
    ).first()


def claim(session: Session, *, settings: Settings, now: datetime) -> list[Attempt]:
    """Take the notices due for a try (never tried, or not within the interval)
    whose customer has a reachable conversation; stamps ``attempted_at``.

    Least recently tried first, so notices that keep failing (a web chat left
    open in no browser) never starve the others; a customer's notices go out in
    the order they were left (one waits while an older one is not due)."""
    retry_before = now - timedelta(seconds=settings.notice_sweep_seconds)
    has_chat = exists().where(
        Conversation.customer_id == TicketNotice.customer_id,
        _reachable(now, settings),
    )
    older = aliased(TicketNotice)
    older_waits = exists().where(
        older.customer_id == TicketNotice.customer_id,
        older.delivered_at.is_(None),
        older.id < TicketNotice.id,
        older.attempted_at > retry_before,
    )
    rows = session.execute(
        select(TicketNotice, Ticket.conversation_id, Ticket.ticket_no)
        .join(Ticket, Ticket.id == TicketNotice.ticket_id)
        .where(
            TicketNotice.delivered_at.is_(None),
            or_(
                TicketNotice.attempted_at.is_(None),
                TicketNotice.attempted_at <= retry_before,
            ),
            has_chat,
            ~older_waits,
        )
        .order_by(
            func.coalesce(TicketNotice.attempted_at, TicketNotice.created_at),
            TicketNotice.id,
        )
        .limit(CLAIM_BATCH)
        # a second CRM worker takes other notices; a notice being marked waits
        .with_for_update(skip_locked=True, of=TicketNotice)
    ).all()
    rows = sorted(rows, key=lambda row: (row[0].created_at, row[0].id))
    attempts: list[Attempt] = []
    for notice, own_conversation_id, ticket_no in rows:
        conversation = reachable_conversation(
            session,
            customer_id=notice.customer_id,
            settings=settings,
            now=now,
            prefer_id=own_conversation_id,
        )
        if conversation is None:
            continue
        notice.attempted_at = now
        attempts.append(
            Attempt(
                notice_id=notice.id,
                customer_id=notice.customer_id,
                kind=notice.kind,
                ticket_no=ticket_no,
                text=notice.text,
                conversation_id=conversation.id,
                channel=str(conversation.channel),
                external_id=conversation.external_id,
            )
        )
    session.flush()
    return attempts


def mark(
    session: Session, attempt: Attempt, answer: NoticeAnswer, *, now: datetime
) -> bool:
    """Record a delivered notice: in the transcript (unless the gateway recorded
    it) and as delivered on that channel. False when it was delivered before."""
    notice = session.scalar(
        select(TicketNotice)
        .where(TicketNotice.id == attempt.notice_id)
        .with_for_update()
    )
    if notice is None or notice.delivered_at is not None:
        return False
    if answer.message_id is None:
        conversation = session.get(Conversation, attempt.conversation_id)
        if (
            conversation is not None
            and conversation.status != ConversationStatus.closed
        ):
            conversations.record_message(
                session,
                conversation_id=conversation.id,
                sender=Sender.system,
                text=attempt.text,
                payload={"notice_id": notice.id, "ticket_no": attempt.ticket_no},
            )
            pending(session).hint(
                conversation_hint(
                    conversation.id, agent_ids=[conversation.assigned_agent_id]
                )
            )
    notice.delivered_at = now
    notice.channel = attempt.channel
    session.flush()
    return True


def _in_session(
    sessions: Callable[[], Session] | None, work: Callable[[Session], Any]
) -> tuple[Any, Any]:
    session = (sessions or get_sessionmaker())()
    try:
        result = work(session)
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        outbox = take(session)
        session.close()
    return result, outbox


def deliver_once(
    settings: Settings,
    gateway: GatewayClient,
    sessions: Callable[[], Session] | None = None,
    *,
    hub: Hub | None = None,
    now: datetime | None = None,
) -> Passed:
    """One pass: claim and commit, ask the gateway, mark what reached the customer."""
    passed = Passed()
    if not settings.gateway_url:
        return passed
    now = now or utcnow()
    attempts, _ = _in_session(sessions, lambda s: claim(s, settings=settings, now=now))
    reached: list[tuple[Attempt, NoticeAnswer]] = []
    for attempt in attempts:
        passed.attempted.append(attempt.notice_id)
        answer = gateway.deliver_notice(_event(attempt), settings)
        if answer.delivered:
            reached.append((attempt, answer))
    if not reached:
        return passed

    def marked(session: Session) -> list[int]:
        done = utcnow()
        return [a.notice_id for a, ans in reached if mark(session, a, ans, now=done)]

    passed.delivered, outbox = _in_session(sessions, marked)
    if outbox:
        deliver_outbox(outbox, settings=settings, hub=hub, gateway=None)
    return passed


def _event(attempt: Attempt) -> dict[str, Any]:
    return notice_event(
        conversation_id=attempt.conversation_id,
        channel=attempt.channel,
        external_id=attempt.external_id,
        notice={
            "id": attempt.notice_id,
            "ticket_no": attempt.ticket_no,
            "kind": attempt.kind,
            "text": attempt.text,
        },
    )


class Kicker:
    """Wakes this process's running delivery loops (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def register(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
        """A loop that wants to be woken."""
        with self._lock:
            self._waiters.add((loop, wake))

    def unregister(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> None:
        """The loop stopped."""
        with self._lock:
            self._waiters.discard((loop, wake))

    def kick(self) -> None:
        """Start a pass now in every running loop."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, wake in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has just closed
                loop.call_soon_threadsafe(wake.set)


KICKER = Kicker()


def _kick_on_commit(session: Session) -> None:
    if session.info.pop(KICK_KEY, False):
        KICKER.kick()


def kick_after_commit(session: Session) -> None:
    """Wake the delivery loop once ``session``'s transaction commits (a verb just
    left a notice: the customer sees it within a second, not an interval)."""
    if session.info.get(KICK_KEY):
        return
    session.info[KICK_KEY] = True
    event.listen(session, "after_commit", _kick_on_commit, once=True)


async def run_notice_sweeper(
    settings: Settings,
    gateway: GatewayClient,
    hub: Hub | None = None,
    sessions: Callable[[], Session] | None = None,
) -> None:
    """A pass every ``notice_sweep_seconds`` or when kicked, until cancelled."""
    wake = asyncio.Event()
    loop = asyncio.get_running_loop()
    KICKER.register(loop, wake)
    try:
        while True:
            wake.clear()
            try:
                passed = await asyncio.to_thread(
                    deliver_once, settings, gateway, sessions, hub=hub
                )
                if passed.attempted:
                    log.info(
                        "notice delivery: %d tried, %d delivered",
                        len(passed.attempted),
                        len(passed.delivered),
                    )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notice delivery failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), settings.notice_sweep_seconds)
    finally:
        KICKER.unregister(loop, wake)
