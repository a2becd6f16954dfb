"""Bills and arrears, payment history with failure reasons, the debit-card change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from crm_backend.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from crm_backend.identity.service import mint_step_up_token
from crm_backend.models import Policy
from crm_backend.models.enums import (
    AgentRole,
    BillStatus,
    PaymentMethod,
    PaymentResult,
    PolicyStatus,
)
from crm_backend.premiums import catalog, service
from tests.factories import (
    login,
    make_agent,
    make_bill,
    make_customer,
    make_payment,
    make_policy,
    make_team,
)

SERVICE = "/api/v1/service"
AGENT = "/api/v1/agent"
ACCOUNT = "6225880212345678"  # the factory's debit account
NEW_ACCOUNT = "6217000010012345678"
TODAY = date(2024, 4, 10)


def at(day: date) -> time_machine.travel:
    """Travel to noon of ``day`` in China."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 4, tzinfo=UTC))


def _with_arrears(session, holder):  # type: ignore[no-untyped-def]
    """A policy with one paid, one failed, one overdue and one upcoming bill."""
    policy = make_policy(session, holder=holder, status=PolicyStatus.grace)
    make_bill(session, policy=policy, due_date=date(2024, 1, 1), status=BillStatus.paid)
    make_bill(
        session,
        policy=policy,
        due_date=date(2024, 3, 1),
        status=BillStatus.failed,
        amount_fen=100_000,
    )
    make_bill(
        session,
        policy=policy,
        due_date=date(2024, 4, 1),
        status=BillStatus.overdue,
        amount_fen=50_050,
    )
    make_bill(
        session,
        policy=policy,
        due_date=date(2024, 5, 1),
        status=BillStatus.due,
        amount_fen=100_000,
    )
    return policy


# --- bills -------------------------------------------------------------------


def test_bills_overview_sums_arrears_and_counts_grace_days(session):
    holder = make_customer(session)
    in_arrears = _with_arrears(session, holder)
    current = make_policy(session, holder=holder)
    make_bill(session, policy=current, due_date=date(2024, 4, 20), amount_fen=88_800)
    make_bill(session, policy=current, due_date=date(2024, 7, 20))
    # the customer is only insured here: the holder pays, so it is not theirs
    other = make_customer(session)
    make_bill(session, policy=make_policy(session, holder=other, insured=holder))
    surrendered = make_policy(session, holder=holder, status=PolicyStatus.surrendered)
    make_bill(session, policy=surrendered, due_date=date(2024, 3, 1))

    with at(TODAY):
        overview = service.bills_overview(session, customer_id=holder.id)

    assert {p.policy_no for p in overview.policies} == {
        in_arrears.policy_no,
        current.policy_no,
    }
    assert overview.arrears_count == 2
    assert overview.arrears_fen == 150_050 and overview.arrears_yuan == "1,500.50"
    assert overview.arrears_since == date(2024, 3, 1)
    assert overview.next_bill is not None
    assert overview.next_bill.policy_no == current.policy_no
    assert overview.next_bill.due_date == date(2024, 4, 20)
    assert overview.next_bill.amount_yuan == "888.00"
    assert overview.next_bill.status_label == "待缴费"

    by_no = {p.policy_no: p for p in overview.policies}
    late = by_no[in_arrears.policy_no]
    assert late.arrears_count == 2 and late.arrears_fen == 150_050
    assert late.grace_end_date == date(2024, 4, 30)
    assert late.within_grace_period and late.grace_days_left == 20
    assert late.next_bill is not None and late.next_bill.due_date == date(2024, 5, 1)
    assert late.policy_status_label == "宽限期"
    assert late.debit_account_masked == "************5678"
    ok = by_no[current.policy_no]
    assert ok.arrears_count == 0 and ok.arrears_since is None
    assert ok.grace_days_left is None and not ok.within_grace_period


def test_bills_overview_of_a_customer_without_policies(session):
    customer = make_customer(session)
    overview = service.bills_overview(session, customer_id=customer.id)
    assert overview.policies == [] and overview.next_bill is None
    assert overview.arrears_count == 0 and overview.arrears_yuan == "0.00"
    with pytest.raises(NotFound):
        service.bills_overview(session, customer_id=10**9)


def test_is_arrears(session):
    policy = make_policy(session, holder=make_customer(session))
    due = make_bill(session, policy=policy, due_date=TODAY, status=BillStatus.due)
    assert not service.is_arrears(due, TODAY)
    assert service.is_arrears(due, TODAY + timedelta(days=1))
    paid = make_bill(session, policy=policy, due_date=TODAY, status=BillStatus.paid)
    assert not service.is_arrears(paid, TODAY + timedelta(days=1))


# --- payments ----------------------------------------------------------------


