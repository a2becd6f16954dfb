"""The hand-off brief: why the bot escalated, what it collected, the customer's
picture (read through each domain's own service) and the latest turns."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.claims import service as claims
from crm_backend.conversations import chat
from crm_backend.conversations import service as conversations
from crm_backend.conversations.views import agent_ref, message_reads
from crm_backend.customers import service as customers
from crm_backend.escalations import routing, service
from crm_backend.escalations.schemas import (
    OUTCOME_LABELS,
    CustomerPicture,
    EscalationBrief,
    EscalationEventRead,
    PriorityReason,
)
from crm_backend.escalations.views import team_ref
from crm_backend.models import Escalation, EscalationEvent
from crm_backend.policies import service as policies
from crm_backend.premiums import service as premiums
from crm_backend.tickets import service as tickets
from crm_backend.tickets.schemas import TicketSummary

TRANSCRIPT_TURNS = 20


def customer_picture(session: Session, *, customer_id: int) -> CustomerPicture:
    """Identity (masked), tier and churn with reasons, servicing agent, policies,
    bills and arrears, claims and complaints: what the agent needs at a glance.

    The caller has checked that the agent may see this customer.
    """
    return CustomerPicture(
        summary=customers.summary(session, customer_id=customer_id),
        score=customers.score_of(session, customer_id=customer_id),
        servicing_agent=customers.servicing_agent(session, customer_id=customer_id),
        policies=policies.to_reads(
            session,
            policies.list_policies(session, customer_id=customer_id),
            customer_id=customer_id,
        ),
        bills=premiums.bills_overview(session, customer_id=customer_id),
        claims=claims.list_claims(session, customer_id=customer_id),
        complaints=[
            TicketSummary.of(t)
            for t in tickets.list_for_customer(session, customer_id=customer_id)
        ],
    )


def to_brief(session: Session, escalation: Escalation) -> EscalationBrief:
    """The brief for an agent who may see the conversation (checked by the caller)."""
    conversation = conversations.get(
        session, conversation_id=escalation.conversation_id
    )
    events = session.scalars(
        select(EscalationEvent)
        .where(EscalationEvent.escalation_id == escalation.id)
        .order_by(EscalationEvent.id)
    )
    due = service.callback_due_at(escalation)
    # The conversation's customer: the one the caller's access check was about.
    customer_id = conversation.customer_id
    return EscalationBrief(
        id=escalation.id,
        conversation_id=escalation.conversation_id,
        customer_id=escalation.customer_id,
        status=escalation.status,
        trigger=escalation.trigger,
        trigger_label=routing.TRIGGER_LABELS[escalation.trigger],
        reason=escalation.reason,
        topic=escalation.topic,
        slots=escalation.slots or {},
        verification_level=conversation.verification_level,
        priority=escalation.priority,
        priority_reasons=[PriorityReason(**r) for r in escalation.priority_reasons],
        target_agent=agent_ref(session, escalation.target_agent_id),
        target_team=team_ref(session, escalation.target_team_id),
        offered_agent=agent_ref(session, escalation.offered_agent_id),
        offer_expires_at=escalation.offer_expires_at,
        assigned_agent=agent_ref(session, escalation.assigned_agent_id),
        queued_at=escalation.queued_at,
        accepted_at=escalation.accepted_at,
        transferred_at=escalation.transferred_at,
        closed_at=escalation.closed_at,
        outcome=escalation.outcome,
        outcome_label=OUTCOME_LABELS.get(escalation.outcome or ""),
        resolution_note=escalation.resolution_note,
        waiting_minutes=service.waiting_minutes(escalation),
        callback=due is not None,
        callback_due_at=due,
        events=[EscalationEventRead.model_validate(e) for e in events],
        customer=(
            customer_picture(session, customer_id=customer_id)
            if customer_id is not None
            else None
        ),
        transcript=message_reads(
            session,
            chat.recent(
                session, conversation_id=conversation.id, limit=TRANSCRIPT_TURNS
            ),
        ),
    )
