"""Policies: the customer's list and detail, derived facts, masking, access rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from crm_backend.core.errors import NotFound
from crm_backend.models.enums import (
    AgentRole,
    BillStatus,
    PaymentFrequency,
    PolicyStatus,
    ProductType,
)
from crm_backend.policies import labels, service
from tests.factories import (
    login,
    make_agent,
    make_bill,
    make_customer,
    make_policy,
    make_product,
    make_team,
)

SERVICE = "/api/v1/service"
AGENT = "/api/v1/agent"
ACCOUNT = "6225880212345678"  # the factory's debit account


def at(day: date) -> time_machine.travel:
    """Travel to noon of ``day`` in China."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 4, tzinfo=UTC))


# --- labels ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (500_000, "5,000.00"), (123_456_789, "1,234,567.89")],
)
def test_yuan(fen, text):
    assert labels.yuan(fen) == text
    assert labels.yuan(-fen) == (f"-{text}" if fen else text)


def test_every_enum_member_has_a_label():
    assert set(labels.POLICY_STATUS_LABELS) == set(PolicyStatus)
    assert set(labels.FREQUENCY_LABELS) == set(PaymentFrequency)
    assert labels.POLICY_STATUS_LABELS[PolicyStatus.grace] == "宽限期"
    assert labels.FREQUENCY_LABELS[PaymentFrequency.single] == "趸缴"


def test_business_today_is_china_date():
    with time_machine.travel(datetime(2025, 1, 1, 17, 0, tzinfo=UTC)):
        assert labels.business_today() == date(2025, 1, 2)


# --- service -----------------------------------------------------------------


def test_list_policies_as_holder_or_insured(session):
    holder = make_customer(session, name="王芳")
    child = make_customer(session, name="王小宝")
    stranger = make_customer(session)
    own = make_policy(session, holder=holder, start_date=date(2020, 1, 1))
    for_child = make_policy(
        session, holder=holder, insured=child, start_date=date(2022, 1, 1)
    )
    make_policy(session, holder=stranger)

    holder_view = service.list_policies(session, customer_id=holder.id)
    assert [p.id for p in holder_view] == [for_child.id, own.id]  # newest first
    assert [p.id for p in service.list_policies(session, customer_id=child.id)] == [
        for_child.id
    ]
    reads = service.to_reads(session, holder_view, customer_id=holder.id)
    assert [r.customer_role for r in reads] == ["holder", "holder_insured"]
    assert reads[0].insured_name == "王小宝" and reads[0].holder_name == "王芳"
    child_read = service.to_reads(session, [for_child], customer_id=child.id)[0]
    assert child_read.customer_role_label == "被保险人"


def test_list_policies_status_filter_and_unknown_customer(session):
    holder = make_customer(session)
    make_policy(session, holder=holder)
    lapsed = make_policy(session, holder=holder, status=PolicyStatus.lapsed)
    found = service.list_policies(
        session, customer_id=holder.id, status=PolicyStatus.lapsed
    )
    assert [p.id for p in found] == [lapsed.id]
    assert service.to_reads(session, [], customer_id=holder.id) == []
    with pytest.raises(NotFound):
        service.list_policies(session, customer_id=10**9)


def test_get_policy_refuses_other_customers(session):
    holder = make_customer(session)
    insured = make_customer(session)
    other = make_customer(session)
    policy = make_policy(session, holder=holder, insured=insured)
    assert service.get_policy(
        session, customer_id=insured.id, policy_no=policy.policy_no
    )
    with pytest.raises(NotFound):
        service.get_policy(session, customer_id=other.id, policy_no=policy.policy_no)
    with pytest.raises(NotFound):
        service.get_policy(
            session,
            customer_id=insured.id,
            policy_no=policy.policy_no,
            holder_only=True,
        )
    with pytest.raises(NotFound):
        service.get_policy(session, customer_id=holder.id, policy_no="P-NOPE")


