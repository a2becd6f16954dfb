"""Premium bills, arrears, payment history and the debit-account change."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.errors import Conflict, Forbidden, Unprocessable
from crm_backend.core.masking import mask_tail
from crm_backend.models import Payment, Policy, PremiumBill, Product
from crm_backend.models.enums import BillStatus
from crm_backend.policies.labels import (
    BILL_STATUS_LABELS,
    FREQUENCY_LABELS,
    PAYMENT_METHOD_LABELS,
    PAYMENT_RESULT_LABELS,
    POLICY_STATUS_LABELS,
    business_today,
    yuan,
)
from crm_backend.policies.service import (
    CLOSED_STATUSES,
    ensure_customer,
    get_policy,
    grace_window,
)
from crm_backend.premiums.catalog import describe_failure
from crm_backend.premiums.schemas import (
    BillRead,
    BillsOverview,
    DebitCardRead,
    PaymentRead,
    PolicyBills,
)

ACCOUNT_NO = re.compile(r"\d{12,19}")
STEP_UP_PURPOSE = "change_bank"


def is_arrears(bill: PremiumBill, today: date) -> bool:
    """True when the bill should have been paid already."""
    if bill.status in (BillStatus.overdue, BillStatus.failed):
        return True
    return bill.status == BillStatus.due and bill.due_date < today


def _bill_read(bill: PremiumBill, policy_no: str) -> BillRead:
    return BillRead(
        policy_no=policy_no,
        due_date=bill.due_date,
        currency=bill.currency,
        amount_fen=bill.amount_fen,
        amount_yuan=yuan(bill.amount_fen),
        status=bill.status,
        status_label=BILL_STATUS_LABELS[bill.status],
    )


def _policy_bills(
    policy: Policy, product: Product, bills: list[PremiumBill], today: date
) -> PolicyBills:
    arrears = [b for b in bills if is_arrears(b, today)]
    upcoming = [b for b in bills if b.status == BillStatus.due and b.due_date >= today]
    oldest = min((b.due_date for b in arrears), default=None)
    grace = (
        grace_window(
            oldest_due=oldest,
            grace_days=product.grace_period_days,
            status=policy.status,
            today=today,
        )
        if oldest is not None
        else None
    )
    owed = sum(b.amount_fen for b in arrears)
    return PolicyBills(
        policy_no=policy.policy_no,
        product_name=product.name,
        policy_status=policy.status,
        policy_status_label=POLICY_STATUS_LABELS[policy.status],
        payment_frequency=policy.payment_frequency,
        payment_frequency_label=FREQUENCY_LABELS[policy.payment_frequency],
        premium_fen=policy.premium_fen,
        premium_yuan=yuan(policy.premium_fen),
        paid_to_date=policy.paid_to_date,
        next_bill=_bill_read(upcoming[0], policy.policy_no) if upcoming else None,
        arrears_count=len(arrears),
        arrears_fen=owed,
        arrears_yuan=yuan(owed),
        arrears_since=oldest,
        within_grace_period=grace.within if grace else False,
        grace_end_date=grace.end_date if grace else None,
        grace_days_left=grace.days_left if grace else None,
        debit_bank=policy.debit_bank,
        debit_account_masked=mask_tail(policy.debit_account_no),
    )


def bills_overview(session: Session, *, customer_id: int) -> BillsOverview:
    """Next instalment and arrears of every policy the customer pays for (holds)."""
    ensure_customer(session, customer_id=customer_id)
    today = business_today()
    rows = session.execute(
        select(Policy, Product)
        .join(Product, Product.id == Policy.product_id)
        .where(Policy.holder_id == customer_id, Policy.status.not_in(CLOSED_STATUSES))
        .order_by(Policy.start_date.desc(), Policy.id.desc())
    ).all()
    by_policy: dict[int, list[PremiumBill]] = defaultdict(list)
    if rows:
        for bill in session.scalars(
            select(PremiumBill)
            .where(
                PremiumBill.policy_id.in_([policy.id for policy, _ in rows]),
                PremiumBill.status != BillStatus.paid,
            )
            .order_by(PremiumBill.due_date, PremiumBill.id)
        ):
            by_policy[bill.policy_id].append(bill)
    policies = [
        _policy_bills(policy, product, by_policy[policy.id], today)
        for policy, product in rows
    ]
    upcoming = [p.next_bill for p in policies if p.next_bill is not None]
    owed = sum(p.arrears_fen for p in policies)
    return BillsOverview(
        customer_id=customer_id,
        policies=policies,
        next_bill=min(upcoming, key=lambda b: b.due_date, default=None),
        arrears_count=sum(p.arrears_count for p in policies),
        arrears_fen=owed,
        arrears_yuan=yuan(owed),
        arrears_since=min(
            (p.arrears_since for p in policies if p.arrears_since), default=None
        ),
    )


def payment_history(
    session: Session, *, customer_id: int, limit: int = 20
) -> list[PaymentRead]:
    """The customer's latest payment attempts on policies they hold, newest first."""
    ensure_customer(session, customer_id=customer_id)
    rows = session.execute(
        select(Payment, Policy.policy_no, PremiumBill.due_date)
        .join(Policy, Policy.id == Payment.policy_id)
        .join(PremiumBill, PremiumBill.id == Payment.bill_id)
        .where(Policy.holder_id == customer_id)
        .order_by(Payment.attempted_at.desc(), Payment.id.desc())
        .limit(limit)
    ).all()
    items = []
    for payment, policy_no, due_date in rows:
        reason = describe_failure(payment.failure_reason)
        items.append(
            PaymentRead(
                attempted_at=payment.attempted_at,
                policy_no=policy_no,
                bill_due_date=due_date,
                currency=payment.currency,
                amount_fen=payment.amount_fen,
                amount_yuan=yuan(payment.amount_fen),
                method=payment.method,
                method_label=PAYMENT_METHOD_LABELS[payment.method],
                result=payment.result,
                result_label=PAYMENT_RESULT_LABELS[payment.result],
                account_tail=payment.account_last4,
                failure_reason=payment.failure_reason,
                failure_label=reason.label if reason else None,
                failure_explanation=reason.explanation if reason else None,
                failure_advice=reason.advice if reason else None,
            )
        )
    return items


