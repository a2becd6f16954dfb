"""The offer sweep (``escalations.jobs``) with a controlled clock, and the
re-queueing of a departing agent's work."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.console.hub import Hub
from crm_backend.core.outbox import take
from crm_backend.escalations import jobs
from crm_backend.models import Escalation, EscalationEvent, Message
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    ConversationStatus,
    EscalationStatus,
    Presence,
    Sender,
)
from tests import aio
from tests.crm_backend.takeover import (
    AGENT_URL,
    bearer,
    escalate,
    make_desk,
    supervisor,
)
from tests.factories import make_agent, make_conversation, make_team

LATER = timedelta(seconds=61)


def _events(session: Session, escalation_id: int) -> list[tuple[str, int | None]]:
    return [
        (e.kind, e.actor_id)
        for e in session.scalars(
            select(EscalationEvent)
            .where(EscalationEvent.escalation_id == escalation_id)
            .order_by(EscalationEvent.id)
        )
    ]


def _escalation(session: Session, escalation_id: int) -> Escalation:
    escalation = session.get(Escalation, escalation_id)
    assert escalation is not None
    session.refresh(escalation)
    return escalation


def test_an_expired_offer_moves_to_the_next_agent(
    client, session, service_headers, settings
):
    desk = make_desk(session, agents=3)
    first, second, third = desk.agents
    body = escalate(client, service_headers, desk.conversation)
    assert body["offered_agent"]["id"] == first.id
    # not yet: one second before the timeout nothing moves
    early = jobs.sweep(session, settings=settings, now=utcnow() + timedelta(seconds=59))
    assert early.expired == [] and early.offered == []
    swept = jobs.sweep(session, settings=settings, now=utcnow() + LATER)
    assert swept.expired == [body["id"]]
    escalation = _escalation(session, body["id"])
    assert escalation.offered_agent_id == second.id
    assert _events(session, body["id"])[-2:] == [
        ("offer_expired", first.id),
        ("offered", second.id),
    ]
    # then to the third, and never back to one who let it expire
    jobs.sweep(session, settings=settings, now=utcnow() + 2 * LATER)
    assert _escalation(session, body["id"]).offered_agent_id == third.id
    jobs.sweep(session, settings=settings, now=utcnow() + 3 * LATER)
    escalation = _escalation(session, body["id"])
    assert escalation.offered_agent_id is None
    assert escalation.status == EscalationStatus.queued
    assert escalation.target_team_id == desk.team.id  # still in the team queue
    # a later sweep does not offer it again to those who had it
    assert (
        jobs.sweep(session, settings=settings, now=utcnow() + 4 * LATER).offered == []
    )
    # a newcomer with room gets it
    newcomer = make_agent(session, team=desk.team, name="吴昊")
    filled = jobs.sweep(session, settings=settings, now=utcnow() + 5 * LATER)
    assert filled.offered == [body["id"]]
    assert _escalation(session, body["id"]).offered_agent_id == newcomer.id
    # everyone in the team may still accept from the queue, also one who let it go
    accepted = client.post(
        f"{AGENT_URL}/escalations/{body['id']}/accept", headers=bearer(client, first)
    )
    assert accepted.status_code == 200


def test_the_sweep_tells_consoles_what_moved(
    client, session, service_headers, settings
):
    desk = make_desk(session, agents=2)
    body = escalate(client, service_headers, desk.conversation)
    take(session)
    jobs.sweep(session, settings=settings, now=utcnow() + LATER)
    outbox = take(session)
    kinds = {h.message["type"] for h in outbox.hints}
    assert kinds == {"queue", "presence"}
    queues = [h for h in outbox.hints if h.message["type"] == "queue"]
    # the agent who lost the offer and the one who got it (and their team)
    assert {a.id for a in desk.agents} <= set().union(*(h.agent_ids for h in queues))
    assert all(desk.team.id in h.team_ids and h.supervisors for h in queues)
    assert outbox.events == []  # nothing for the customer's channel
    assert _escalation(session, body["id"]).offered_agent_id == desk.agents[1].id


def test_a_named_agent_s_expired_offer_goes_to_a_team(
    client, session, service_headers, settings
):
    own_team = make_team(session, name="华东区营销服务部", topics=["sales"])
    manager = make_agent(
        session, team=own_team, name="陈思远", role=AgentRole.account_manager
    )
    desk = make_desk(session, servicing=manager)
    body = escalate(client, service_headers, desk.conversation)
    assert body["offered_agent"]["id"] == manager.id
    jobs.sweep(session, settings=settings, now=utcnow() + LATER)
    escalation = _escalation(session, body["id"])
    assert escalation.target_agent_id is None
    assert escalation.target_team_id == desk.team.id
    assert escalation.offered_agent_id == desk.agents[0].id
    kinds = [kind for kind, _ in _events(session, body["id"])]
    assert kinds == ["queued", "offered", "offer_expired", "rerouted", "offered"]
    notice = client.get(
        f"/api/v1/service/escalations/{body['id']}", headers=service_headers
    ).json()["notice"]
    assert desk.team.name in notice


def test_fill_offers_waiting_escalations_in_queue_order(
    client, session, service_headers, settings
):
    desk = make_desk(session, agents=1)
    agent = desk.agents[0]
    agent.capacity = 0
    session.flush()
    first = escalate(client, service_headers, desk.conversation)
    second_conv = make_conversation(session)
    second = escalate(
        client, service_headers, second_conv, trigger="negative_sentiment"
    )
    assert first["offered_agent"] is None and second["offered_agent"] is None
    agent.capacity = 1
    session.flush()
    swept = jobs.sweep(session, settings=settings, now=utcnow())
    # the angrier customer ranks first (priority 15 = 15 minutes of waiting)
    assert swept.offered == [second["id"]]
    agent.capacity = 2
    session.flush()
    assert jobs.sweep(session, settings=settings, now=utcnow()).offered == [first["id"]]


def test_call_backs_are_not_offered(client, session, service_headers, settings):
    desk = make_desk(session, agents=1)
    desk.agents[0].presence = Presence.offline
    session.flush()
    body = escalate(client, service_headers, desk.conversation)
    assert body["callback"] is True
    desk.agents[0].presence = Presence.online
    session.flush()
    assert jobs.sweep(session, settings=settings, now=utcnow()).offered == []


def test_sweeper_loop_commits_and_publishes(session, settings, service_headers):
    """``run_sweeper`` with the test's connection: one pass, then cancelled."""
    desk = make_desk(session, agents=2)
    from crm_backend.escalations import flows
    from crm_backend.escalations.schemas import EscalationCreate

    created = flows.escalate(
        session,
        escalation_in=EscalationCreate(
            conversation_id=desk.conversation.id,
            trigger="customer_request",
            reason="转人工",
        ),
        settings=settings,
        now=utcnow() - LATER,
    ).escalation
    take(session)
    connection = session.connection()
    hub = Hub()
    published = []
    hub.publish = published.append  # type: ignore[method-assign]

    def sessions() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint")

    async def one_pass() -> None:
        task = asyncio.create_task(jobs.run_sweeper(settings, hub, sessions))
        for _ in range(200):
            await asyncio.sleep(0.02)
            if published:
                break
        task.cancel()

    aio.run(one_pass())
    session.expire_all()
    assert _escalation(session, created.id).offered_agent_id == desk.agents[1].id
    assert {h.message["type"] for h in published} == {"queue", "presence"}


