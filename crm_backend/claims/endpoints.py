"""Claim enquiries and reporting for the bot; claim views for the console."""

from __future__ import annotations

from fastapi import APIRouter

from crm_backend.agents.access import ensure_can_access_customer
from crm_backend.claims import service
from crm_backend.claims.schemas import ClaimCreate, ClaimList, ClaimRead
from crm_backend.core.deps import CurrentAgent, SessionDep
from crm_backend.policies.service import get_policy

service_router = APIRouter(tags=["claims"])
agent_router = APIRouter(tags=["claims"])


def _list(session: SessionDep, customer_id: int) -> ClaimList:
    items = service.list_claims(session, customer_id=customer_id)
    return ClaimList(items=items, total=len(items))


@service_router.get("/customers/{customer_id}/claims", response_model=ClaimList)
def customer_claims(session: SessionDep, customer_id: int) -> ClaimList:
    """The customer's claims, open ones first."""
    return _list(session, customer_id)


@service_router.get("/claims/{claim_no}", response_model=ClaimRead)
def claim_detail(session: SessionDep, claim_no: str, customer_id: int) -> ClaimRead:
    """One claim of the customer with its timeline (404 when it is not theirs)."""
    return service.get_claim(session, customer_id=customer_id, claim_no=claim_no)


@service_router.post("/claims", response_model=ClaimRead, status_code=201)
def report_claim(session: SessionDep, claim_in: ClaimCreate) -> ClaimRead:
    """Report a claim (报案) on one of the customer's policies; returns its number."""
    policy = get_policy(
        session, customer_id=claim_in.customer_id, policy_no=claim_in.policy_no
    )
    claim = service.report(
        session,
        policy_id=policy.id,
        claimant_id=claim_in.customer_id,
        type=claim_in.type,
        incident_date=claim_in.incident_date,
        amount_claimed_fen=claim_in.amount_claimed_fen,
        description=claim_in.description,
    )
    return service.get_claim(
        session, customer_id=claim_in.customer_id, claim_no=claim.claim_no
    )


@agent_router.get("/customers/{customer_id}/claims", response_model=ClaimList)
def agent_customer_claims(
    session: SessionDep, agent: CurrentAgent, customer_id: int
) -> ClaimList:
    """The customer's claims for an agent who may see the customer."""
    ensure_can_access_customer(session, agent, customer_id)
    return _list(session, customer_id)


@agent_router.get(
    "/customers/{customer_id}/claims/{claim_no}", response_model=ClaimRead
)
def agent_claim_detail(
    session: SessionDep, agent: CurrentAgent, customer_id: int, claim_no: str
) -> ClaimRead:
    """One claim with its timeline for an agent who may see the customer."""
    ensure_can_access_customer(session, agent, customer_id)
    return service.get_claim(session, customer_id=customer_id, claim_no=claim_no)
