"""Claim queries, reporting (报案) and the status lifecycle with its timeline."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Row, Select, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.claims.schemas import ClaimEventRead, ClaimRead, ClaimSummary
from crm_backend.core.errors import Conflict, NotFound, Unprocessable
from crm_backend.models import Claim, ClaimEvent, Policy, Product
from crm_backend.models.base import utcnow
from crm_backend.models.enums import OPEN_CLAIM_STATUSES, ClaimStatus, ClaimType
from crm_backend.policies.labels import (
    BUSINESS_TZ,
    CLAIM_STATUS_LABELS,
    CLAIM_TYPE_LABELS,
    business_today,
    yuan,
)
from crm_backend.policies.service import ensure_customer

TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.reported: frozenset(
        {ClaimStatus.documents_pending, ClaimStatus.under_review, ClaimStatus.withdrawn}
    ),
    ClaimStatus.documents_pending: frozenset(
        {ClaimStatus.under_review, ClaimStatus.withdrawn}
    ),
    ClaimStatus.under_review: frozenset(
        {ClaimStatus.approved, ClaimStatus.rejected, ClaimStatus.documents_pending}
    ),
    ClaimStatus.approved: frozenset({ClaimStatus.paid}),
}
SEQUENCE_DIGITS = 6
NUMBER_ATTEMPTS = 5


def _claims_query() -> Select[Claim, str, str, str]:
    return (
        select(Claim, Policy.policy_no, Policy.currency, Product.name)
        .join(Policy, Policy.id == Claim.policy_id)
        .join(Product, Product.id == Policy.product_id)
    )


def _summary(row: Row[Claim, str, str, str]) -> ClaimSummary:
    claim, policy_no, currency, product_name = row
    return ClaimSummary(
        claim_no=claim.claim_no,
        policy_no=policy_no,
        product_name=product_name,
        type=claim.type,
        type_label=CLAIM_TYPE_LABELS[claim.type],
        incident_date=claim.incident_date,
        reported_at=claim.reported_at,
        reported_date=claim.reported_at.astimezone(BUSINESS_TZ).date(),
        currency=currency,
        amount_claimed_fen=claim.amount_claimed_fen,
        amount_claimed_yuan=yuan(claim.amount_claimed_fen),
        amount_paid_fen=claim.amount_paid_fen,
        amount_paid_yuan=yuan(claim.amount_paid_fen),
        status=claim.status,
        status_label=CLAIM_STATUS_LABELS[claim.status],
        is_open=claim.status in OPEN_CLAIM_STATUSES,
        pending_documents=claim.pending_documents,
        decision_reason=claim.decision_reason,
        updated_at=claim.updated_at,
    )


def list_claims(session: Session, *, customer_id: int) -> list[ClaimSummary]:
    """Claims on policies the customer holds or that they made; open ones first."""
    ensure_customer(session, customer_id=customer_id)
    is_open = case((Claim.status.in_(OPEN_CLAIM_STATUSES), 0), else_=1)
    rows = session.execute(
        _claims_query()
        .where(or_(Policy.holder_id == customer_id, Claim.claimant_id == customer_id))
        .order_by(is_open, Claim.reported_at.desc(), Claim.id.desc())
    ).all()
    return [_summary(row) for row in rows]


def get_claim(session: Session, *, customer_id: int, claim_no: str) -> ClaimRead:
    """One of the customer's claims with its timeline; anyone else's is ``NotFound``."""
    row = session.execute(
        _claims_query().where(
            Claim.claim_no == claim_no,
            or_(Policy.holder_id == customer_id, Claim.claimant_id == customer_id),
        )
    ).first()
    if row is None:
        raise NotFound("Claim not found", code="claim_not_found")
    events = session.scalars(
        select(ClaimEvent)
        .where(ClaimEvent.claim_id == row[0].id)
        .order_by(ClaimEvent.created_at, ClaimEvent.id)
    )
    timeline = [
        ClaimEventRead(
            status=event.status,
            status_label=CLAIM_STATUS_LABELS[event.status],
            note=event.note,
            created_at=event.created_at,
        )
        for event in events
    ]
    return ClaimRead(**_summary(row).model_dump(), events=timeline)


def advance(
    session: Session,
    *,
    claim_id: int,
    status: ClaimStatus,
    note: str | None = None,
    amount_paid_fen: int | None = None,
) -> Claim:
    """Move a claim to ``status`` if the lifecycle allows it, and log the step."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound("Claim not found", code="claim_not_found")
    if status not in TRANSITIONS.get(claim.status, frozenset()):
        raise Conflict(
            f"A claim cannot go from {claim.status.value} to {status.value}",
            code="invalid_claim_transition",
        )
    if status == ClaimStatus.rejected and not note:
        raise Unprocessable("A rejection needs a reason", code="reason_required")
    if amount_paid_fen is not None and amount_paid_fen < 0:
        raise Unprocessable("The amount paid cannot be negative", code="invalid_amount")
    if status == ClaimStatus.documents_pending:
        # the note lists what the customer still has to send
        claim.pending_documents = note or claim.pending_documents
    elif status == ClaimStatus.under_review:
        claim.pending_documents = None
    elif status in (ClaimStatus.approved, ClaimStatus.rejected):
        claim.decision_reason = note
    elif status == ClaimStatus.paid:
        claim.amount_paid_fen = (
            amount_paid_fen if amount_paid_fen is not None else claim.amount_claimed_fen
        )
    claim.status = status
    session.add(ClaimEvent(claim_id=claim.id, status=status, note=note))
    session.flush()
    if status == ClaimStatus.paid:
        _recompute_holder(session, policy_id=claim.policy_id)
    return claim