# ---- departure -------------------------------------------------------------------


def test_a_departing_agent_s_work_goes_back_to_the_team(
    client, session, service_headers, settings
):
    desk = make_desk(session, agents=3)
    leaver, mate, other = desk.agents
    leaver.role = AgentRole.account_manager
    held = escalate(client, service_headers, desk.conversation)
    headers = bearer(client, leaver)
    assert (
        client.post(
            f"{AGENT_URL}/escalations/{held['id']}/accept", headers=headers
        ).status_code
        == 200
    )
    # a second customer is offered to him (the others have no room just now)
    mate.capacity = other.capacity = 0
    session.flush()
    offered = escalate(client, service_headers, make_conversation(session))
    assert offered["offered_agent"]["id"] == leaver.id
    mate.capacity = other.capacity = 3
    session.flush()
    boss = supervisor(session)
    response = client.post(
        f"{AGENT_URL}/agents/{leaver.id}/depart",
        json={"successor_id": mate.id},
        headers=bearer(client, boss),
    )
    assert response.status_code == 200, response.text
    assert response.json()["escalations_requeued"] == 2
    was_held = _escalation(session, held["id"])
    assert was_held.status == EscalationStatus.queued
    assert was_held.assigned_agent_id is None
    assert was_held.target_team_id == desk.team.id
    assert was_held.offered_agent_id in (mate.id, other.id)
    session.refresh(desk.conversation)
    assert desk.conversation.status == ConversationStatus.queued
    assert desk.conversation.assigned_agent_id is None
    notice = session.scalars(
        select(Message)
        .where(Message.conversation_id == desk.conversation.id)
        .order_by(Message.id.desc())
    ).first()
    assert notice is not None and notice.sender == Sender.system
    assert "转接其他客服" in notice.text
    was_offered = _escalation(session, offered["id"])
    assert was_offered.offered_agent_id in (mate.id, other.id)
    assert ("released", leaver.id) in _events(session, offered["id"])
    assert "requeued" in [kind for kind, _ in _events(session, held["id"])]


def test_going_away_or_logging_out_passes_offers_on(client, session, service_headers):
    desk = make_desk(session, agents=3)
    first, second, third = desk.agents
    body = escalate(client, service_headers, desk.conversation)
    assert body["offered_agent"]["id"] == first.id
    away = client.post(
        f"{AGENT_URL}/me/presence",
        json={"presence": "away"},
        headers=bearer(client, first),
    )
    assert away.status_code == 200 and away.json()["load"] == 0
    assert _escalation(session, body["id"]).offered_agent_id == second.id
    assert ("released", first.id) in _events(session, body["id"])
    headers = bearer(client, second)
    assert client.post(f"{AGENT_URL}/auth/logout", headers=headers).status_code == 204
    assert _escalation(session, body["id"]).offered_agent_id == third.id
    # going online again takes nothing away from anyone
    back = client.post(
        f"{AGENT_URL}/me/presence",
        json={"presence": "online"},
        headers=bearer(client, first),
    )
    assert back.status_code == 200
    assert _escalation(session, body["id"]).offered_agent_id == third.id
