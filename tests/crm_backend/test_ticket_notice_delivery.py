"""Ticket notices reach the customer's open chat through the gateway, or wait."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.gateway import GatewayClient
from crm_backend.models import Conversation, Customer, Message, Ticket, TicketNotice
from crm_backend.models.enums import Channel, ConversationStatus, Sender, TicketRemedy
from crm_backend.tickets import delivery, lifecycle
from tests import aio
from tests.factories import make_agent, make_conversation, make_customer, make_ticket

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@dataclass
class StandIn:
    """A real HTTP server in the gateway's place: records the posts and answers
    ``delivered`` (and ``message_id``) as told."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = True
    message_id: int | None = None
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def stand_in() -> Iterator[StandIn]:
    """The stand-in on a free loopback port for the block."""
    gateway = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            gateway.posts.append(json.loads(self.rfile.read(length) or b"{}"))
            body = json.dumps(
                {"delivered": gateway.delivered, "message_id": gateway.message_id}
            ).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            gateway.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture()
def gateway(settings: Settings) -> Iterator[StandIn]:
    """The stand-in, configured as the CRM's gateway."""
    with stand_in() as fake:
        settings.gateway_url = fake.url
        settings.notice_sweep_seconds = 5
        yield fake


def sessions_of(session: Session) -> Callable[[], Session]:
    """Sessions of the delivery job on the test's connection (rolled back after)."""
    connection = session.connection()
    return lambda: Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )


def _resolve(
    session: Session, customer: Customer, conversation: Conversation | None = None
) -> tuple[Ticket, TicketNotice]:
    """Acknowledge and resolve a ticket (refund); its pending resolution notice."""
    agent = make_agent(session, name="周静")
    ticket = make_ticket(session, customer=customer, created_at=NOW - timedelta(days=2))
    ticket.conversation_id = conversation.id if conversation else None
    lifecycle.acknowledge(session, ticket=ticket, actor=agent, now=NOW - timedelta(1))
    lifecycle.resolve(
        session,
        ticket=ticket,
        actor=agent,
        outcome="已为您补发理赔款",
        remedy=TicketRemedy.refund,
        refund_fen=12850,
        now=NOW - timedelta(hours=1),
    )
    for early in _notices(session, customer)[:-1]:
        early.delivered_at = NOW - timedelta(hours=2)  # only the resolution waits
    session.flush()
    return ticket, _notices(session, customer)[-1]


def _notices(session: Session, customer: Customer) -> list[TicketNotice]:
    return list(
        session.scalars(
            select(TicketNotice)
            .where(TicketNotice.customer_id == customer.id)
            .order_by(TicketNotice.id)
        )
    )


def _system_messages(session: Session, conversation: Conversation) -> list[Message]:
    return list(
        session.scalars(
            select(Message).where(
                Message.conversation_id == conversation.id,
                Message.sender == Sender.system,
            )
        )
    )


def _pass(session: Session, settings: Settings, at: datetime) -> delivery.Passed:
    passed = delivery.deliver_once(
        settings, GatewayClient(), sessions_of(session), now=at
    )
    session.expire_all()
    return passed