def test_detail_fields(session):
    team = make_team(session)
    agent = make_agent(session, team=team, name="赵磊")
    holder = make_customer(session, name="李娜")
    product = make_product(
        session, type=ProductType.critical_illness, name="安心重疾保"
    )
    policy = make_policy(
        session,
        holder=holder,
        product=product,
        agent=agent,
        frequency=PaymentFrequency.monthly,
        premium_fen=123_456,
        beneficiaries=2,
    )
    read = service.detail(session, customer_id=holder.id, policy_no=policy.policy_no)
    assert read.product_name == "安心重疾保"
    assert read.product_type_label == "重疾险"
    assert read.status_label == "有效"
    assert read.payment_frequency_label == "月缴"
    assert read.premium_yuan == "1,234.56"
    assert read.sum_assured_yuan == "500,000.00"
    assert read.servicing_agent_name == "赵磊"
    assert read.sales_channel_label == "代理人"
    assert read.debit_bank == "招商银行"
    assert read.debit_account_masked == "************5678"
    assert [
        (b.name_masked, b.relationship, b.share_pct) for b in read.beneficiaries
    ] == [
        ("张**", "子女", 50),
        ("张**", "子女", 50),
    ]
    assert read.arrears_since is None and read.grace_days_left is None
    assert read.within_grace_period is False


def test_hesitation_period(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder, start_date=date(2024, 3, 1))
    with at(date(2024, 3, 16)):
        read = service.detail(
            session, customer_id=holder.id, policy_no=policy.policy_no
        )
    assert read.within_hesitation_period is True
    assert read.hesitation_end_date == date(2024, 3, 16)
    with at(date(2024, 3, 17)):
        read = service.detail(
            session, customer_id=holder.id, policy_no=policy.policy_no
        )
    assert read.within_hesitation_period is False


def test_grace_days_from_oldest_unpaid_bill(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder, status=PolicyStatus.grace)
    make_bill(session, policy=policy, due_date=date(2024, 1, 1), status=BillStatus.paid)
    make_bill(
        session, policy=policy, due_date=date(2024, 3, 1), status=BillStatus.failed
    )
    make_bill(
        session, policy=policy, due_date=date(2024, 4, 1), status=BillStatus.overdue
    )
    make_bill(session, policy=policy, due_date=date(2024, 6, 1), status=BillStatus.due)
    # grace = 60 days from 2024-03-01 → 2024-04-30
    with at(date(2024, 4, 10)):
        read = service.detail(
            session, customer_id=holder.id, policy_no=policy.policy_no
        )
    assert read.arrears_since == date(2024, 3, 1)
    assert read.grace_end_date == date(2024, 4, 30)
    assert read.within_grace_period is True and read.grace_days_left == 20
    with at(date(2024, 4, 30)):
        read = service.detail(
            session, customer_id=holder.id, policy_no=policy.policy_no
        )
    assert read.within_grace_period is True and read.grace_days_left == 0
    with at(date(2024, 5, 1)):
        read = service.detail(
            session, customer_id=holder.id, policy_no=policy.policy_no
        )
    assert read.within_grace_period is False and read.grace_days_left == 0