def _recompute_holder(session: Session, *, policy_id: int) -> None:
    # Paid claims feed the holder's value tier.
    from crm_backend.analytics.service import recompute

    holder_id = session.scalar(select(Policy.holder_id).where(Policy.id == policy_id))
    if holder_id is not None:
        recompute(session, customer_id=holder_id)


def next_claim_no(session: Session, *, on: date) -> str:
    """The next free claim number of the day: ``CL`` + ``YYYYMMDD`` + sequence."""
    prefix = f"CL{on:%Y%m%d}"
    last = session.scalar(
        select(Claim.claim_no)
        .where(
            Claim.claim_no.like(f"{prefix}%"),
            func.length(Claim.claim_no) == len(prefix) + SEQUENCE_DIGITS,
        )
        .order_by(Claim.claim_no.desc())
        .limit(1)
    )
    seq = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:0{SEQUENCE_DIGITS}d}"


def report(
    session: Session,
    *,
    policy_id: int,
    claimant_id: int,
    type: ClaimType,
    incident_date: date,
    amount_claimed_fen: int,
    description: str,
) -> Claim:
    """Open a claim (报案) on a policy with its first timeline event."""
    policy = session.get(Policy, policy_id)
    if policy is None:
        raise NotFound("Policy not found", code="policy_not_found")
    if claimant_id not in (policy.holder_id, policy.insured_id):
        raise Unprocessable(
            "The claimant must be the policyholder or the insured",
            code="claimant_not_on_policy",
        )
    _check_incident(policy, incident_date)
    if amount_claimed_fen < 0:
        raise Unprocessable("The amount cannot be negative", code="invalid_amount")
    today = business_today()
    for _ in range(NUMBER_ATTEMPTS):
        claim = Claim(
            claim_no=next_claim_no(session, on=today),
            policy_id=policy.id,
            claimant_id=claimant_id,
            type=type,
            incident_date=incident_date,
            reported_at=utcnow(),
            amount_claimed_fen=amount_claimed_fen,
            status=ClaimStatus.reported,
        )
        try:
            # a concurrent report may take the same number: retry with the next one
            with session.begin_nested():
                session.add(claim)
                session.flush()
        except IntegrityError:
            continue
        session.add(
            ClaimEvent(claim_id=claim.id, status=ClaimStatus.reported, note=description)
        )
        session.flush()
        return claim
    raise Conflict("Could not allocate a claim number", code="claim_no_busy")


def _check_incident(policy: Policy, incident_date: date) -> None:
    if incident_date > business_today():
        raise Unprocessable(
            "The incident date is in the future", code="incident_in_future"
        )
    if incident_date < policy.start_date or (
        policy.end_date is not None and incident_date > policy.end_date
    ):
        raise Unprocessable(
            "The incident date is outside the policy's cover period",
            code="incident_outside_cover",
        )
