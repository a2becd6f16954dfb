"""The queue's wait estimate: free places first, then the desk's measured pace."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from crm_backend.escalations import wait
from crm_backend.escalations.wait import Capacity, estimated_wait_minutes
from crm_backend.models import Agent, Team
from crm_backend.models.base import utcnow
from crm_backend.models.enums import ConversationStatus, EscalationStatus, Presence
from tests.factories import make_agent, make_conversation, make_escalation, make_team


def test_customers_who_fit_a_free_place_wait_for_the_accept_only() -> None:
    capacity = Capacity(free=2, slots=6, handling_minutes=12.0)
    assert estimated_wait_minutes(1, capacity) == 1
    assert estimated_wait_minutes(2, capacity) == 1


def test_customers_behind_wait_for_conversations_to_end() -> None:
    capacity = Capacity(free=0, slots=6, handling_minutes=12.0)
    # one place frees every 12 / 6 = 2 minutes
    assert [estimated_wait_minutes(p, capacity) for p in (1, 2, 3, 10)] == [
        2,
        4,
        6,
        20,
    ]
    behind_free = Capacity(free=2, slots=6, handling_minutes=12.0)
    assert estimated_wait_minutes(5, behind_free) == 6


def test_nobody_serving_still_gives_a_finite_estimate() -> None:
    assert (
        estimated_wait_minutes(3, Capacity(free=0, slots=0, handling_minutes=8.0)) == 24
    )


def _finished(
    session: Session, team: Team, agent: Agent, minutes: float, *, days_ago: float = 1
) -> None:
    """A conversation of ``team`` that ``agent`` accepted and resolved."""
    escalation = make_escalation(
        session,
        conversation=make_conversation(session),
        status=EscalationStatus.closed,
        team=team,
    )
    ended = utcnow() - timedelta(days=days_ago)
    escalation.assigned_agent_id = agent.id
    escalation.accepted_at = ended - timedelta(minutes=minutes)
    escalation.resolved_at = ended
    escalation.closed_at = ended + timedelta(minutes=1)
    session.flush()


def test_handling_time_is_the_median_of_recent_conversations(session: Session) -> None:
    team = make_team(session, topics=["general"])
    agent = make_agent(session, team=team)
    for minutes in (3, 5, 6, 7, 30):
        _finished(session, team, agent, minutes)
    _finished(session, team, agent, 90, days_ago=30)  # too old to count
    assert wait.handling_minutes(session, team_id=team.id) == 6
    assert wait.handling_minutes(session, agent_id=agent.id) == 6


def test_too_few_conversations_use_the_default(session: Session) -> None:
    team = make_team(session, topics=["general"])
    agent = make_agent(session, team=team)
    for minutes in (3, 4):
        _finished(session, team, agent, minutes)
    assert wait.handling_minutes(session, team_id=team.id) == (
        wait.DEFAULT_HANDLING_MINUTES
    )


def test_capacity_counts_online_agents_and_the_conversations_they_hold(
    session: Session,
) -> None:
    team = make_team(session, topics=["general"])
    busy = make_agent(session, team=team, capacity=2)
    make_agent(session, team=team, capacity=3)
    make_agent(session, team=team, capacity=4, presence=Presence.offline)
    for _ in range(2):
        conversation = make_conversation(session)
        conversation.status = ConversationStatus.agent
        conversation.assigned_agent_id = busy.id
    for minutes in (10, 10, 12, 14, 20):
        _finished(session, team, busy, minutes)
    queued = make_escalation(
        session, conversation=make_conversation(session), team=team
    )
    assert wait.capacity_for(session, queued) == Capacity(
        free=3, slots=5, handling_minutes=12
    )
    # fourth in line: three go to the free places, then 12 / 5 minutes each
    assert wait.estimate(session, queued, 4) == 3
    queued.offered_agent_id = busy.id
    assert wait.estimate(session, queued, 4) == 1
