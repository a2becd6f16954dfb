"""Offers: which agent is asked to take a queued escalation, and what happens when
they do not (expiry, decline, going away). The rules are in ``routing``."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.outbox import pending, presence_hint
from crm_backend.escalations import routing, service
from crm_backend.models import Agent, Escalation
from crm_backend.models.enums import EscalationStatus

FILL_BATCH = 100


def offer(
    session: Session,
    escalation: Escalation,
    agent: Agent,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """Offer the escalation to ``agent`` until the offer timeout."""
    timeout = settings.offer_timeout_seconds
    escalation.offered_agent_id = agent.id
    escalation.offered_at = now
    escalation.offer_expires_at = now + timedelta(seconds=timeout)
    service.add_event(
        session,
        escalation,
        kind="offered",
        actor_id=agent.id,
        note=f"推送给{agent.name}（工号{agent.employee_no}），{timeout}秒内未接入将转下一位",
    )
    pending(session).hint(service.audience(session, escalation), presence_hint())


def offer_next(
    session: Session,
    escalation: Escalation,
    *,
    now: datetime,
    settings: Settings,
    exclude: set[int],
) -> Agent | None:
    """Offer to the next agent: in the escalation's team, else in the team routing
    picks for its topic. Returns the agent, or None (it waits in the team queue)."""
    _, teams = service.routing_inputs(session, customer_id=None)
    if escalation.target_team_id is not None:
        team = next((t for t in teams if t.team_id == escalation.target_team_id), None)
        if team is None:
            return None
        # The named agent did not take it: the team serves the customer now.
        escalation.target_agent_id = None
        chosen = routing.pick_agent(
            team.agents, routing.team_topic(escalation.topic, team), exclude
        )
        return _offer_to(session, escalation, chosen, now=now, settings=settings)
    route = routing.choose_route(
        topic=escalation.topic, servicing=None, teams=teams, exclude=exclude
    )
    if route.team_id is None:
        return None  # no team takes the topic: the named agent's queue keeps it
    escalation.target_agent_id = None
    escalation.target_team_id = route.team_id
    service.add_event(session, escalation, kind="rerouted", note=route.note)
    pending(session).hint(service.audience(session, escalation))
    if route.offer_agent_id is None:
        return None
    chosen = next(
        (a for t in teams for a in t.agents if a.agent_id == route.offer_agent_id),
        None,
    )
    return _offer_to(session, escalation, chosen, now=now, settings=settings)


def _offer_to(
    session: Session,
    escalation: Escalation,
    chosen: routing.AgentLoad | None,
    *,
    now: datetime,
    settings: Settings,
) -> Agent | None:
    agent = session.get(Agent, chosen.agent_id) if chosen is not None else None
    if agent is not None:
        offer(session, escalation, agent, now=now, settings=settings)
    return agent


def pass_on(
    session: Session,
    escalation: Escalation,
    *,
    kind: str,
    now: datetime,
    settings: Settings,
    note: str | None = None,
    actor_id: int | None = None,
) -> Agent | None:
    """The offered agent did not take it (``offer_expired``, ``declined``,
    ``released``): log it, clear the offer and offer it to the next agent."""
    previous = escalation.offered_agent_id
    hint = service.audience(session, escalation)
    service.add_event(
        session,
        escalation,
        kind=kind,
        actor_id=previous if actor_id is None else actor_id,
        note=note,
    )
    service.clear_offer(escalation)
    pending(session).hint(hint, presence_hint())
    exclude = service.had_offer(session, escalation)
    if previous is not None:
        exclude.add(previous)
    return offer_next(session, escalation, now=now, settings=settings, exclude=exclude)


def fill(session: Session, *, now: datetime, settings: Settings) -> list[int]:
    """Offer waiting team escalations (no offer, no call-back promised) to agents
    who have room now, in queue order. Returns the escalations offered."""
    query = (
        select(Escalation)
        .where(
            Escalation.status == EscalationStatus.queued,
            Escalation.offered_agent_id.is_(None),
            Escalation.target_team_id.is_not(None),
        )
        .order_by(Escalation.rank_at, Escalation.id)
        .limit(FILL_BATCH)
        .with_for_update(skip_locked=True)
    )
    waiting = [e for e in session.scalars(query) if service.callback_due_at(e) is None]
    if not waiting:
        return []
    _, teams = service.routing_inputs(session, customer_id=None)
    by_team = {t.team_id: t for t in teams}
    added: Counter[int] = Counter()
    offered = []
    for escalation in waiting:
        team = by_team.get(escalation.target_team_id or -1)
        if team is None:
            continue
        agents = [
            dataclasses.replace(a, load=a.load + added[a.agent_id]) for a in team.agents
        ]
        chosen = routing.pick_agent(
            agents,
            routing.team_topic(escalation.topic, team),
            service.had_offer(session, escalation),
        )
        if chosen is None:
            continue
        agent = _offer_to(session, escalation, chosen, now=now, settings=settings)
        if agent is not None:
            added[agent.id] += 1
            offered.append(escalation.id)
    return offered


def release_offers(
    session: Session,
    *,
    agent: Agent,
    now: datetime,
    settings: Settings,
    note: str,
) -> int:
    """The agent went away or offline: their offers move on now, not at expiry."""
    held = session.scalars(
        select(Escalation)
        .where(
            Escalation.status == EscalationStatus.queued,
            Escalation.offered_agent_id == agent.id,
        )
        .order_by(Escalation.rank_at, Escalation.id)
    ).all()
    for escalation in held:
        pass_on(
            session,
            escalation,
            kind="released",
            now=now,
            settings=settings,
            note=note,
        )
    return len(held)
