"""Which products a customer holds, what they pay, and what state each policy is in.

The long tail of value comes from ``Owner.wealth`` (log-normal, sigma 1.6): savings
products (annuities, universal and whole life) are bought in proportion to it, so a
fifth of the customers hold roughly 80% of the premium, as in the seed article.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

from crm_backend.demo.billing import due_count_until, instalments, period_months
from crm_backend.demo.book import Owner, Plan
from crm_backend.demo.context import Context, add_months, add_years
from crm_backend.demo.products import PRODUCTS, ProductSpec
from crm_backend.models.enums import (
    Gender,
    PaymentFrequency,
    PolicyStatus,
    SalesChannel,
)

WEALTH_SIGMA = 1.8
WEALTH_CAP = 100.0
_BASE_WEIGHTS = {
    "CI001": 14, "CI002": 9, "CI003": 6, "LF001": 4, "LF002": 4, "LF003": 3,
    "MD001": 17, "MD002": 1, "MD003": 4, "AC001": 10, "AC002": 4, "AN001": 5,
    "AN002": 4, "AN003": 4, "UL001": 4, "UL002": 3,
}  # fmt: skip
# basic sum assured as a multiple of the total premiums of a savings product
_SA_FACTOR = {
    "LF001": 0.55, "LF003": 1.05, "AN001": 0.25, "AN002": 0.08, "AN003": 1.0,
    "UL001": 1.2, "UL002": 1.05,
}  # fmt: skip
_CI_LADDER = (100_000, 200_000, 300_000, 500_000, 800_000, 1_000_000, 1_500_000)
_LIFE_LADDER = (500_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000, 5_000_000)
_POLICY_COUNTS = ((1, 52), (2, 28), (3, 13), (4, 7))
_RICH_POLICY_COUNTS = ((1, 20), (2, 35), (3, 27), (4, 18))


def wealth(ctx: Context) -> float:
    """A customer's spending power (median 1, long right tail, capped)."""
    # the cap keeps every amount within a 32-bit fen column (¥21 million)
    return min(WEALTH_CAP, ctx.rng.lognormvariate(0.0, WEALTH_SIGMA))


def choose_products(ctx: Context, owner: Owner) -> list[ProductSpec]:
    """1–4 distinct products, savings ones more likely for wealthier customers."""
    rng = ctx.rng
    table = _RICH_POLICY_COUNTS if owner.wealth > 3 else _POLICY_COUNTS
    count = rng.choices([c for c, _ in table], [w for _, w in table])[0]
    weights = []
    for spec in PRODUCTS:
        weight = float(_BASE_WEIGHTS[spec.code])
        if spec.pricing == "savings":
            weight *= min(5.0, max(0.1, owner.wealth - 0.3))
        elif spec.pricing == "medical_high":
            weight *= min(20.0, owner.wealth**2)
        weights.append(weight)
    chosen: list[ProductSpec] = []
    specs = list(PRODUCTS)
    for _ in range(count):
        spec = rng.choices(specs, weights)[0]
        index = specs.index(spec)
        del specs[index], weights[index]
        chosen.append(spec)
    return chosen


def _ladder(ctx: Context, ladder: tuple[int, ...], owner: Owner, centre: int) -> int:
    # richer customers buy higher cover; +/- one step of noise
    step = centre + int(round(min(3.0, max(-2.0, 0.8 * _log(owner.wealth)))))
    step += ctx.rng.choice((-1, 0, 0, 1))
    return ladder[max(0, min(len(ladder) - 1, step))]


def _log(value: float) -> float:
    return math.log(max(value, 1e-6))


def price(
    ctx: Context,
    owner: Owner,
    spec: ProductSpec,
    start: date,
    frequency: PaymentFrequency,
    payment_years: int,
) -> tuple[int, int]:
    """``(annual premium, sum assured)`` in fen; single premium: the one payment."""
    rng = ctx.rng
    age = max(18, start.year - owner.birth_date.year)
    male = owner.gender == Gender.male
    if spec.pricing in ("ci", "ci_term"):
        sa = _ladder(ctx, _CI_LADDER, owner, 1)
        if spec.pricing == "ci":
            rate = (12 + 0.9 * (age - 18)) * {10: 1.7, 20: 1.0, 30: 0.8}.get(
                payment_years, 1.0
            )
        else:
            rate = 3 + 0.35 * (age - 18)
        rate *= 1.05 if male else 0.95
        return int(sa / 1000 * rate * 100), sa * 100
    if spec.pricing == "term_life":
        sa = _ladder(ctx, _LIFE_LADDER, owner, 1)
        rate = (1 + 0.12 * (age - 18)) * (1.3 if male else 1.0)
        return int(sa / 1000 * rate * 100), sa * 100
    if spec.pricing == "medical":
        base = (
            260
            if age <= 30
            else 380
            if age <= 40
            else 750
            if age <= 50
            else (1350 if age <= 60 else 2600)
        )
        return int(base * rng.uniform(0.85, 1.15) * 100), 4_000_000 * 100
    if spec.pricing == "medical_high":
        premium = (8_000 + 350 * (age - 18)) * rng.uniform(0.9, 1.3)
        return int(premium * 100), 8_000_000 * 100
    if spec.pricing == "allowance":
        daily = rng.choice((100, 200, 300))
        return int(daily * (1.2 + 0.05 * (age - 18)) * 100), daily * 180 * 100
    if spec.pricing == "accident":
        if spec.code == "AC002":
            sa = rng.choice((1_000_000, 2_000_000, 5_000_000))
            return int(sa / 1000 * 0.06 * 100), sa * 100
        sa = rng.choice((300_000, 500_000, 1_000_000))
        return int(sa / 1000 * 0.6 * 100), sa * 100
    # savings: the premium follows spending power, the sum assured the premium
    annual = max(3_000, round(1_500 * owner.wealth * rng.uniform(0.7, 1.3), -3))
    if frequency == PaymentFrequency.single:
        total = annual * 3
        return int(total * 100), int(total * _SA_FACTOR[spec.code] * 100)
    return int(annual * 100), int(annual * payment_years * _SA_FACTOR[spec.code] * 100)


