"""Escalation endpoints: the bot escalates and records CSAT; agents work the queue
(accept, decline, transfer, resolve, close) and read the hand-off brief."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi import status as http_status

from crm_backend.console.dispatch import NotifyDep
from crm_backend.conversations import service as conversations
from crm_backend.core.deps import CurrentAgent, SessionDep, SettingsDep
from crm_backend.escalations import brief, flows, lifecycle, service, views
from crm_backend.escalations.schemas import (
    CloseCreate,
    CsatCreate,
    EscalationBrief,
    EscalationCreate,
    EscalationList,
    EscalationRead,
    ResolveCreate,
    TransferCreate,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import EscalationStatus

service_router = APIRouter(tags=["escalations"])
agent_router = APIRouter(tags=["escalations"])
CONFLICTS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not_your_escalation / not_holder"},
    409: {"description": "already_accepted / escalation_closed / not_offered"},
}


@service_router.post(
    "/escalations",
    response_model=EscalationRead,
    status_code=http_status.HTTP_201_CREATED,
    responses={200: {"description": "The conversation was already escalated"}},
)
def escalate(
    session: SessionDep,
    settings: SettingsDep,
    notify: NotifyDep,
    escalation_in: EscalationCreate,
    response: Response,
) -> EscalationRead:
    """Escalate a bot conversation: priority, routing, offer, queue place or
    call-back."""
    result = flows.escalate(session, escalation_in=escalation_in, settings=settings)
    if result.existing:
        response.status_code = http_status.HTTP_200_OK
    notify.after_commit(session)
    return views.to_read(session, result.escalation, existing=result.existing)


@service_router.get("/escalations/{escalation_id}", response_model=EscalationRead)
def get_escalation(session: SessionDep, escalation_id: int) -> EscalationRead:
    """An escalation's state, queue position and what to tell the customer."""
    return views.to_read(session, service.get(session, escalation_id=escalation_id))


@service_router.post("/escalations/{escalation_id}/csat", response_model=EscalationRead)
def record_csat(
    session: SessionDep, escalation_id: int, csat_in: CsatCreate
) -> EscalationRead:
    """Record the customer's 1-5 satisfaction score for a closed escalation."""
    escalation = service.record_csat(
        session, escalation_id=escalation_id, score=csat_in.score
    )
    return views.to_read(session, escalation)


@agent_router.get("/escalations", response_model=EscalationList)
def list_escalations(
    session: SessionDep,
    agent: CurrentAgent,
    scope: service.Scope = "mine",
    status: EscalationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=service.LIST_MAX)] = 100,
) -> EscalationList:
    """Open escalations (or those in ``status``) for me, my team or (supervisor) all,
    in queue order (priority plus minutes waited)."""
    rows, total = service.list_for_agent(
        session, agent=agent, scope=scope, status=status, limit=limit
    )
    return EscalationList(items=views.to_list_items(session, rows), total=total)


@agent_router.get("/escalations/{escalation_id}", response_model=EscalationBrief)
def get_brief(
    session: SessionDep, agent: CurrentAgent, escalation_id: int
) -> EscalationBrief:
    """The hand-off brief (with the customer's picture and the latest turns) for
    an agent who may see the conversation."""
    escalation = service.get(session, escalation_id=escalation_id)
    conversation = conversations.get(
        session, conversation_id=escalation.conversation_id
    )
    conversations.ensure_can_access(session, agent, conversation)
    return brief.to_brief(session, escalation)


@agent_router.post(
    "/escalations/{escalation_id}/accept",
    response_model=EscalationRead,
    responses=CONFLICTS,
)
def accept(
    session: SessionDep, agent: CurrentAgent, notify: NotifyDep, escalation_id: int
) -> EscalationRead:
    """Take the conversation (exactly one of several agents wins; the others get
    409 ``already_accepted``); the customer is told who joined."""
    escalation = lifecycle.accept(
        session, escalation_id=escalation_id, agent=agent, now=utcnow()
    )
    notify.after_commit(session)
    return views.to_read(session, escalation)


@agent_router.post(
    "/escalations/{escalation_id}/decline",
    response_model=EscalationRead,
    responses=CONFLICTS,
)
def decline(
    session: SessionDep,
    settings: SettingsDep,
    agent: CurrentAgent,
    notify: NotifyDep,
    escalation_id: int,
) -> EscalationRead:
    """Pass an offer made to me on to the next agent."""
    escalation = lifecycle.decline(
        session,
        escalation_id=escalation_id,
        agent=agent,
        now=utcnow(),
        settings=settings,
    )
    notify.after_commit(session)
    return views.to_read(session, escalation)


@agent_router.post(
    "/escalations/{escalation_id}/transfer",
    response_model=EscalationRead,
    responses=CONFLICTS,
)
def transfer(
    session: SessionDep,
    settings: SettingsDep,
    agent: CurrentAgent,
    notify: NotifyDep,
    escalation_id: int,
    transfer_in: TransferCreate,
) -> EscalationRead:
    """Hand the conversation to another (online) agent or a team; the note is kept
    as a private note and the customer is told who is next."""
    escalation = lifecycle.transfer(
        session,
        escalation_id=escalation_id,
        agent=agent,
        transfer_in=transfer_in,
        now=utcnow(),
        settings=settings,
    )
    notify.after_commit(session)
    return views.to_read(session, escalation)


@agent_router.post(
    "/escalations/{escalation_id}/resolve",
    response_model=EscalationRead,
    responses=CONFLICTS,
)
def resolve(
    session: SessionDep,
    agent: CurrentAgent,
    notify: NotifyDep,
    escalation_id: int,
    resolve_in: ResolveCreate,
) -> EscalationRead:
    """Finish with an outcome: the conversation goes back to the bot (``handback``)."""
    escalation = lifecycle.resolve(
        session,
        escalation_id=escalation_id,
        agent=agent,
        outcome=resolve_in.outcome,
        note=resolve_in.note,
        now=utcnow(),
    )
    notify.after_commit(session)
    return views.to_read(session, escalation)


@agent_router.post(
    "/escalations/{escalation_id}/close",
    response_model=EscalationRead,
    responses=CONFLICTS,
)
def close(
    session: SessionDep,
    agent: CurrentAgent,
    notify: NotifyDep,
    escalation_id: int,
    close_in: Annotated[CloseCreate | None, Body()] = None,
) -> EscalationRead:
    """End the conversation itself, without handing it back to the bot."""
    escalation = lifecycle.close(
        session,
        escalation_id=escalation_id,
        agent=agent,
        outcome=close_in.outcome if close_in else None,
        note=close_in.note if close_in else None,
        now=utcnow(),
    )
    notify.after_commit(session)
    return views.to_read(session, escalation)
