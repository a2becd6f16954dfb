"""Bills, payments and the debit-card change: the bot's and the console's views."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crm_backend.agents.access import ensure_can_access_customer
from crm_backend.core.deps import CurrentAgent, SessionDep, SettingsDep
from crm_backend.premiums import service
from crm_backend.premiums.schemas import (
    BillsOverview,
    DebitCardChange,
    DebitCardRead,
    PaymentList,
)

service_router = APIRouter(tags=["premiums"])
agent_router = APIRouter(tags=["premiums"])

Limit = Annotated[int, Query(ge=1, le=100)]


def _payments(session: SessionDep, customer_id: int, limit: int) -> PaymentList:
    items = service.payment_history(session, customer_id=customer_id, limit=limit)
    return PaymentList(items=items, total=len(items))


@service_router.get("/customers/{customer_id}/bills", response_model=BillsOverview)
def customer_bills(session: SessionDep, customer_id: int) -> BillsOverview:
    """Next due instalment per policy, arrears and the grace countdown."""
    return service.bills_overview(session, customer_id=customer_id)


@service_router.get("/customers/{customer_id}/payments", response_model=PaymentList)
def customer_payments(
    session: SessionDep, customer_id: int, limit: Limit = 10
) -> PaymentList:
    """Latest payment attempts; failed ones say why and what to do."""
    return _payments(session, customer_id, limit)


@service_router.post("/policies/{policy_no}/debit-card", response_model=DebitCardRead)
def change_debit_card(
    session: SessionDep,
    settings: SettingsDep,
    policy_no: str,
    change_in: DebitCardChange,
) -> DebitCardRead:
    """Change the policy's debit account; needs a ``change_bank`` step-up token."""
    return service.change_debit_card(
        session,
        settings=settings,
        customer_id=change_in.customer_id,
        policy_no=policy_no,
        step_up_token=change_in.step_up_token,
        bank=change_in.bank,
        account_no=change_in.account_no,
    )


@agent_router.get("/customers/{customer_id}/bills", response_model=BillsOverview)
def agent_customer_bills(
    session: SessionDep, agent: CurrentAgent, customer_id: int
) -> BillsOverview:
    """The customer's bills and arrears for an agent who may see the customer."""
    ensure_can_access_customer(session, agent, customer_id)
    return service.bills_overview(session, customer_id=customer_id)


@agent_router.get("/customers/{customer_id}/payments", response_model=PaymentList)
def agent_customer_payments(
    session: SessionDep, agent: CurrentAgent, customer_id: int, limit: Limit = 20
) -> PaymentList:
    """The customer's payment history for an agent who may see the customer."""
    ensure_can_access_customer(session, agent, customer_id)
    return _payments(session, customer_id, limit)