def _earliest_start(owner: Owner) -> date:
    return add_years(owner.birth_date, 18) + timedelta(days=1)


def plan_policy(ctx: Context, owner: Owner, spec: ProductSpec) -> Plan:
    """A random plan for ``spec``, covering every policy status at least once."""
    rng = ctx.rng
    today = ctx.today
    earliest = _earliest_start(owner)
    frequency = rng.choice(spec.frequencies)
    payment_years = rng.choice(spec.payment_years)
    if frequency == PaymentFrequency.single:
        payment_years = 1
    channel = _sales_channel(ctx, owner, spec)
    pending = ctx.coverage.policy
    if spec.term_years == 1:
        # one-year products: the current year's cover, or an expired one not renewed
        want_matured = PolicyStatus.matured in pending or rng.random() < 0.22
        if want_matured and (today - earliest).days > 800:
            start = today - timedelta(days=rng.randint(370, 1100))
            if PolicyStatus.matured in pending:
                pending.remove(PolicyStatus.matured)
            status, status_date = PolicyStatus.matured, add_years(start, 1)
        else:
            start = today - timedelta(days=rng.randint(1, 364))
            status, status_date = PolicyStatus.in_force, None
        start = max(start, earliest)
        premium, sa = price(ctx, owner, spec, start, frequency, payment_years)
        return Plan(
            spec,
            start,
            frequency,
            payment_years,
            premium,
            sa,
            status,
            status_date,
            channel,
        )
    years_back = 15 * rng.random() ** 1.5
    start = max(earliest, today - timedelta(days=int(years_back * 365.25) + 1))
    if start >= today:
        start = today - timedelta(days=1)
    premium, sa = price(ctx, owner, spec, start, frequency, payment_years)
    plan = Plan(
        spec, start, frequency, payment_years, premium, sa, sales_channel=channel
    )
    end = add_years(start, spec.term_years) if spec.term_years else None
    if end is not None and end <= today:
        if PolicyStatus.matured in pending:
            pending.remove(PolicyStatus.matured)
        return _with(plan, status=PolicyStatus.matured, status_date=end)
    wanted = next((s for s in pending if s != PolicyStatus.matured), None)
    if wanted is None:
        roll = rng.random()
        wanted = (
            PolicyStatus.grace
            if roll < 0.035
            else PolicyStatus.lapsed
            if roll < 0.075
            else PolicyStatus.surrendered
            if roll < 0.14
            else PolicyStatus.in_force
        )
    if wanted == PolicyStatus.in_force:
        return plan
    made = _unhappy(ctx, plan, wanted, earliest)
    if made is not None and wanted in pending:
        pending.remove(wanted)
    return made or plan


def _unhappy(
    ctx: Context, plan: Plan, status: PolicyStatus, earliest: date
) -> Plan | None:
    """``plan`` moved into grace, lapse or surrender, if its shape allows it."""
    rng = ctx.rng
    today = ctx.today
    if status == PolicyStatus.surrendered:
        held = (today - plan.start).days
        if held < 400:
            return None
        day = plan.start + timedelta(days=rng.randint(365, held - 1))
        return _with(plan, status=status, status_date=day)
    if plan.frequency == PaymentFrequency.single:
        return None
    months = period_months(plan.frequency)
    total = instalments(plan.frequency, plan.payment_years)
    overdue = (
        rng.randint(1, 59) if status == PolicyStatus.grace else rng.randint(62, 900)
    )
    due = today - timedelta(days=overdue)
    # the instalment that went unpaid: one that is neither the first nor past the term
    k = due_count_until(plan.start, months, due, total) - 1
    if k < 1:
        return None
    start = add_months(due, -k * months)
    if start < earliest or add_months(start, k * months) != due:
        return None
    end = add_years(start, plan.spec.term_years) if plan.spec.term_years else None
    if end is not None and end <= today:
        return None
    return _with(plan, start=start, status=status, status_date=due)


def _with(plan: Plan, **changes: object) -> Plan:
    return replace(plan, **changes)  # type: ignore[arg-type]


def _sales_channel(ctx: Context, owner: Owner, spec: ProductSpec) -> SalesChannel:
    rng = ctx.rng
    if spec.code == "AN003":
        return SalesChannel.bancassurance if rng.random() < 0.85 else owner.channel
    if spec.pricing in ("medical", "accident") and rng.random() < 0.5:
        return SalesChannel.online
    return owner.channel
