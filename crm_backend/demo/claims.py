"""Claims with timelines that agree with their status."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from crm_backend.demo.book import PolicyInfo
from crm_backend.demo.context import BUSINESS_TZ, Context
from crm_backend.demo.texts import CLAIM_DOCUMENTS, CLAIM_REJECTIONS
from crm_backend.models import Claim, ClaimEvent
from crm_backend.models.enums import (
    OPEN_CLAIM_STATUSES,
    ClaimStatus,
    ClaimType,
    PolicyStatus,
)

_CLAIM_RATE = {
    "medical": 0.12,
    "medical_high": 0.25,
    "allowance": 0.10,
    "accident": 0.05,
    "ci": 0.02,
    "ci_term": 0.02,
    "term_life": 0.003,
}
_CLAIM_STATUS_WEIGHTS = (
    (ClaimStatus.paid, 62),
    (ClaimStatus.rejected, 9),
    (ClaimStatus.withdrawn, 4),
    (ClaimStatus.approved, 5),
    (ClaimStatus.under_review, 9),
    (ClaimStatus.documents_pending, 6),
    (ClaimStatus.reported, 5),
)


def claim_window(ctx: Context, policy: PolicyInfo) -> tuple[date, date] | None:
    """The days an insured event could have happened on (last 3 years, covered)."""
    spec = policy.spec
    first = max(
        policy.start + timedelta(days=spec.waiting_period_days + 1),
        ctx.today - timedelta(days=3 * 365),
    )
    last = ctx.today - timedelta(days=1)
    if policy.status == PolicyStatus.lapsed and policy.status_date:
        last = min(last, policy.status_date + timedelta(days=spec.grace_period_days))
    elif policy.status in (PolicyStatus.surrendered, PolicyStatus.matured):
        assert policy.status_date is not None
        last = min(last, policy.status_date - timedelta(days=1))
    return (first, last) if first < last else None


def maybe_claim(
    ctx: Context, policy: PolicyInfo, claimant_id: int
) -> ClaimStatus | None:
    """Perhaps queue a claim on ``policy``; the status of the claim made, if any."""
    rng = ctx.rng
    rate = _CLAIM_RATE.get(policy.spec.pricing, 0.0)
    if rate == 0.0 or rng.random() >= rate:
        return None
    window = claim_window(ctx, policy)
    if window is None:
        return None
    recent = window[1] >= ctx.today - timedelta(days=20)
    pending = [s for s in ctx.coverage.claim if recent or s not in OPEN_CLAIM_STATUSES]
    if pending:
        status = pending[0]
        ctx.coverage.claim.remove(status)
    else:
        items, weights = zip(*_CLAIM_STATUS_WEIGHTS, strict=True)
        status = rng.choices(items, weights)[0]
        if not recent and status in OPEN_CLAIM_STATUSES:
            status = ClaimStatus.paid
    claim_type = _claim_type(ctx, policy)
    made = add_claim(
        ctx, policy, claimant_id, claim_type=claim_type, status=status, window=window
    )
    return status if made else None


def _claim_type(ctx: Context, policy: PolicyInfo) -> ClaimType:
    pricing = policy.spec.pricing
    if pricing in ("medical", "medical_high"):
        return ClaimType.medical
    if pricing == "allowance":
        return ClaimType.hospital_allowance
    if pricing == "accident":
        return ClaimType.disability if ctx.rng.random() < 0.15 else ClaimType.accident
    if pricing in ("ci", "ci_term"):
        return ClaimType.critical_illness
    return ClaimType.disability


def _amount(ctx: Context, policy: PolicyInfo, claim_type: ClaimType) -> int:
    rng = ctx.rng
    sa = policy.sum_assured_fen
    if claim_type == ClaimType.medical:
        yuan = rng.lognormvariate(9.4, 0.9)  # median ~ ¥12,000
        return min(sa, int(yuan) * 100)
    if claim_type == ClaimType.hospital_allowance:
        return sa // 180 * rng.randint(4, 30)
    if claim_type == ClaimType.accident:
        return int(rng.uniform(500, 20_000)) * 100
    if claim_type == ClaimType.disability:
        return sa * rng.choice((10, 20, 30, 50, 100)) // 100
    return sa


def _steps(ctx: Context, status: ClaimStatus) -> list[tuple[ClaimStatus, float]]:
    """The timeline to ``status`` as (status, days after the previous step)."""
    rng = ctx.rng
    steps = [(ClaimStatus.reported, 0.0)]
    if status == ClaimStatus.documents_pending or (
        status != ClaimStatus.reported and rng.random() < 0.45
    ):
        steps.append((ClaimStatus.documents_pending, rng.uniform(0.5, 3)))
    if status in (
        ClaimStatus.under_review,
        ClaimStatus.approved,
        ClaimStatus.paid,
        ClaimStatus.rejected,
    ):
        steps.append((ClaimStatus.under_review, rng.uniform(1, 8)))
    if status in (ClaimStatus.approved, ClaimStatus.paid):
        steps.append((ClaimStatus.approved, rng.uniform(2, 12)))
    if status == ClaimStatus.paid:
        steps.append((ClaimStatus.paid, rng.uniform(1, 3)))
    if status == ClaimStatus.rejected:
        steps.append((ClaimStatus.rejected, rng.uniform(3, 15)))
    if status == ClaimStatus.withdrawn:
        steps.append((ClaimStatus.withdrawn, rng.uniform(2, 15)))
    return steps


def add_claim(
    ctx: Context,
    policy: PolicyInfo,
    claimant_id: int,
    *,
    claim_type: ClaimType,
    status: ClaimStatus,
    window: tuple[date, date] | None = None,
    reported_at: datetime | None = None,
    amount_fen: int | None = None,
    steps: list[tuple[ClaimStatus, float]] | None = None,
    notes: dict[ClaimStatus, str] | None = None,
    pending_documents: str | None = None,
) -> bool:
    """Queue a claim and its events; False when no dates fit the window."""
    rng = ctx.rng
    steps = steps or _steps(ctx, status)
    span = sum(days for _, days in steps)
    if reported_at is None:
        assert window is not None
        if status in OPEN_CLAIM_STATUSES:
            reported_at = ctx.ago(days=span + rng.uniform(0.1, 4))
        else:
            latest = (ctx.as_of - ctx.at(window[0])).days - span - 1
            if latest < 1:
                return False
            reported_at = ctx.ago(days=span + 1 + rng.uniform(0, latest))
        reported_at = reported_at.replace(microsecond=0)
    reported_day = ctx.local_date(reported_at)
    incident = reported_day - timedelta(days=rng.randint(0, 20))
    if window is not None:
        if reported_day < window[0]:
            return False
        incident = min(max(incident, window[0]), window[1], reported_day)
    claimed = amount_fen if amount_fen is not None else _amount(ctx, policy, claim_type)
    paid = 0
    if status == ClaimStatus.paid:
        share = 1.0 if claim_type != ClaimType.medical else rng.uniform(0.75, 1.0)
        paid = int(claimed * share)
    documents = pending_documents
    if documents is None and status == ClaimStatus.documents_pending:
        documents = "、".join(rng.sample(CLAIM_DOCUMENTS[claim_type], 2))
    decision = None
    if status == ClaimStatus.rejected:
        decision = rng.choice(CLAIM_REJECTIONS[claim_type])
    elif status in (ClaimStatus.approved, ClaimStatus.paid):
        decision = "符合合同约定的保险责任，予以赔付。"
    ctx.claim_seq += 1
    claim_no = f"CL{reported_at.astimezone(BUSINESS_TZ):%Y%m}{ctx.claim_seq:07d}"
    row = ctx.add(
        Claim,
        {
            "claim_no": claim_no,
            "policy_id": policy.id,
            "claimant_id": claimant_id,
            "type": claim_type,
            "incident_date": incident,
            "reported_at": reported_at,
            "amount_claimed_fen": claimed,
            "amount_paid_fen": paid,
            "status": status,
            "pending_documents": documents,
            "decision_reason": decision,
            "created_at": reported_at,
            "updated_at": reported_at,
        },
    )
    moment = reported_at
    for step, days in steps:
        moment = ctx.clamp(moment + timedelta(days=days))
        note = (notes or {}).get(step) or _claim_note(
            ctx, step, claimed, paid, decision, documents, policy
        )
        ctx.add(
            ClaimEvent,
            {"claim_id": row["id"], "status": step, "note": note, "created_at": moment},
        )
    row["updated_at"] = moment
    return True


def _claim_note(
    ctx: Context,
    step: ClaimStatus,
    claimed: int,
    paid: int,
    decision: str | None,
    documents: str | None,
    policy: PolicyInfo,
) -> str:
    if step == ClaimStatus.reported:
        return f"已受理理赔报案，申请金额{claimed / 100:,.2f}元。"
    if step == ClaimStatus.documents_pending:
        docs = documents or "、".join(
            ctx.rng.sample(CLAIM_DOCUMENTS[ClaimType.medical], 2)
        )
        return f"请补充理赔材料：{docs}。"
    if step == ClaimStatus.under_review:
        return "理赔材料已齐全，案件进入审核。"
    if step == ClaimStatus.approved:
        return f"审核通过，核定赔付金额{(paid or claimed) / 100:,.2f}元。"
    if step == ClaimStatus.paid:
        tail = f"尾号{policy.account_last4}的" if policy.account_last4 else "您指定的"
        return f"赔款{paid / 100:,.2f}元已支付至{tail}银行账户。"
    if step == ClaimStatus.rejected:
        return f"经审核，{decision}，本次理赔不予赔付。"
    return "客户申请撤销理赔案件，已撤案。"