def test_failure_catalogue():
    assert catalog.describe_failure(None) is None
    funds = catalog.describe_failure("insufficient_funds")
    assert funds is not None and funds.label == "余额不足"
    assert "3个工作日内再次扣款" in funds.advice
    limit = catalog.describe_failure("bank_limit")
    assert limit is not None and limit.label == "超出银行单笔限额"
    assert catalog.describe_failure("martian_bank") == catalog.UNKNOWN_REASON
    for reason in catalog.FAILURE_REASONS.values():
        assert reason.label and reason.explanation and reason.advice


def test_payment_history_newest_first_with_reasons(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    bill = make_bill(session, policy=policy, due_date=date(2024, 3, 1))
    ok = make_payment(session, bill=bill, method=PaymentMethod.wechat_pay)
    failed = make_payment(
        session,
        bill=bill,
        result=PaymentResult.failed,
        failure_reason="insufficient_funds",
    )
    odd = make_payment(
        session, bill=bill, result=PaymentResult.failed, failure_reason="weird"
    )
    ok.attempted_at = datetime(2024, 3, 3, tzinfo=UTC)
    failed.attempted_at = datetime(2024, 3, 1, tzinfo=UTC)
    odd.attempted_at = datetime(2024, 3, 2, tzinfo=UTC)
    # someone else's payment never shows
    other = make_policy(session, holder=make_customer(session))
    make_payment(session, bill=make_bill(session, policy=other))
    session.flush()

    history = service.payment_history(session, customer_id=holder.id)
    assert [p.attempted_at.day for p in history] == [3, 2, 1]
    first, second, third = history
    assert first.method_label == "微信支付" and first.result_label == "成功"
    assert first.failure_reason is None and first.failure_advice is None
    assert second.failure_label == "扣款未成功"
    assert third.failure_label == "余额不足"
    assert third.failure_explanation and "3个工作日" in (third.failure_advice or "")
    assert third.policy_no == policy.policy_no
    assert third.bill_due_date == date(2024, 3, 1)
    assert third.amount_yuan == "5,000.00" and third.account_tail == "5678"
    assert len(service.payment_history(session, customer_id=holder.id, limit=2)) == 2


def test_service_bills_and_payments_endpoints(client, session, service_headers):
    holder = make_customer(session)
    policy = _with_arrears(session, holder)
    bill = make_bill(session, policy=policy, due_date=date(2024, 2, 1))
    make_payment(
        session, bill=bill, result=PaymentResult.failed, failure_reason="card_expired"
    )
    with at(TODAY):
        bills = client.get(
            f"{SERVICE}/customers/{holder.id}/bills", headers=service_headers
        )
    assert bills.status_code == 200
    body = bills.json()
    # the 2024-02-01 bill is past due too: three instalments in arrears
    assert body["arrears_count"] == 3 and body["arrears_since"] == "2024-02-01"
    # the grace period ran from the oldest of them and ended on 2024-04-01
    late = body["policies"][0]
    assert late["grace_end_date"] == "2024-04-01"
    assert late["grace_days_left"] == 0 and late["within_grace_period"] is False
    assert ACCOUNT not in bills.text

    payments = client.get(
        f"{SERVICE}/customers/{holder.id}/payments",
        params={"limit": 5},
        headers=service_headers,
    )
    assert payments.status_code == 200
    item = payments.json()["items"][0]
    assert item["failure_reason"] == "card_expired"
    assert item["failure_label"] == "银行卡已过期"
    assert item["method_label"] == "银行卡自动扣款" and item["result"] == "failed"
    bad = client.get(
        f"{SERVICE}/customers/{holder.id}/payments",
        params={"limit": 0},
        headers=service_headers,
    )
    assert bad.status_code == 422
    missing = client.get(f"{SERVICE}/customers/{10**9}/bills", headers=service_headers)
    assert missing.status_code == 404


# --- debit card --------------------------------------------------------------


def _token(settings, customer_id, purpose="change_bank"):  # type: ignore[no-untyped-def]
    return mint_step_up_token(
        customer_id=customer_id, purpose=purpose, secret_key=settings.secret_key
    )


def test_normalise_account_no():
    assert service.normalise_account_no("6217 0000-1001 2345 678") == NEW_ACCOUNT
    for bad in ("12345678901", "62170000100123456789", "6217abcd10012345"):
        with pytest.raises(Unprocessable):
            service.normalise_account_no(bad)


def test_change_debit_card_service(session, settings):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    kwargs = {
        "settings": settings,
        "customer_id": holder.id,
        "policy_no": policy.policy_no,
        "bank": "工商银行",
        "account_no": NEW_ACCOUNT,
    }
    with pytest.raises(Forbidden) as refused:
        service.change_debit_card(session, step_up_token="forged", **kwargs)
    assert refused.value.code == "step_up_required"
    with pytest.raises(Forbidden):
        wrong_purpose = _token(settings, holder.id, purpose="update_contact")
        service.change_debit_card(session, step_up_token=wrong_purpose, **kwargs)
    assert session.get(Policy, policy.id).debit_account_no == ACCOUNT

    changed = service.change_debit_card(
        session, step_up_token=_token(settings, holder.id), **kwargs
    )
    assert changed.debit_bank == "工商银行"
    assert changed.debit_account_masked == "***************5678"
    session.expire_all()
    stored = session.get(Policy, policy.id)
    assert stored.debit_bank == "工商银行" and stored.debit_account_no == NEW_ACCOUNT


def test_change_debit_card_refusals(session, settings):
    holder = make_customer(session)
    insured = make_customer(session)
    stranger = make_customer(session)
    policy = make_policy(session, holder=holder, insured=insured)
    ended = make_policy(session, holder=holder, status=PolicyStatus.matured)

    def change(customer_id, policy_no, **kw):  # type: ignore[no-untyped-def]
        args = {"bank": "工商银行", "account_no": NEW_ACCOUNT} | kw
        return service.change_debit_card(
            session,
            settings=settings,
            customer_id=customer_id,
            policy_no=policy_no,
            step_up_token=_token(settings, customer_id),
            **args,
        )

    with pytest.raises(Forbidden) as not_holder:
        change(insured.id, policy.policy_no)
    assert not_holder.value.code == "not_policy_holder"
    with pytest.raises(NotFound):
        change(stranger.id, policy.policy_no)
    with pytest.raises(Conflict):
        change(holder.id, ended.policy_no)
    with pytest.raises(Unprocessable):
        change(holder.id, policy.policy_no, account_no="1234")
    with pytest.raises(Unprocessable):
        change(holder.id, policy.policy_no, bank="  ")
    # a token of another customer does not authorise this one
    with pytest.raises(Forbidden):
        service.change_debit_card(
            session,
            settings=settings,
            customer_id=holder.id,
            policy_no=policy.policy_no,
            step_up_token=_token(settings, stranger.id),
            bank="工商银行",
            account_no=NEW_ACCOUNT,
        )
    assert session.get(Policy, policy.id).debit_account_no == ACCOUNT


def test_debit_card_endpoint(client, session, settings, service_headers):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    url = f"{SERVICE}/policies/{policy.policy_no}/debit-card"
    body = {
        "customer_id": holder.id,
        "step_up_token": "nope",
        "bank": "建设银行",
        "account_no": NEW_ACCOUNT,
    }
    refused = client.post(url, json=body, headers=service_headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "step_up_required"
    missing = client.post(
        url, json=body | {"step_up_token": ""}, headers=service_headers
    )
    assert missing.status_code == 422

    ok = client.post(
        url,
        json=body | {"step_up_token": _token(settings, holder.id)},
        headers=service_headers,
    )
    assert ok.status_code == 200
    assert ok.json() == {
        "policy_no": policy.policy_no,
        "debit_bank": "建设银行",
        "debit_account_masked": "***************5678",
    }
    assert NEW_ACCOUNT not in ok.text
    invalid = client.post(
        url,
        json=body
        | {"step_up_token": _token(settings, holder.id), "account_no": "12ab"},
        headers=service_headers,
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "invalid_account_no"
    assert client.post(url, json=body).status_code == 401


# --- agent API ---------------------------------------------------------------


def test_agent_bills_and_payments(client, session):
    team = make_team(session)
    mine = make_agent(session, team=team)
    outsider = make_agent(session, team=make_team(session))
    supervisor = make_agent(session, role=AgentRole.supervisor)
    customer = make_customer(session, agent=mine)
    policy = make_policy(session, holder=customer)
    bill = make_bill(session, policy=policy, due_date=date.today() - timedelta(days=5))
    make_payment(
        session, bill=bill, result=PaymentResult.failed, failure_reason="bank_limit"
    )
    bills_url = f"{AGENT}/customers/{customer.id}/bills"
    payments_url = f"{AGENT}/customers/{customer.id}/payments"

    for agent in (mine, supervisor):
        headers = login(client, agent)
        bills = client.get(bills_url, headers=headers)
        assert bills.status_code == 200
        assert bills.json()["arrears_count"] == 1
        assert ACCOUNT not in bills.text
        payments = client.get(payments_url, headers=headers)
        assert payments.status_code == 200
        assert payments.json()["items"][0]["failure_label"] == "超出银行单笔限额"

    headers = login(client, outsider)
    assert client.get(bills_url, headers=headers).status_code == 403
    denied = client.get(payments_url, headers=headers)
    assert denied.status_code == 403
    assert "bank_limit" not in denied.text
    assert client.get(bills_url).status_code == 401
