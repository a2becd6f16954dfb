"""Gather facts, apply the rules and store ``CustomerScore`` rows, one or a million.

Facts come from a handful of set-based aggregate queries over a *range* of customer
ids (``GROUP BY`` customer), so recomputing one customer and recomputing the whole
book run the very same SQL and give the very same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crm_backend.analytics import rules
from crm_backend.core.config import Settings, get_settings
from crm_backend.core.errors import NotFound
from crm_backend.models import (
    Agent,
    Claim,
    Customer,
    CustomerAssignment,
    CustomerScore,
    CustomerSignal,
    Policy,
    PremiumBill,
    Product,
    Ticket,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    PAYMENTS_PER_YEAR,
    AgentStatus,
    BillStatus,
    ClaimStatus,
    PaymentFrequency,
    PolicyStatus,
    ProductType,
    SignalKind,
    TicketStatus,
)

HELD_STATUSES = (PolicyStatus.in_force, PolicyStatus.grace)
MISSED_BILL_STATUSES = (BillStatus.overdue, BillStatus.failed)
OPEN_TICKET_STATUSES = (
    TicketStatus.received,
    TicketStatus.acknowledged,
    TicketStatus.investigating,
)


def _annual_premium_expr() -> ColumnElement[int]:
    """Annualised premium of one policy row; single premiums spread over 10 years."""
    whens = [
        (Policy.payment_frequency == freq, Policy.premium_fen * per_year)
        for freq, per_year in PAYMENTS_PER_YEAR.items()
        if freq != PaymentFrequency.single
    ]
    whens.append(
        (
            Policy.payment_frequency == PaymentFrequency.single,
            Policy.premium_fen // rules.SINGLE_PREMIUM_SPREAD_YEARS,
        )
    )
    return case(*whens, else_=0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _facts_rows(
    session: Session, *, lo: int, hi: int, now: datetime
) -> dict[int, dict[str, Any]]:
    """Aggregated facts of customers ``lo..hi`` as plain dicts keyed by customer id."""
    as_of = now.date()
    year_ago = as_of - timedelta(days=365)
    facts: dict[int, dict[str, Any]] = {}
    # Core rows are cheaper than ORM rows at a million customers; flush by hand
    # because a bare connection does not autoflush the caller's pending changes
    session.flush()
    conn = session.connection()

    def put(customer_id: int, **values: Any) -> None:
        facts.setdefault(customer_id, {}).update(values)

    held = Policy.status.in_(HELD_STATUSES)
    policies = conn.execute(
        select(
            Policy.holder_id,
            func.coalesce(
                func.sum(case((held, _annual_premium_expr()), else_=0)), 0
            ).label("annual"),
            func.min(Policy.start_date).label("first_start"),
            _count_if(held).label("in_force"),
            _count_if(Policy.status == PolicyStatus.grace).label("grace"),
            _count_if(
                and_(
                    Policy.status == PolicyStatus.lapsed,
                    or_(
                        Policy.status_changed_at.is_(None),
                        Policy.status_changed_at >= year_ago,
                    ),
                )
            ).label("lapsed"),
            _count_if(and_(held, Product.type == ProductType.annuity)).label("annuity"),
            _count_if(and_(held, Product.type == ProductType.universal)).label(
                "universal"
            ),
            _count_if(
                and_(
                    held, Product.type == ProductType.life, Product.term_years.is_(None)
                )
            ).label("whole_life"),
        )
        .join(Product, Product.id == Policy.product_id)
        .where(Policy.holder_id.between(lo, hi))
        .group_by(Policy.holder_id)
    )
    for row in policies:
        put(
            row.holder_id,
            annual_premium_fen=int(row.annual),
            first_policy_start=row.first_start,
            in_force_policies=int(row.in_force),
            grace_policies=int(row.grace),
            lapsed_policies_12m=int(row.lapsed),
            has_annuity=row.annuity > 0,
            has_universal=row.universal > 0,
            has_whole_life=row.whole_life > 0,
        )

    bills = conn.execute(
        select(
            Policy.holder_id,
            func.coalesce(
                func.sum(
                    case(
                        (PremiumBill.status == BillStatus.paid, PremiumBill.amount_fen),
                        else_=0,
                    )
                ),
                0,
            ).label("paid"),
            _count_if(
                and_(
                    PremiumBill.status.in_(MISSED_BILL_STATUSES),
                    PremiumBill.due_date >= year_ago,
                    PremiumBill.due_date <= as_of,
                )
            ).label("missed"),
        )
        .join(Policy, Policy.id == PremiumBill.policy_id)
        .where(Policy.holder_id.between(lo, hi))
        .group_by(Policy.holder_id)
    )
    for row in bills:
        put(
            row.holder_id,
            premium_paid_fen=int(row.paid),
            missed_payments_12m=int(row.missed),
        )

    claims = conn.execute(
        select(Policy.holder_id, func.sum(Claim.amount_paid_fen).label("paid"))
        .join(Policy, Policy.id == Claim.policy_id)
        .where(Policy.holder_id.between(lo, hi), Claim.status == ClaimStatus.paid)
        .group_by(Policy.holder_id)
    )
    for row in claims:
        put(row.holder_id, claims_paid_fen=int(row.paid or 0))

    days_90 = now - timedelta(days=90)
    days_180 = now - timedelta(days=180)
    kind = CustomerSignal.kind
    at = CustomerSignal.created_at
    signals = conn.execute(
        select(
            CustomerSignal.customer_id,
            _count_if(and_(kind == SignalKind.negative_chat, at >= days_90)).label(
                "neg"
            ),
            _count_if(and_(kind == SignalKind.surrender_enquiry, at >= days_90)).label(
                "surrender"
            ),
            _count_if(and_(kind == SignalKind.payment_difficulty, at >= days_90)).label(
                "difficulty"
            ),
            _count_if(and_(kind == SignalKind.agent_departed, at >= days_180)).label(
                "departed"
            ),
            _count_if(and_(kind == SignalKind.complaint, at >= days_180)).label(
                "complaint"
            ),
        )
        .where(CustomerSignal.customer_id.between(lo, hi), at <= now)
        .group_by(CustomerSignal.customer_id)
    )
    complaint_signals: dict[int, int] = {}
    for row in signals:
        put(
            row.customer_id,
            negative_chats_90d=int(row.neg),
            surrender_enquiries_90d=int(row.surrender),
            payment_difficulty_90d=int(row.difficulty),
            agent_departed_signal_180d=row.departed > 0,
        )
        complaint_signals[row.customer_id] = int(row.complaint)

    tickets = conn.execute(
        select(
            Ticket.customer_id,
            _count_if(Ticket.status.in_(OPEN_TICKET_STATUSES)).label("open"),
            _count_if(Ticket.created_at >= days_180).label("recent"),
        )
        .where(Ticket.customer_id.between(lo, hi))
        .group_by(Ticket.customer_id)
    )
    ticket_counts = {
        row.customer_id: (int(row.open), int(row.recent)) for row in tickets
    }
    # a complaint may be recorded as a ticket, a signal or both: take the larger count
    for customer_id in ticket_counts.keys() | complaint_signals.keys():
        open_count, recent = ticket_counts.get(customer_id, (0, 0))
        put(
            customer_id,
            open_complaints=open_count,
            complaints_180d=max(recent, complaint_signals.get(customer_id, 0)),
        )

    assignments = conn.execute(
        select(CustomerAssignment.customer_id, Agent.status)
        .join(Agent, Agent.id == CustomerAssignment.agent_id)
        .where(
            CustomerAssignment.customer_id.between(lo, hi),
            CustomerAssignment.ended_at.is_(None),
        )
    )
    for row in assignments:
        put(
            row.customer_id,
            has_current_agent=True,
            current_agent_departed=row.status == AgentStatus.departed,
        )
    return facts


def _facts_for(
    ids: Iterable[int], rows: dict[int, dict[str, Any]], as_of: date
) -> list[rules.CustomerFacts]:
    return [
        rules.CustomerFacts(customer_id=cid, as_of=as_of, **rows.get(cid, {}))
        for cid in ids
    ]


def gather_facts(
    session: Session, *, customer_id: int, now: datetime | None = None
) -> rules.CustomerFacts:
    """The rule inputs of one customer, from the same queries the batch uses."""
    now = now or utcnow()
    rows = _facts_rows(session, lo=customer_id, hi=customer_id, now=now)
    return _facts_for([customer_id], rows, now.date())[0]


def _score_row(
    facts: rules.CustomerFacts, *, now: datetime, settings: Settings
) -> dict[str, Any]:
    value = rules.value(facts)
    churn = rules.churn(facts, settings)
    return {
        "customer_id": facts.customer_id,
        "value_score": value.score,
        "value_tier": value.tier,
        "annual_premium_fen": facts.annual_premium_fen,
        "value_reasons": list(value.reasons),
        "churn_score": churn.score,
        "churn_risk": churn.level,
        "churn_reasons": list(churn.reasons),
        "computed_at": now,
    }


def recompute(
    session: Session,
    *,
    customer_id: int,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> CustomerScore:
    """Recompute and store one customer's value tier and churn risk."""
    now = now or utcnow()
    settings = settings or get_settings()
    session.flush()
    if session.get(Customer, customer_id) is None:
        raise NotFound("Customer not found")
    facts = gather_facts(session, customer_id=customer_id, now=now)
    row = _score_row(facts, now=now, settings=settings)
    score = session.get(CustomerScore, customer_id)
    if score is None:
        score = CustomerScore(**row)
        session.add(score)
    else:
        for key, val in row.items():
            setattr(score, key, val)
    session.flush()
    return score


