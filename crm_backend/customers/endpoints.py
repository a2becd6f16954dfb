"""Customer endpoints: the bot's masked views and the console's search and profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm_backend.agents.access import ensure_can_access_customer
from crm_backend.core.deps import CurrentAgent, SessionDep, SettingsDep
from crm_backend.customers import service
from crm_backend.customers.schemas import (
    ContactUpdate,
    CustomerAgentRead,
    CustomerList,
    CustomerProfile,
    CustomerSummary,
    SignalCreate,
    SignalRecorded,
)

service_router = APIRouter(prefix="/customers", tags=["customers"])
agent_router = APIRouter(prefix="/customers", tags=["customers"])


@service_router.get("/{customer_id}", response_model=CustomerSummary)
def get_summary(customer_id: int, session: SessionDep) -> CustomerSummary:
    """The customer's masked summary for the bot."""
    return service.summary(session, customer_id=customer_id)


@service_router.get("/{customer_id}/agent", response_model=CustomerAgentRead)
def get_servicing_agent(customer_id: int, session: SessionDep) -> CustomerAgentRead:
    """Who serves this customer and how to reach them (says so if they left)."""
    return service.servicing_agent(session, customer_id=customer_id)


@service_router.post(
    "/{customer_id}/contact",
    response_model=CustomerSummary,
    responses={403: {"description": "step_up_required: no valid step-up token"}},
)
def update_contact(
    customer_id: int,
    contact_in: ContactUpdate,
    session: SessionDep,
    settings: SettingsDep,
) -> CustomerSummary:
    """Change phone, email or address; needs a step-up token for update_contact."""
    return service.update_contact(
        session,
        customer_id=customer_id,
        contact_in=contact_in,
        secret_key=settings.secret_key,
    )


@service_router.post(
    "/{customer_id}/signals", response_model=SignalRecorded, status_code=201
)
def record_signal(
    customer_id: int,
    signal_in: SignalCreate,
    session: SessionDep,
    settings: SettingsDep,
) -> SignalRecorded:
    """Record a churn signal seen in chat; the customer's scores are recomputed."""
    return service.record_signal(
        session, customer_id=customer_id, signal_in=signal_in, settings=settings
    )


@agent_router.get("", response_model=CustomerList)
def search_customers(
    session: SessionDep,
    agent: CurrentAgent,
    q: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CustomerList:
    """Customers the agent may see, by name, customer number or phone."""
    return service.search(session, agent=agent, q=q, limit=limit, offset=offset)


@agent_router.get("/{customer_id}", response_model=CustomerProfile)
def get_profile(
    customer_id: int, session: SessionDep, agent: CurrentAgent
) -> CustomerProfile:
    """The customer's profile for the console (403 outside the agent's reach)."""
    ensure_can_access_customer(session, agent, customer_id)
    return service.profile(session, customer_id=customer_id)
