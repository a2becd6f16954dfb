"""Policies with beneficiaries, premium bills and payments, consistent with status.

Rules the rows follow: bills exist for the last two years plus the next one; a
policy in ``grace`` has one unpaid bill less than 60 days past due, a ``lapsed`` one
an unpaid bill more than 60 days past due (lapsed on day 61); ``surrendered`` and
``matured`` policies have no bills after that day and no cash value left; savings
products build cash value with the premiums paid and the years in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from crm_backend.demo.billing import (
    add_bills,
    due_count_until,
    instalments,
    period_months,
)
from crm_backend.demo.context import Context, add_months, add_years
from crm_backend.demo.products import ProductSpec
from crm_backend.models import Beneficiary, Policy
from crm_backend.models.enums import (
    PAYMENTS_PER_YEAR,
    BillStatus,
    Gender,
    PaymentFrequency,
    PolicyStatus,
    ProductType,
    SalesChannel,
)


@dataclass
class Owner:
    """What the policy builder needs to know about its customer."""

    id: int
    name: str
    surname: str
    gender: Gender
    birth_date: date
    province_code: str  # first two digits of the region code (branch in policy_no)
    agent_id: int | None
    channel: SalesChannel
    bank: str | None
    account_no: str | None
    wealth: float = 1.0


@dataclass
class PolicyInfo:
    """A generated policy, for claims, tickets and conversations to refer to."""

    id: int
    policy_no: str
    spec: ProductSpec
    status: PolicyStatus
    start: date
    end: date | None
    status_date: date | None
    sum_assured_fen: int
    premium_fen: int
    frequency: PaymentFrequency
    account_last4: str | None
    unpaid_bill_status: BillStatus | None = None


@dataclass(frozen=True)
class Plan:
    """Shape of one policy: dates, premium, status and the day the status began.

    ``status_date`` is the first unpaid due date (grace, lapsed), the surrender day or
    the maturity day; None while in force.
    """

    spec: ProductSpec
    start: date
    frequency: PaymentFrequency
    payment_years: int
    annual_premium_fen: int
    sum_assured_fen: int
    status: PolicyStatus = PolicyStatus.in_force
    status_date: date | None = None
    sales_channel: SalesChannel | None = None


def add_policy(
    ctx: Context,
    owner: Owner,
    plan: Plan,
    *,
    seq: int | None = None,
    unpaid_failures: tuple[str, ...] | None = None,
    unpaid_status: BillStatus | None = None,
    debit: bool | None = None,
) -> PolicyInfo:
    """Queue a policy, its beneficiaries, bills and payments; return what others need.

    ``seq`` fixes the policy number's serial (the demo customers); the unpaid bill of a
    grace/lapsed policy gets ``unpaid_status`` and ``unpaid_failures`` (debit failure
    reasons) when given, else random ones.
    """
    spec = plan.spec
    if seq is None:
        ctx.policy_seq += 1
        seq = ctx.policy_seq
    policy_no = f"P{owner.province_code}{seq:011d}"
    rng = ctx.rng
    per_year = PAYMENTS_PER_YEAR[plan.frequency]
    instalment = (
        plan.annual_premium_fen // per_year if per_year else plan.annual_premium_fen
    )
    months = period_months(plan.frequency)
    total = instalments(plan.frequency, plan.payment_years)
    end = add_years(plan.start, spec.term_years) if spec.term_years else None
    pays_by_debit = owner.bank is not None and (
        rng.random() < 0.88 if debit is None else debit
    )
    bank = owner.bank if pays_by_debit else None
    account = owner.account_no if pays_by_debit else None
    # cash value and "paid to" as of today, or as of the day the status changed
    reference = plan.status_date or ctx.today
    paid = due_count_until(plan.start, months, reference, total)
    if plan.status in (PolicyStatus.grace, PolicyStatus.lapsed):
        paid -= 1  # the due date that started the grace period is unpaid
    paid_to = (
        add_months(plan.start, paid * months)
        if paid < total
        else (add_years(plan.start, plan.payment_years))
    )
    cash_value = _cash_value(spec, plan, paid * instalment, reference)
    status_changed = plan.status_date
    if plan.status == PolicyStatus.lapsed and plan.status_date:
        status_changed = plan.status_date + timedelta(days=spec.grace_period_days + 1)
    row = ctx.add(
        Policy,
        {
            "policy_no": policy_no,
            "holder_id": owner.id,
            "insured_id": owner.id,
            "product_id": ctx.staff.product_ids[spec.code],
            "status": plan.status,
            "sum_assured_fen": plan.sum_assured_fen,
            "premium_fen": instalment,
            "currency": "CNY",
            "payment_frequency": plan.frequency,
            "payment_years": plan.payment_years,
            "start_date": plan.start,
            "end_date": end,
            "paid_to_date": paid_to,
            "cash_value_fen": cash_value,
            "sales_channel": plan.sales_channel or owner.channel,
            "servicing_agent_id": owner.agent_id,
            "debit_bank": bank,
            "debit_account_no": account,
            "status_changed_at": status_changed,
            "created_at": ctx.at(plan.start, 10),
            "updated_at": ctx.at(min(status_changed or plan.start, ctx.today), 10),
        },
    )
    info = PolicyInfo(
        id=row["id"],
        policy_no=policy_no,
        spec=spec,
        status=plan.status,
        start=plan.start,
        end=end,
        status_date=plan.status_date,
        sum_assured_fen=plan.sum_assured_fen,
        premium_fen=instalment,
        frequency=plan.frequency,
        account_last4=account[-4:] if account else None,
    )
    if spec.type in (ProductType.life, ProductType.critical_illness) or (
        spec.savings and rng.random() < 0.6
    ):
        _add_beneficiaries(ctx, owner, info.id)
    add_bills(ctx, plan, info, months, total, unpaid_failures, unpaid_status)
    return info


def _cash_value(spec: ProductSpec, plan: Plan, paid_fen: int, reference: date) -> int:
    if not spec.savings or plan.status in (
        PolicyStatus.surrendered,
        PolicyStatus.matured,
    ):
        return 0
    years = max(0.0, (reference - plan.start).days / 365.25)
    if spec.pricing == "ci":
        ratio = min(0.85, 0.05 + 0.045 * years)
    elif spec.type == ProductType.universal:
        ratio = 0.95 * 1.025**years
    else:
        ratio = min(1.7, 0.3 + 0.085 * years)
    return int(paid_fen * ratio)


_RELATIONS = (("配偶", 40), ("子女", 40), ("父母", 20))


def _add_beneficiaries(ctx: Context, owner: Owner, policy_id: int) -> None:
    rng = ctx.rng
    people = ctx.people
    if rng.random() < 0.15:
        return  # statutory heirs (法定受益人): no named beneficiary
    count = 1 if rng.random() < 0.6 else 2
    relations = rng.sample([r for r, _ in _RELATIONS], count)
    shares = [100] if count == 1 else [50, 50] if rng.random() < 0.6 else [60, 40]
    for relation, share in zip(relations, shares, strict=True):
        if relation == "配偶":
            gender = Gender.female if owner.gender == Gender.male else Gender.male
            name = people.full_name(gender)
        elif relation == "子女":
            gender = rng.choice((Gender.male, Gender.female))
            name = people.full_name(gender, owner.surname)
        else:
            father = rng.random() < 0.5
            name = people.full_name(
                Gender.male if father else Gender.female,
                owner.surname if father else None,
            )
        ctx.add(
            Beneficiary,
            {
                "policy_id": policy_id,
                "name": name,
                "relationship_to_insured": relation,
                "share_pct": share,
                "order": 1,
            },
        )
