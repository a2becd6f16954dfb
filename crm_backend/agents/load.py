"""Agent load, defined once: conversations the agent holds plus current offers.

Held = conversations with status ``agent`` assigned to them; offered = queued
escalations offered to them (an offer reserves a place until it is accepted,
declined or expires). ``agents/me``, the directory, routing and the supervisors'
overview all read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.models import Conversation, Escalation
from crm_backend.models.enums import ConversationStatus, EscalationStatus


@dataclass(frozen=True)
class Load:
    """An agent's load and what it is made of."""

    held: int = 0
    offered: int = 0

    @property
    def total(self) -> int:
        """Held conversations plus current offers."""
        return self.held + self.offered


def load_parts(session: Session, agent_ids: Iterable[int]) -> dict[int, Load]:
    """Each agent's held conversations and current offers (two grouped queries)."""
    ids = sorted(set(agent_ids))
    if not ids:
        return {}
    held = dict(
        session.execute(
            select(Conversation.assigned_agent_id, func.count())
            .where(
                Conversation.assigned_agent_id.in_(ids),
                Conversation.status == ConversationStatus.agent,
            )
            .group_by(Conversation.assigned_agent_id)
        ).all()
    )
    offered = dict(
        session.execute(
            select(Escalation.offered_agent_id, func.count())
            .where(
                Escalation.offered_agent_id.in_(ids),
                Escalation.status == EscalationStatus.queued,
            )
            .group_by(Escalation.offered_agent_id)
        ).all()
    )
    return {i: Load(held=held.get(i, 0), offered=offered.get(i, 0)) for i in ids}


def agent_loads(session: Session, agent_ids: Iterable[int]) -> dict[int, int]:
    """Each agent's load (held + offered)."""
    return {i: part.total for i, part in load_parts(session, agent_ids).items()}
