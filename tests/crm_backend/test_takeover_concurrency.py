"""Two agents, one conversation; two CRM workers, one sweep: real concurrency on
PostgreSQL (separate connections, committed data, requests released together).

SQLite serialises writers itself and is the single-process embedded default, so
these run on PostgreSQL only (required in CI).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_backend.core.config import Settings, get_settings
from crm_backend.core.deps import get_session
from crm_backend.core.security import new_token, token_digest
from crm_backend.escalations import flows, jobs
from crm_backend.escalations.schemas import EscalationCreate
from crm_backend.main import create_app
from crm_backend.models import (
    Agent,
    AgentSession,
    Conversation,
    Escalation,
    EscalationEvent,
    Message,
    Team,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    Channel,
    ConversationStatus,
    EscalationStatus,
    EscalationTrigger,
    Presence,
)

pytestmark = pytest.mark.postgres


@dataclass
class World:
    """Committed rows of one test, removed afterwards."""

    team_id: int = 0
    agent_ids: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)
    escalation_ids: list[int] = field(default_factory=list)


@pytest.fixture()
def pg(engine: Engine) -> Engine:
    """The migrated test database, PostgreSQL only."""
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    return engine


def _build(engine: Engine, settings: Settings, *, agents: int, chats: int) -> World:
    world = World()
    with Session(engine, expire_on_commit=False) as session:
        team = Team(
            code=f"cc{uuid.uuid4().hex[:8]}", name="并发测试组", topics=["general"]
        )
        session.add(team)
        session.flush()
        world.team_id = team.id
        for i in range(agents):
            agent = Agent(
                employee_no=f"C{uuid.uuid4().hex[:10]}",
                name=f"坐席{i}",
                role=AgentRole.service_agent,
                team_id=team.id,
                presence=Presence.online,
                capacity=chats + 1,
            )
            session.add(agent)
            session.flush()
            token = new_token()
            session.add(
                AgentSession(
                    agent_id=agent.id,
                    token_hash=token_digest(token),
                    expires_at=utcnow() + timedelta(hours=1),
                )
            )
            world.agent_ids.append(agent.id)
            world.tokens.append(token)
        for _ in range(chats):
            conversation = Conversation(
                channel=Channel.web,
                external_id=uuid.uuid4().hex,
                status=ConversationStatus.bot,
            )
            session.add(conversation)
            session.flush()
            world.conversation_ids.append(conversation.id)
            escalation = flows.escalate(
                session,
                escalation_in=EscalationCreate(
                    conversation_id=conversation.id,
                    trigger=EscalationTrigger.customer_request,
                    reason="并发测试",
                ),
                settings=settings,
            ).escalation
            world.escalation_ids.append(escalation.id)
        session.info.clear()
        session.commit()
    return world


def _purge(engine: Engine, world: World) -> None:
    with Session(engine) as session:
        ids = world.escalation_ids
        session.execute(
            delete(EscalationEvent).where(EscalationEvent.escalation_id.in_(ids))
        )
        session.execute(delete(Escalation).where(Escalation.id.in_(ids)))
        session.execute(
            delete(Message).where(Message.conversation_id.in_(world.conversation_ids))
        )
        session.execute(
            delete(Conversation).where(Conversation.id.in_(world.conversation_ids))
        )
        session.execute(
            delete(AgentSession).where(AgentSession.agent_id.in_(world.agent_ids))
        )
        session.execute(delete(Agent).where(Agent.id.in_(world.agent_ids)))
        session.execute(delete(Team).where(Team.id == world.team_id))
        session.commit()


@pytest.fixture()
def world_factory(pg: Engine, settings: Settings) -> Iterator[Any]:
    """Build committed worlds; every one is purged after the test."""
    built: list[World] = []

    def build(*, agents: int, chats: int) -> World:
        world = _build(pg, settings, agents=agents, chats=chats)
        built.append(world)
        return world

    yield build
    for world in built:
        _purge(pg, world)


@contextmanager
def released_together(engine: Engine, marker: str, parties: int = 2) -> Iterator[None]:
    """Hold every statement containing ``marker`` until ``parties`` of them wait,
    then let them all run at once (on separate connections)."""
    barrier = threading.Barrier(parties, timeout=10)

    def hold(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if marker in statement:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hold)


def _app(engine: Engine, settings: Settings) -> TestClient:
    """The app on real, committing per-request sessions of ``engine``."""
    app = create_app(settings)
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def _session() -> Iterator[Session]:
        session = factory()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app)


def test_exactly_one_of_two_concurrent_accepts_wins(pg, settings, world_factory):
    world = world_factory(agents=2, chats=1)
    escalation_id = world.escalation_ids[0]
    url = f"/api/v1/agent/escalations/{escalation_id}/accept"
    results: dict[int, Any] = {}
    with (
        _app(pg, settings) as client,
        released_together(pg, "UPDATE escalations SET status"),
    ):

        def accept(i: int) -> None:
            headers = {"Authorization": f"Bearer {world.tokens[i]}"}
            results[i] = client.post(url, headers=headers)

        threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 409], [r.text for r in results.values()]
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json()["error"]["code"] == "already_accepted"
    winner_index = next(i for i, r in results.items() if r.status_code == 200)
    winner = world.agent_ids[winner_index]
    with Session(pg) as session:
        escalation = session.get(Escalation, escalation_id)
        assert escalation is not None
        assert escalation.status == EscalationStatus.active
        assert escalation.assigned_agent_id == winner
        conversation = session.get(Conversation, escalation.conversation_id)
        assert conversation is not None
        assert conversation.assigned_agent_id == winner
        accepted = session.scalar(
            select(func.count()).where(
                EscalationEvent.escalation_id == escalation_id,
                EscalationEvent.kind == "accepted",
            )
        )
        assert accepted == 1
        notices = session.scalar(
            select(func.count()).where(Message.conversation_id == conversation.id)
        )
        assert notices == 1  # one "joined" notice, from the winner


def test_two_workers_sweeping_at_once_move_each_offer_once(pg, settings, world_factory):
    world = world_factory(agents=3, chats=4)
    later = utcnow() + timedelta(seconds=settings.offer_timeout_seconds + 1)
    swept: dict[int, jobs.Swept] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        with Session(pg, expire_on_commit=False) as session:
            try:
                swept[i] = jobs.sweep(session, settings=settings, now=later)
                session.info.clear()
                session.commit()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                session.rollback()

    with released_together(pg, "FOR UPDATE SKIP LOCKED"):
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    expired = swept[0].expired + swept[1].expired
    assert sorted(expired) == sorted(world.escalation_ids)  # each once, by one
    with Session(pg) as session:
        counts = dict(
            session.execute(
                select(EscalationEvent.escalation_id, func.count())
                .where(
                    EscalationEvent.escalation_id.in_(world.escalation_ids),
                    EscalationEvent.kind == "offer_expired",
                )
                .group_by(EscalationEvent.escalation_id)
            ).all()
        )
    assert counts == dict.fromkeys(world.escalation_ids, 1)