def recompute_all(
    session: Session,
    *,
    now: datetime | None = None,
    batch_size: int = 5000,
    settings: Settings | None = None,
) -> int:
    """Recompute every customer in id batches; returns how many were scored."""
    now = now or utcnow()
    settings = settings or get_settings()
    session.flush()
    total = 0
    last_id = 0
    while True:
        ids = list(
            session.scalars(
                select(Customer.id)
                .where(Customer.id > last_id)
                .order_by(Customer.id)
                .limit(batch_size)
            )
        )
        if not ids:
            break
        lo, hi = ids[0], ids[-1]
        facts_rows = _facts_rows(session, lo=lo, hi=hi, now=now)
        rows = [
            _score_row(facts, now=now, settings=settings)
            for facts in _facts_for(ids, facts_rows, now.date())
        ]
        session.execute(
            delete(CustomerScore)
            .where(CustomerScore.customer_id.between(lo, hi))
            .execution_options(synchronize_session=False)
        )
        session.execute(insert(CustomerScore), rows)
        total += len(ids)
        last_id = hi
    # CustomerScore objects already loaded are stale after the bulk rewrite
    for obj in list(session.identity_map.values()):
        if isinstance(obj, CustomerScore):
            session.expire(obj)
    return total


def get_or_compute(
    session: Session, *, customer_id: int, settings: Settings | None = None
) -> CustomerScore:
    """The stored score, computed now when the customer has none yet."""
    score = session.get(CustomerScore, customer_id)
    if score is not None:
        return score
    return recompute(session, customer_id=customer_id, settings=settings)
