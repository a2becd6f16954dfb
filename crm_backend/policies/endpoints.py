"""Policy enquiries: the bot's (service token) and the console's (logged-in agent)."""

from __future__ import annotations

from fastapi import APIRouter

from crm_backend.agents.access import ensure_can_access_customer
from crm_backend.core.deps import CurrentAgent, SessionDep
from crm_backend.models.enums import PolicyStatus
from crm_backend.policies import service
from crm_backend.policies.schemas import PolicyList, PolicyRead

service_router = APIRouter(tags=["policies"])
agent_router = APIRouter(tags=["policies"])


def _list(
    session: SessionDep, customer_id: int, status: PolicyStatus | None
) -> PolicyList:
    policies = service.list_policies(session, customer_id=customer_id, status=status)
    items = service.to_reads(session, policies, customer_id=customer_id)
    return PolicyList(items=items, total=len(items))


@service_router.get("/customers/{customer_id}/policies", response_model=PolicyList)
def customer_policies(
    session: SessionDep, customer_id: int, status: PolicyStatus | None = None
) -> PolicyList:
    """Policies the customer holds or is insured by, optionally of one status."""
    return _list(session, customer_id, status)


@service_router.get("/policies/{policy_no}", response_model=PolicyRead)
def policy_detail(session: SessionDep, policy_no: str, customer_id: int) -> PolicyRead:
    """One policy of the customer (404 when it is not theirs)."""
    return service.detail(session, customer_id=customer_id, policy_no=policy_no)


@agent_router.get("/customers/{customer_id}/policies", response_model=PolicyList)
def agent_customer_policies(
    session: SessionDep,
    agent: CurrentAgent,
    customer_id: int,
    status: PolicyStatus | None = None,
) -> PolicyList:
    """The customer's policies for an agent who may see the customer."""
    ensure_can_access_customer(session, agent, customer_id)
    return _list(session, customer_id, status)


@agent_router.get(
    "/customers/{customer_id}/policies/{policy_no}", response_model=PolicyRead
)
def agent_policy_detail(
    session: SessionDep, agent: CurrentAgent, customer_id: int, policy_no: str
) -> PolicyRead:
    """One policy of a customer the agent may see."""
    ensure_can_access_customer(session, agent, customer_id)
    return service.detail(session, customer_id=customer_id, policy_no=policy_no)
