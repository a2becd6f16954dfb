"""Policy queries and the service facts derived from them (hesitation, grace, loan)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from crm_backend.core.errors import NotFound
from crm_backend.core.masking import mask_name, mask_tail
from crm_backend.models import (
    Agent,
    Beneficiary,
    Customer,
    Policy,
    PremiumBill,
    Product,
)
from crm_backend.models.enums import BillStatus, PolicyStatus
from crm_backend.policies.labels import (
    CUSTOMER_ROLE_LABELS,
    FREQUENCY_LABELS,
    POLICY_STATUS_LABELS,
    SALES_CHANNEL_LABELS,
    business_today,
    product_type_label,
    yuan,
)
from crm_backend.policies.schemas import BeneficiaryRead, PolicyRead

# Only a policy still in force can be in its grace period or borrowed against.
LIVE_STATUSES = (PolicyStatus.in_force, PolicyStatus.grace)
# A terminated policy has paid out or refunded its cash value already.
CLOSED_STATUSES = (PolicyStatus.surrendered, PolicyStatus.matured)


@dataclass(frozen=True)
class GraceWindow:
    """The grace period opened by the oldest unpaid instalment."""

    end_date: date
    days_left: int
    within: bool


def ensure_customer(session: Session, *, customer_id: int) -> Customer:
    """The customer, or ``NotFound``."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("Customer not found", code="customer_not_found")
    return customer


def arrears_clause(today: date) -> ColumnElement[bool]:
    """Bills that should have been paid: overdue, failed, or due and past the date."""
    return or_(
        PremiumBill.status.in_((BillStatus.overdue, BillStatus.failed)),
        and_(PremiumBill.status == BillStatus.due, PremiumBill.due_date < today),
    )


def arrears_since(
    session: Session, *, policy_ids: Iterable[int], today: date | None = None
) -> dict[int, date]:
    """Due date of each policy's oldest unpaid overdue bill (policies in arrears)."""
    ids = list(policy_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(PremiumBill.policy_id, func.min(PremiumBill.due_date))
        .where(
            PremiumBill.policy_id.in_(ids),
            arrears_clause(today or business_today()),
        )
        .group_by(PremiumBill.policy_id)
    ).all()
    return {policy_id: due for policy_id, due in rows}


def grace_window(
    *, oldest_due: date, grace_days: int, status: PolicyStatus, today: date
) -> GraceWindow:
    """The grace period that started at ``oldest_due``; over once the policy lapsed."""
    end = oldest_due + timedelta(days=grace_days)
    days_left = max((end - today).days, 0)
    within = status in LIVE_STATUSES and today <= end
    return GraceWindow(
        end_date=end, days_left=days_left if within else 0, within=within
    )


def _role(policy: Policy, customer_id: int) -> str:
    if policy.holder_id == customer_id and policy.insured_id == customer_id:
        return "holder_insured"
    return "holder" if policy.holder_id == customer_id else "insured"


def list_policies(
    session: Session, *, customer_id: int, status: PolicyStatus | None = None
) -> Sequence[Policy]:
    """Policies the customer holds or is insured by, newest first."""
    ensure_customer(session, customer_id=customer_id)
    query = (
        select(Policy)
        .where(or_(Policy.holder_id == customer_id, Policy.insured_id == customer_id))
        .order_by(Policy.start_date.desc(), Policy.id.desc())
    )
    if status is not None:
        query = query.where(Policy.status == status)
    return session.scalars(query).all()


def get_policy(
    session: Session, *, customer_id: int, policy_no: str, holder_only: bool = False
) -> Policy:
    """The customer's policy by number; another customer's policy is ``NotFound``."""
    policy = session.scalar(select(Policy).where(Policy.policy_no == policy_no))
    linked = policy is not None and (
        policy.holder_id == customer_id
        or (not holder_only and policy.insured_id == customer_id)
    )
    if policy is None or not linked:
        # the same answer as a missing number, so numbers cannot be probed
        raise NotFound("Policy not found", code="policy_not_found")
    return policy