def test_a_delivered_notice_is_in_the_transcript_and_marked(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    customer = make_customer(session)
    chat = make_conversation(session, customer=customer)
    ticket, notice = _resolve(session, customer, chat)
    assert "处理完毕" in notice.text and "退款 ¥128.50" in notice.text

    passed = _pass(session, settings, NOW)
    assert passed.attempted == [notice.id] and passed.delivered == [notice.id]
    [post] = gateway.posts
    assert post == {
        "type": "notice",
        "conversation_id": chat.id,
        "channel": "web",
        "external_id": chat.external_id,
        "notice": {
            "id": notice.id,
            "ticket_no": ticket.ticket_no,
            "kind": "resolved",
            "text": notice.text,
        },
    }
    [message] = _system_messages(session, chat)
    assert message.text == notice.text
    assert message.payload == {"notice_id": notice.id, "ticket_no": ticket.ticket_no}
    assert notice.delivered_at is not None and notice.channel == "web"
    # delivered once: the next pass has nothing to do
    assert _pass(session, settings, NOW + timedelta(minutes=1)) == delivery.Passed()
    assert len(gateway.posts) == 1


def test_a_notice_the_gateway_recorded_is_not_recorded_twice(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    customer = make_customer(session)
    chat = make_conversation(session, customer=customer, channel=Channel.wechat)
    chat.last_customer_message_at = NOW - timedelta(hours=47)
    _, notice = _resolve(session, customer)
    gateway.message_id = 4242
    assert _pass(session, settings, NOW).delivered == [notice.id]
    assert gateway.posts[0]["channel"] == "wechat"
    assert _system_messages(session, chat) == []
    assert notice.channel == "wechat"


def test_not_delivered_stays_pending_and_is_retried_after_the_interval(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    customer = make_customer(session)
    make_conversation(session, customer=customer)
    _, notice = _resolve(session, customer)
    gateway.delivered = False

    assert _pass(session, settings, NOW) == delivery.Passed(attempted=[notice.id])
    assert notice.delivered_at is None and notice.attempted_at == NOW
    # not again within the interval (5 s), however often the job runs
    for seconds in (1, 3, 4.9):
        assert (
            _pass(session, settings, NOW + timedelta(seconds=seconds)).attempted == []
        )
    assert len(gateway.posts) == 1

    later = NOW + timedelta(seconds=5)
    assert _pass(session, settings, later).attempted == [notice.id]
    assert len(gateway.posts) == 2 and notice.attempted_at == later

    gateway.delivered = True
    assert _pass(session, settings, later + timedelta(seconds=5)).delivered == [
        notice.id
    ]
    assert notice.delivered_at is not None


def test_the_tickets_own_open_conversation_is_preferred(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    customer = make_customer(session)
    own = make_conversation(session, customer=customer)
    newer = make_conversation(session, customer=customer)
    newer.last_message_at = NOW
    _resolve(session, customer, own)
    _pass(session, settings, NOW)
    assert gateway.posts[0]["conversation_id"] == own.id

    # the ticket's conversation closed: the customer's latest open one
    customer2 = make_customer(session)
    closed = make_conversation(
        session, customer=customer2, status=ConversationStatus.closed
    )
    latest = make_conversation(session, customer=customer2)
    _resolve(session, customer2, closed)
    _pass(session, settings, NOW)
    assert gateway.posts[-1]["conversation_id"] == latest.id


def test_no_reachable_conversation_means_no_attempt(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    customer = make_customer(session)
    make_conversation(session, customer=customer, status=ConversationStatus.closed)
    make_conversation(session, customer=customer, channel=Channel.rest)
    stale = make_conversation(session, customer=customer, channel=Channel.wechat)
    stale.last_customer_message_at = NOW - timedelta(hours=48, seconds=1)
    _, notice = _resolve(session, customer)

    assert _pass(session, settings, NOW) == delivery.Passed()
    assert gateway.posts == [] and notice.attempted_at is None

    # the customer writes on WeChat again: the window opens, the notice goes out
    stale.last_customer_message_at = NOW - timedelta(minutes=1)
    session.flush()
    assert _pass(session, settings, NOW).delivered == [notice.id]
    assert gateway.posts[0]["channel"] == "wechat"
    assert gateway.posts[0]["external_id"] == stale.external_id


def test_a_web_chat_idle_for_48_hours_is_no_longer_tried(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    customer = make_customer(session)
    idle = make_conversation(session, customer=customer)
    idle.last_message_at = NOW - timedelta(hours=48, seconds=1)
    _, notice = _resolve(session, customer)
    assert _pass(session, settings, NOW) == delivery.Passed()
    assert gateway.posts == [] and notice.attempted_at is None

    # the chat is used again: the notice goes out there
    idle.last_message_at = NOW - timedelta(minutes=1)
    session.flush()
    assert _pass(session, settings, NOW).delivered == [notice.id]
    assert gateway.posts[0]["external_id"] == idle.external_id


def test_without_a_gateway_nothing_is_attempted(
    session: Session, settings: Settings
) -> None:
    customer = make_customer(session)
    make_conversation(session, customer=customer)
    _, notice = _resolve(session, customer)
    settings.gateway_url = ""
    assert _pass(session, settings, NOW) == delivery.Passed()
    assert notice.attempted_at is None


def test_an_unreachable_gateway_leaves_the_notice_pending(
    session: Session, settings: Settings
) -> None:
    customer = make_customer(session)
    make_conversation(session, customer=customer)
    _, notice = _resolve(session, customer)
    settings.gateway_url = "http://127.0.0.1:9"
    assert _pass(session, settings, NOW) == delivery.Passed(attempted=[notice.id])
    assert notice.delivered_at is None


def test_pending_notices_are_picked_up_by_a_new_process_and_a_verb_kicks_it(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    """The job keeps nothing in memory: a loop started later (a restarted CRM)
    delivers what an earlier one left; a verb's commit wakes it at once."""
    customer = make_customer(session)
    chat = make_conversation(session, customer=customer)
    _, notice = _resolve(session, customer, chat)
    gateway.delivered = False
    _pass(session, settings, datetime.now(UTC) - timedelta(minutes=2))
    assert len(gateway.posts) == 1  # the first process tried, then "stopped"

    gateway.delivered = True
    settings.notice_sweep_seconds = 60  # a kick, not the interval, must wake it
    connection = session.connection()
    commits = threading.Condition()
    committed: list[int] = []

    class Counted(Session):
        # one connection for the loop's thread and the test's: the test waits for
        # a pass's commits before it writes, so they never overlap
        def commit(self) -> None:
            super().commit()
            with commits:
                committed.append(1)
                commits.notify_all()

    def sessions() -> Session:
        return Counted(bind=connection, join_transaction_mode="create_savepoint")

    def wait_commits(count: int) -> bool:
        with commits:
            return commits.wait_for(lambda: len(committed) >= count, timeout=30)

    async def restarted() -> None:
        task = asyncio.create_task(
            delivery.run_notice_sweeper(settings, GatewayClient(), None, sessions)
        )
        try:
            # the pending notice, at startup: claimed, posted, marked
            assert await asyncio.to_thread(wait_commits, 2)
            assert len(gateway.posts) == 2
            # an agent's verb commits a new notice: delivered without waiting 60 s
            verb = sessions()
            ticket = make_ticket(verb, customer=verb.get_one(Customer, customer.id))
            lifecycle.acknowledge(verb, ticket=ticket, actor=make_agent(verb))
            verb.commit()
            verb.close()
            assert await asyncio.to_thread(wait_commits, 5)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    aio.run(restarted())
    session.expire_all()
    assert [p["notice"]["kind"] for p in gateway.posts] == [
        "resolved",
        "resolved",
        "acknowledged",
    ]
    assert notice.delivered_at is not None


def test_notices_are_claimed_with_skip_locked_on_postgresql(
    session: Session, settings: Settings, gateway: StandIn
) -> None:
    """Two CRM workers never wait on, nor both take, the same notice."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers")
    customer = make_customer(session)
    make_conversation(session, customer=customer)
    _resolve(session, customer)
    seen: list[str] = []
    connection = session.connection()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        assert len(delivery.claim(session, settings=settings, now=NOW)) == 1
    finally:
        event.remove(connection, "before_cursor_execute", record)
    [locking] = [s for s in seen if "FOR UPDATE" in s]
    assert "SKIP LOCKED" in locking and "OF ticket_notices" in locking


def test_notice_settings() -> None:
    defaults = Settings()
    assert defaults.notice_sweep_enabled is True
    assert defaults.notice_sweep_seconds == 5


def test_the_follow_up_carries_the_latest_visible_step(
    client: TestClient, session: Session, service_headers: dict[str, str]
) -> None:
    customer = make_customer(session)
    agent = make_agent(session, name="周静")
    ticket = make_ticket(session, customer=customer)
    url = f"/api/v1/service/tickets/{ticket.ticket_no}?customer_id={customer.id}"
    lifecycle.acknowledge(session, ticket=ticket, actor=agent)
    lifecycle.request_info(
        session, ticket=ticket, actor=agent, text="请提供医院的费用清单"
    )
    body = client.get(url, headers=service_headers).json()
    assert body["acknowledged_at"] and body["resolved_at"] is None
    assert body["info_request"] == "请提供医院的费用清单"
    assert body["info_requested_at"] and body["remedy_text"] is None

    lifecycle.resolve(
        session,
        ticket=ticket,
        actor=agent,
        outcome="已补发理赔款",
        remedy=TicketRemedy.refund,
        refund_fen=12850,
    )
    body = client.get(url, headers=service_headers).json()
    assert body["status"] == "resolved" and body["resolved_at"]
    assert body["outcome"] == "已补发理赔款"
    assert body["remedy"] == "refund" and body["remedy_text"] == "退款 ¥128.50"
    assert body["info_request"] is None  # answered: the ticket is resolved


def test_failing_notices_do_not_starve_others_and_order_is_kept(
    session: Session,
    settings: Settings,
    gateway: StandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "CLAIM_BATCH", 2)
    gateway.delivered = False
    waiting = []
    for _ in range(3):
        customer = make_customer(session)
        make_conversation(session, customer=customer)
        waiting.append(_resolve(session, customer)[1].id)
    first = _pass(session, settings, NOW)
    assert first.attempted == waiting[:2]
    # the third, never tried, is taken before the two tried a moment ago
    second = _pass(session, settings, NOW + timedelta(seconds=5))
    assert len(second.attempted) == 2 and waiting[2] in second.attempted

    # one customer's notices go out in the order they were left
    customer = make_customer(session)
    make_conversation(session, customer=customer)
    ticket, older = _resolve(session, customer)
    assert older.id in _pass(session, settings, NOW + timedelta(seconds=6)).attempted
    lifecycle.reopen(session, ticket=ticket, actor=make_agent(session), reason="未到账")
    lifecycle.update(
        session, ticket=ticket, actor=make_agent(session), text="已重新提交财务"
    )
    newer = _notices(session, customer)[-1]
    assert newer.kind == "update"
    # the newer one waits while the older one is not due
    assert (
        newer.id not in _pass(session, settings, NOW + timedelta(seconds=7)).attempted
    )
    gateway.posts.clear()
    gateway.delivered = True
    monkeypatch.setattr(delivery, "CLAIM_BATCH", 50)
    _pass(session, settings, NOW + timedelta(seconds=11))
    mine = [
        p["notice"]["id"]
        for p in gateway.posts
        if p["notice"]["id"] in (older.id, newer.id)
    ]
    assert mine == [older.id, newer.id]