def normalise_account_no(account_no: str) -> str:
    """Digits only (spaces and dashes dropped); 12–19 digits or ``Unprocessable``."""
    digits = re.sub(r"[\s-]", "", account_no)
    if not ACCOUNT_NO.fullmatch(digits):
        raise Unprocessable(
            "The account number must be 12 to 19 digits", code="invalid_account_no"
        )
    return digits


def change_debit_card(
    session: Session,
    *,
    settings: Settings,
    customer_id: int,
    policy_no: str,
    step_up_token: str,
    bank: str,
    account_no: str,
) -> DebitCardRead:
    """Point the policy's premium debit at a new account (holder, step-up only)."""
    # Lazy: the identity domain is written alongside this one.
    from crm_backend.identity.service import check_step_up_token

    digits = normalise_account_no(account_no)
    bank = bank.strip()
    if not bank:
        raise Unprocessable("The bank name is required", code="invalid_bank")
    policy = get_policy(session, customer_id=customer_id, policy_no=policy_no)
    if policy.holder_id != customer_id:
        raise Forbidden(
            "Only the policyholder can change the debit account",
            code="not_policy_holder",
        )
    if policy.status in CLOSED_STATUSES:
        raise Conflict("The policy has ended", code="policy_closed")
    # Checked last so that a bad account number does not use up the token.
    check_step_up_token(
        step_up_token,
        customer_id=customer_id,
        purpose=STEP_UP_PURPOSE,
        secret_key=settings.secret_key,
    )
    policy.debit_bank = bank
    policy.debit_account_no = digits
    session.flush()
    return DebitCardRead(
        policy_no=policy.policy_no,
        debit_bank=bank,
        debit_account_masked=mask_tail(digits) or "",
    )