def to_reads(
    session: Session, policies: Sequence[Policy], *, customer_id: int
) -> list[PolicyRead]:
    """API views of ``policies``, loading their related rows in a few batch queries."""
    if not policies:
        return []
    today = business_today()
    ids = [p.id for p in policies]
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_({p.product_id for p in policies}))
        )
    }
    people = {p.holder_id for p in policies} | {p.insured_id for p in policies}
    names = {
        row.id: row.name
        for row in session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_(people))
        )
    }
    agent_ids = {p.servicing_agent_id for p in policies if p.servicing_agent_id}
    agents: dict[int, str] = {}
    if agent_ids:
        agents = {
            row.id: row.name
            for row in session.execute(
                select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids))
            )
        }
    beneficiaries: dict[int, list[BeneficiaryRead]] = defaultdict(list)
    for b in session.scalars(
        select(Beneficiary)
        .where(Beneficiary.policy_id.in_(ids))
        .order_by(Beneficiary.order, Beneficiary.id)
    ):
        beneficiaries[b.policy_id].append(
            BeneficiaryRead(
                name_masked=mask_name(b.name) or "",
                relationship=b.relationship_to_insured,
                share_pct=b.share_pct,
                order=b.order,
            )
        )
    arrears = arrears_since(session, policy_ids=ids, today=today)
    return [
        _to_read(
            policy,
            product=products[policy.product_id],
            names=names,
            agent_name=agents.get(policy.servicing_agent_id or 0),
            beneficiaries=beneficiaries[policy.id],
            oldest_due=arrears.get(policy.id),
            customer_id=customer_id,
            today=today,
        )
        for policy in policies
    ]


def _to_read(
    policy: Policy,
    *,
    product: Product,
    names: dict[int, str],
    agent_name: str | None,
    beneficiaries: list[BeneficiaryRead],
    oldest_due: date | None,
    customer_id: int,
    today: date,
) -> PolicyRead:
    hesitation_end = policy.start_date + timedelta(days=product.hesitation_period_days)
    grace = (
        grace_window(
            oldest_due=oldest_due,
            grace_days=product.grace_period_days,
            status=policy.status,
            today=today,
        )
        if oldest_due is not None
        else None
    )
    # There is no loan ledger yet, so nothing is deducted from the cash value.
    surrender = 0 if policy.status in CLOSED_STATUSES else policy.cash_value_fen
    loan_allowed = product.allows_policy_loan and policy.status in LIVE_STATUSES
    loan = policy.cash_value_fen * product.policy_loan_ratio_pct // 100
    loan = loan if loan_allowed else 0
    role = _role(policy, customer_id)
    return PolicyRead(
        policy_no=policy.policy_no,
        customer_role=role,
        customer_role_label=CUSTOMER_ROLE_LABELS[role],
        product_code=product.code,
        product_name=product.name,
        product_type=product.type,
        product_type_label=product_type_label(product.type),
        status=policy.status,
        status_label=POLICY_STATUS_LABELS[policy.status],
        holder_name=names.get(policy.holder_id, ""),
        insured_name=names.get(policy.insured_id, ""),
        beneficiaries=beneficiaries,
        currency=policy.currency,
        sum_assured_fen=policy.sum_assured_fen,
        sum_assured_yuan=yuan(policy.sum_assured_fen),
        premium_fen=policy.premium_fen,
        premium_yuan=yuan(policy.premium_fen),
        payment_frequency=policy.payment_frequency,
        payment_frequency_label=FREQUENCY_LABELS[policy.payment_frequency],
        payment_years=policy.payment_years,
        start_date=policy.start_date,
        end_date=policy.end_date,
        paid_to_date=policy.paid_to_date,
        cash_value_fen=policy.cash_value_fen,
        cash_value_yuan=yuan(policy.cash_value_fen),
        sales_channel=policy.sales_channel,
        sales_channel_label=SALES_CHANNEL_LABELS[policy.sales_channel],
        servicing_agent_name=agent_name,
        debit_bank=policy.debit_bank,
        debit_account_masked=mask_tail(policy.debit_account_no),
        within_hesitation_period=(
            policy.status == PolicyStatus.in_force
            and policy.start_date <= today <= hesitation_end
        ),
        hesitation_end_date=hesitation_end,
        arrears_since=oldest_due,
        within_grace_period=grace.within if grace else False,
        grace_end_date=grace.end_date if grace else None,
        grace_days_left=grace.days_left if grace else None,
        surrender_value_fen=surrender,
        surrender_value_yuan=yuan(surrender),
        policy_loan_allowed=loan_allowed,
        policy_loan_ratio_pct=product.policy_loan_ratio_pct,
        loan_available_fen=loan,
        loan_available_yuan=yuan(loan),
    )


def detail(session: Session, *, customer_id: int, policy_no: str) -> PolicyRead:
    """One of the customer's policies with every derived fact."""
    policy = get_policy(session, customer_id=customer_id, policy_no=policy_no)
    return to_reads(session, [policy], customer_id=customer_id)[0]