def test_a_due_bill_past_its_date_counts_as_arrears(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    make_bill(session, policy=policy, due_date=date(2024, 3, 1), status=BillStatus.due)
    with at(date(2024, 3, 1)):
        assert service.arrears_since(session, policy_ids=[policy.id]) == {}
    with at(date(2024, 3, 2)):
        assert service.arrears_since(session, policy_ids=[policy.id]) == {
            policy.id: date(2024, 3, 1)
        }
    assert service.arrears_since(session, policy_ids=[]) == {}


def test_grace_window_is_over_once_lapsed():
    window = service.grace_window(
        oldest_due=date(2024, 3, 1),
        grace_days=60,
        status=PolicyStatus.lapsed,
        today=date(2024, 3, 10),
    )
    assert window.end_date == date(2024, 4, 30)
    assert window.within is False and window.days_left == 0


def test_surrender_value_and_loan(session):
    holder = make_customer(session)
    loanable = make_policy(
        session,
        holder=holder,
        product=make_product(session, allows_policy_loan=True),
        cash_value_fen=1_000_000,
    )
    no_loan = make_policy(
        session,
        holder=holder,
        product=make_product(session, allows_policy_loan=False),
        cash_value_fen=1_000_000,
    )
    lapsed = make_policy(
        session, holder=holder, status=PolicyStatus.lapsed, cash_value_fen=500_000
    )
    surrendered = make_policy(
        session, holder=holder, status=PolicyStatus.surrendered, cash_value_fen=500_000
    )
    reads = {
        r.policy_no: r
        for r in service.to_reads(
            session, [loanable, no_loan, lapsed, surrendered], customer_id=holder.id
        )
    }
    a = reads[loanable.policy_no]
    assert a.policy_loan_allowed and a.policy_loan_ratio_pct == 80
    assert a.loan_available_fen == 800_000 and a.loan_available_yuan == "8,000.00"
    assert a.surrender_value_fen == 1_000_000 and a.surrender_value_yuan == "10,000.00"
    assert reads[no_loan.policy_no].loan_available_fen == 0
    assert not reads[no_loan.policy_no].policy_loan_allowed
    assert reads[lapsed.policy_no].loan_available_fen == 0
    assert reads[lapsed.policy_no].surrender_value_fen == 500_000
    assert reads[surrendered.policy_no].surrender_value_fen == 0


# --- service API -------------------------------------------------------------


def test_service_list_and_detail(client, session, service_headers):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    make_policy(session, holder=holder, status=PolicyStatus.lapsed)
    response = client.get(
        f"{SERVICE}/customers/{holder.id}/policies", headers=service_headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and len(body["items"]) == 2
    assert ACCOUNT not in response.text

    lapsed = client.get(
        f"{SERVICE}/customers/{holder.id}/policies",
        params={"status": "lapsed"},
        headers=service_headers,
    ).json()
    assert [p["status_label"] for p in lapsed["items"]] == ["失效"]

    detail = client.get(
        f"{SERVICE}/policies/{policy.policy_no}",
        params={"customer_id": holder.id},
        headers=service_headers,
    )
    assert detail.status_code == 200
    data = detail.json()
    assert data["policy_no"] == policy.policy_no
    assert data["start_date"] == "2020-03-01"
    assert data["premium_fen"] == 500_000 and data["premium_yuan"] == "5,000.00"
    assert data["debit_account_masked"].endswith("5678")
    assert ACCOUNT not in detail.text
    assert data["beneficiaries"][0]["name_masked"] == "张**"
    assert "张小明" not in detail.text


def test_service_detail_of_another_customers_policy_is_404(
    client, session, service_headers
):
    holder = make_customer(session)
    other = make_customer(session)
    policy = make_policy(session, holder=holder)
    theirs = client.get(
        f"{SERVICE}/policies/{policy.policy_no}",
        params={"customer_id": other.id},
        headers=service_headers,
    )
    missing = client.get(
        f"{SERVICE}/policies/P-NOPE",
        params={"customer_id": other.id},
        headers=service_headers,
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert policy.policy_no not in theirs.text
    no_customer = client.get(
        f"{SERVICE}/customers/{10**9}/policies", headers=service_headers
    )
    assert no_customer.status_code == 404
    bad_status = client.get(
        f"{SERVICE}/customers/{holder.id}/policies",
        params={"status": "alive"},
        headers=service_headers,
    )
    assert bad_status.status_code == 422
    assert client.get(f"{SERVICE}/customers/{holder.id}/policies").status_code == 401


# --- agent API ---------------------------------------------------------------


def test_agent_sees_own_customer_but_not_another_teams(client, session):
    team = make_team(session)
    other_team = make_team(session)
    mine = make_agent(session, team=team)
    colleague = make_agent(session, team=team)
    outsider = make_agent(session, team=other_team)
    supervisor = make_agent(session, team=other_team, role=AgentRole.supervisor)
    customer = make_customer(session, agent=mine)
    policy = make_policy(session, holder=customer)
    url = f"{AGENT}/customers/{customer.id}/policies"

    for agent in (mine, colleague, supervisor):
        response = client.get(url, headers=login(client, agent))
        assert response.status_code == 200
        assert response.json()["items"][0]["policy_no"] == policy.policy_no
        assert ACCOUNT not in response.text
    detail = client.get(f"{url}/{policy.policy_no}", headers=login(client, mine))
    assert detail.status_code == 200
    assert detail.json()["debit_account_masked"] == "************5678"

    headers = login(client, outsider)
    assert client.get(url, headers=headers).status_code == 403
    denied = client.get(f"{url}/{policy.policy_no}", headers=headers)
    assert denied.status_code == 403
    assert policy.policy_no not in denied.text
    assert client.get(url).status_code == 401
