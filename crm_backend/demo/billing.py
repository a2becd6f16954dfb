"""Premium bills and payment attempts of one policy, consistent with its status."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from crm_backend.demo.context import Context, add_months
from crm_backend.models import Payment, PremiumBill
from crm_backend.models.enums import (
    PAYMENTS_PER_YEAR,
    BillStatus,
    PaymentFrequency,
    PaymentMethod,
    PaymentResult,
    PolicyStatus,
)

if TYPE_CHECKING:
    from crm_backend.demo.book import Plan, PolicyInfo

BILL_WINDOW_DAYS = 730
FAILURE_REASONS = (
    ("insufficient_funds", 55),
    ("card_expired", 10),
    ("account_frozen", 8),
    ("bank_limit", 12),
    ("account_closed", 7),
    ("authorization_revoked", 8),
)
_OTHER_METHODS = (
    (PaymentMethod.wechat_pay, 45),
    (PaymentMethod.alipay, 35),
    (PaymentMethod.bank_transfer, 12),
    (PaymentMethod.counter, 8),
)


def period_months(frequency: PaymentFrequency) -> int:
    """Months between two instalments (12 for single premium)."""
    per_year = PAYMENTS_PER_YEAR[frequency]
    return 12 // per_year if per_year else 12


def instalments(frequency: PaymentFrequency, payment_years: int) -> int:
    """How many instalments the whole payment term has."""
    return max(1, PAYMENTS_PER_YEAR[frequency] * payment_years)


def due_count_until(start: date, months: int, limit: date, total: int) -> int:
    """How many due dates (at most ``total``) fall on or before ``limit``."""
    if limit < start:
        return 0
    span = (limit.year - start.year) * 12 + limit.month - start.month
    k = max(0, span // months - 1)
    while k + 1 < total and add_months(start, (k + 1) * months) <= limit:
        k += 1
    return min(k + 1, total)


def weighted(ctx: Context, table: tuple[tuple[object, int], ...]) -> object:
    """A weighted choice from ``(item, weight)`` pairs."""
    items, weights = zip(*table, strict=True)
    return ctx.rng.choices(items, weights)[0]


def add_bills(
    ctx: Context,
    plan: Plan,
    info: PolicyInfo,
    months: int,
    total: int,
    unpaid_failures: tuple[str, ...] | None,
    unpaid_status: BillStatus | None,
) -> None:
    """Queue the bills of the last two years plus the next one, with their payments."""
    today = ctx.today
    window_start = today - timedelta(days=BILL_WINDOW_DAYS)
    if plan.status == PolicyStatus.in_force:
        last = today + timedelta(days=366)  # up to and including the next bill
    else:
        last = min(plan.status_date or today, today)
    first_k = max(0, due_count_until(plan.start, months, window_start, total) - 1)
    for k in range(first_k, total):
        due = add_months(plan.start, k * months)
        if due > last:
            break
        if due < window_start:
            continue
        if due >= today:
            _bill(ctx, info, due, BillStatus.due)
            break
        unpaid = plan.status in (PolicyStatus.grace, PolicyStatus.lapsed) and (
            due == plan.status_date
        )
        if not unpaid:
            _paid_bill(ctx, info, due)
            continue
        status = unpaid_status
        if status is None and plan.status == PolicyStatus.grace:
            cov = ctx.coverage.unpaid_bill
            status = (
                cov.pop(0)
                if cov
                else ctx.rng.choice((BillStatus.failed, BillStatus.overdue))
            )
        status = status or BillStatus.overdue
        info.unpaid_bill_status = status
        bill_id = _bill(ctx, info, due, status)
        failures = unpaid_failures
        if failures is None:
            count = ctx.rng.choice((1, 2) if status == BillStatus.failed else (0, 1))
            if info.account_last4 is None:
                count = 0  # nothing to debit: the customer simply has not paid
            failures = tuple(str(weighted(ctx, FAILURE_REASONS)) for _ in range(count))
        for n, reason in enumerate(failures):
            _payment(ctx, info, bill_id, due + timedelta(days=3 * n), reason)
        break


def _bill(
    ctx: Context,
    info: PolicyInfo,
    due: date,
    status: BillStatus,
    paid_at: datetime | None = None,
) -> int:
    row = ctx.add(
        PremiumBill,
        {
            "policy_id": info.id,
            "due_date": due,
            "amount_fen": info.premium_fen,
            "currency": "CNY",
            "status": status,
            "paid_at": paid_at,
            "created_at": ctx.at(due - timedelta(days=30), 1),
        },
    )
    return int(row["id"])


def _paid_bill(ctx: Context, info: PolicyInfo, due: date) -> None:
    rng = ctx.rng
    failed_first = info.account_last4 is not None and rng.random() < 0.06
    delay = rng.randint(1, 12) if failed_first else 0
    if info.account_last4 is None:
        delay = rng.choice((-5, -3, -1, 0, 0, 2, 6))  # paid by hand, around the due day
    paid_day = min(due + timedelta(days=delay), ctx.today - timedelta(days=1))
    if info.account_last4:
        paid_at = ctx.at(paid_day, rng.randint(2, 5))  # the overnight debit batch
    else:
        paid_at = ctx.day_time(paid_day)
    bill_id = _bill(ctx, info, due, BillStatus.paid, paid_at)
    if failed_first:
        reason = str(weighted(ctx, FAILURE_REASONS))
        _payment(ctx, info, bill_id, due, reason, at=ctx.at(due, 1))
    _payment(ctx, info, bill_id, paid_day, None, at=paid_at)


def _payment(
    ctx: Context,
    info: PolicyInfo,
    bill_id: int,
    day: date,
    failure: str | None,
    *,
    at: datetime | None = None,
) -> None:
    if info.account_last4 is not None:
        method: object = PaymentMethod.bank_debit
    else:
        method = weighted(ctx, _OTHER_METHODS)
    ctx.add(
        Payment,
        {
            "bill_id": bill_id,
            "policy_id": info.id,
            "amount_fen": info.premium_fen,
            "currency": "CNY",
            "method": method,
            "result": PaymentResult.failed if failure else PaymentResult.success,
            "failure_reason": failure,
            "account_last4": info.account_last4
            if method == PaymentMethod.bank_debit
            else None,
            "attempted_at": at or ctx.at(min(day, ctx.today - timedelta(days=1)), 3),
        },
    )
