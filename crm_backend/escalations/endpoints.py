"""Escalation endpoints: the bot escalates and records CSAT; agents read the queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import status as http_status

from crm_backend.conversations import service as conversations
from crm_backend.core.deps import CurrentAgent, SessionDep
from crm_backend.escalations import flows, service
from crm_backend.escalations.schemas import (
    CsatCreate,
    EscalationBrief,
    EscalationCreate,
    EscalationList,
    EscalationRead,
)
from crm_backend.models.enums import EscalationStatus

service_router = APIRouter(tags=["escalations"])
agent_router = APIRouter(tags=["escalations"])


@service_router.post(
    "/escalations",
    response_model=EscalationRead,
    status_code=http_status.HTTP_201_CREATED,
    responses={200: {"description": "The conversation was already escalated"}},
)
def escalate(
    session: SessionDep, escalation_in: EscalationCreate, response: Response
) -> EscalationRead:
    """Escalate a bot conversation: priority, routing, queue place or call-back."""
    result = flows.escalate(session, escalation_in=escalation_in)
    if result.existing:
        response.status_code = http_status.HTTP_200_OK
    return flows.to_read(session, result.escalation, existing=result.existing)


@service_router.get("/escalations/{escalation_id}", response_model=EscalationRead)
def get_escalation(session: SessionDep, escalation_id: int) -> EscalationRead:
    """An escalation's state, queue position and what to tell the customer."""
    return flows.to_read(session, service.get(session, escalation_id=escalation_id))


@service_router.post("/escalations/{escalation_id}/csat", response_model=EscalationRead)
def record_csat(
    session: SessionDep, escalation_id: int, csat_in: CsatCreate
) -> EscalationRead:
    """Record the customer's 1-5 satisfaction score for a closed escalation."""
    escalation = service.record_csat(
        session, escalation_id=escalation_id, score=csat_in.score
    )
    return flows.to_read(session, escalation)


@agent_router.get("/escalations", response_model=EscalationList)
def list_escalations(
    session: SessionDep,
    agent: CurrentAgent,
    scope: service.Scope = "mine",
    status: EscalationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=service.LIST_MAX)] = 100,
) -> EscalationList:
    """Open escalations (or those in ``status``) for me, my team or (supervisor) all."""
    rows, total = service.list_for_agent(
        session, agent=agent, scope=scope, status=status, limit=limit
    )
    return EscalationList(items=flows.to_list_items(session, rows), total=total)


@agent_router.get("/escalations/{escalation_id}", response_model=EscalationBrief)
def get_brief(
    session: SessionDep, agent: CurrentAgent, escalation_id: int
) -> EscalationBrief:
    """The hand-off brief for an agent who may see the conversation."""
    escalation = service.get(session, escalation_id=escalation_id)
    conversation = conversations.get(
        session, conversation_id=escalation.conversation_id
    )
    conversations.ensure_can_access(session, agent, conversation)
    return flows.to_brief(session, escalation)
