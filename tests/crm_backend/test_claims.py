"""Claims: the customer's list and timeline, reporting, the lifecycle, access rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from crm_backend.claims import service
from crm_backend.core.errors import Conflict, NotFound, Unprocessable
from crm_backend.models import Claim, ClaimEvent, CustomerScore
from crm_backend.models.enums import AgentRole, ClaimStatus, ClaimType
from tests.factories import (
    login,
    make_agent,
    make_claim,
    make_customer,
    make_policy,
    make_team,
)

SERVICE = "/api/v1/service"
AGENT = "/api/v1/agent"
NOON = datetime(2024, 6, 3, 4, tzinfo=UTC)  # 12:00 in China


def _events(session, claim):  # type: ignore[no-untyped-def]
    return session.scalars(
        select(ClaimEvent)
        .where(ClaimEvent.claim_id == claim.id)
        .order_by(ClaimEvent.created_at, ClaimEvent.id)
    ).all()


# --- queries -----------------------------------------------------------------


def test_list_claims_open_first_and_only_the_customers(session):
    holder = make_customer(session)
    insured = make_customer(session)
    policy = make_policy(session, holder=holder, insured=insured)
    paid = make_claim(session, policy=policy, status=ClaimStatus.paid)
    older_open = make_claim(session, policy=policy, status=ClaimStatus.reported)
    newer_open = make_claim(session, policy=policy, status=ClaimStatus.under_review)
    older_open.reported_at -= timedelta(days=3)
    make_claim(session, policy=make_policy(session, holder=make_customer(session)))
    session.flush()

    claims = service.list_claims(session, customer_id=holder.id)
    assert [c.claim_no for c in claims] == [
        newer_open.claim_no,
        older_open.claim_no,
        paid.claim_no,
    ]
    assert [c.is_open for c in claims] == [True, True, False]
    assert claims[2].status_label == "已赔付"
    assert claims[2].amount_paid_yuan == "12,500.00"
    # the insured is the claimant of the factory's claims
    assert len(service.list_claims(session, customer_id=insured.id)) == 3
    with pytest.raises(NotFound):
        service.list_claims(session, customer_id=10**9)


def test_get_claim_with_timeline(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    claim = make_claim(session, policy=policy, status=ClaimStatus.reported)
    session.add_all(
        [
            ClaimEvent(
                claim_id=claim.id,
                status=ClaimStatus.documents_pending,
                note="请补充发票原件",
                created_at=datetime(2024, 5, 2, tzinfo=UTC),
            ),
            ClaimEvent(
                claim_id=claim.id,
                status=ClaimStatus.reported,
                note="客户报案",
                created_at=datetime(2024, 5, 1, tzinfo=UTC),
            ),
        ]
    )
    session.flush()
    read = service.get_claim(session, customer_id=holder.id, claim_no=claim.claim_no)
    assert read.policy_no == policy.policy_no
    assert read.type_label == "医疗" and read.status_label == "已报案"
    assert [(e.status_label, e.note) for e in read.events] == [
        ("已报案", "客户报案"),
        ("待补充材料", "请补充发票原件"),
    ]
    other = make_customer(session)
    with pytest.raises(NotFound):
        service.get_claim(session, customer_id=other.id, claim_no=claim.claim_no)
    with pytest.raises(NotFound):
        service.get_claim(session, customer_id=holder.id, claim_no="CL-NOPE")


# --- lifecycle ---------------------------------------------------------------


def test_advance_through_the_happy_path(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    claim = make_claim(session, policy=policy, status=ClaimStatus.reported)
    service.advance(
        session,
        claim_id=claim.id,
        status=ClaimStatus.documents_pending,
        note="住院病历、费用清单",
    )
    assert claim.pending_documents == "住院病历、费用清单"
    service.advance(session, claim_id=claim.id, status=ClaimStatus.under_review)
    assert claim.pending_documents is None
    service.advance(
        session, claim_id=claim.id, status=ClaimStatus.approved, note="符合条款约定"
    )
    assert claim.decision_reason == "符合条款约定"
    service.advance(
        session, claim_id=claim.id, status=ClaimStatus.paid, amount_paid_fen=1_000_000
    )
    session.expire_all()
    stored = session.get(Claim, claim.id)
    assert stored.status == ClaimStatus.paid and stored.amount_paid_fen == 1_000_000
    assert [e.status for e in _events(session, claim)] == [
        ClaimStatus.documents_pending,
        ClaimStatus.under_review,
        ClaimStatus.approved,
        ClaimStatus.paid,
    ]
    # a paid claim feeds the holder's value score
    assert session.get(CustomerScore, holder.id) is not None


def test_paid_defaults_to_the_amount_claimed(session):
    policy = make_policy(session, holder=make_customer(session))
    claim = make_claim(session, policy=policy, status=ClaimStatus.approved)
    service.advance(session, claim_id=claim.id, status=ClaimStatus.paid)
    assert claim.amount_paid_fen == claim.amount_claimed_fen


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (ClaimStatus.reported, ClaimStatus.paid),
        (ClaimStatus.reported, ClaimStatus.approved),
        (ClaimStatus.documents_pending, ClaimStatus.approved),
        (ClaimStatus.under_review, ClaimStatus.withdrawn),
        (ClaimStatus.approved, ClaimStatus.rejected),
        (ClaimStatus.paid, ClaimStatus.under_review),
        (ClaimStatus.rejected, ClaimStatus.under_review),
        (ClaimStatus.withdrawn, ClaimStatus.reported),
    ],
)
def test_advance_refuses_invalid_transitions(session, start, target):
    policy = make_policy(session, holder=make_customer(session))
    claim = make_claim(session, policy=policy, status=start)
    with pytest.raises(Conflict) as refused:
        service.advance(session, claim_id=claim.id, status=target, note="x")
    assert refused.value.code == "invalid_claim_transition"
    assert claim.status == start
    assert _events(session, claim) == []


def test_advance_other_refusals(session):
    policy = make_policy(session, holder=make_customer(session))
    claim = make_claim(session, policy=policy, status=ClaimStatus.under_review)
    with pytest.raises(Unprocessable):
        service.advance(session, claim_id=claim.id, status=ClaimStatus.rejected)
    service.advance(
        session, claim_id=claim.id, status=ClaimStatus.rejected, note="等待期内出险"
    )
    assert claim.decision_reason == "等待期内出险"
    approved = make_claim(session, policy=policy, status=ClaimStatus.approved)
    with pytest.raises(Unprocessable):
        service.advance(
            session, claim_id=approved.id, status=ClaimStatus.paid, amount_paid_fen=-1
        )
    with pytest.raises(NotFound):
        service.advance(session, claim_id=10**9, status=ClaimStatus.paid)


# --- reporting ---------------------------------------------------------------


def test_report_numbers_claims_per_day(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    with time_machine.travel(NOON, tick=False):
        first = service.report(
            session,
            policy_id=policy.id,
            claimant_id=holder.id,
            type=ClaimType.accident,
            incident_date=date(2024, 6, 1),
            amount_claimed_fen=300_000,
            description="骑车摔伤，门诊治疗",
        )
        second = service.report(
            session,
            policy_id=policy.id,
            claimant_id=holder.id,
            type=ClaimType.medical,
            incident_date=date(2024, 6, 2),
            amount_claimed_fen=0,
            description="住院",
        )
    assert first.claim_no == "CL20240603000001"
    assert second.claim_no == "CL20240603000002"
    assert first.status == ClaimStatus.reported
    assert first.reported_at == NOON
    events = _events(session, first)
    assert [(e.status, e.note) for e in events] == [
        (ClaimStatus.reported, "骑车摔伤，门诊治疗")
    ]
    assert service.next_claim_no(session, on=date(2024, 6, 4)) == "CL20240604000001"


def test_report_retries_when_a_number_is_taken(session, monkeypatch):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    taken = make_claim(session, policy=policy)
    numbers = iter([taken.claim_no, "CL20240603000009"])
    monkeypatch.setattr(service, "next_claim_no", lambda *_a, **_k: next(numbers))
    claim = service.report(
        session,
        policy_id=policy.id,
        claimant_id=holder.id,
        type=ClaimType.medical,
        incident_date=date(2024, 1, 2),
        amount_claimed_fen=100,
        description="门诊",
    )
    assert claim.claim_no == "CL20240603000009"
    monkeypatch.setattr(service, "next_claim_no", lambda *_a, **_k: taken.claim_no)
    with pytest.raises(Conflict):
        service.report(
            session,
            policy_id=policy.id,
            claimant_id=holder.id,
            type=ClaimType.medical,
            incident_date=date(2024, 1, 2),
            amount_claimed_fen=100,
            description="门诊",
        )


def test_report_refusals(session):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder, start_date=date(2020, 3, 1))
    ok = {
        "policy_id": policy.id,
        "claimant_id": holder.id,
        "type": ClaimType.medical,
        "incident_date": date(2024, 1, 2),
        "amount_claimed_fen": 100,
        "description": "门诊",
    }
    stranger = make_customer(session)
    cases = [
        ({"claimant_id": stranger.id}, "claimant_not_on_policy"),
        ({"incident_date": date(2019, 1, 1)}, "incident_outside_cover"),
        ({"incident_date": date.today() + timedelta(days=2)}, "incident_in_future"),
        ({"amount_claimed_fen": -5}, "invalid_amount"),
    ]
    for change, code in cases:
        with pytest.raises(Unprocessable) as refused:
            service.report(session, **(ok | change))
        assert refused.value.code == code
    policy.end_date = date(2023, 12, 31)
    with pytest.raises(Unprocessable):
        service.report(session, **ok)
    with pytest.raises(NotFound):
        service.report(session, **(ok | {"policy_id": 10**9}))


# --- service API -------------------------------------------------------------


def test_service_list_detail_and_report(client, session, service_headers):
    holder = make_customer(session)
    policy = make_policy(session, holder=holder)
    existing = make_claim(session, policy=policy, status=ClaimStatus.documents_pending)

    listed = client.get(
        f"{SERVICE}/customers/{holder.id}/claims", headers=service_headers
    )
    assert listed.status_code == 200
    assert [c["claim_no"] for c in listed.json()["items"]] == [existing.claim_no]
    assert listed.json()["items"][0]["status_label"] == "待补充材料"

    with time_machine.travel(NOON, tick=False):
        reported = client.post(
            f"{SERVICE}/claims",
            json={
                "customer_id": holder.id,
                "policy_no": policy.policy_no,
                "type": "hospital_allowance",
                "incident_date": "2024-05-30",
                "amount_claimed_fen": 60_000,
                "description": "肺炎住院5天",
            },
            headers=service_headers,
        )
    assert reported.status_code == 201
    body = reported.json()
    assert body["claim_no"] == "CL20240603000001"
    assert body["type_label"] == "住院津贴" and body["status_label"] == "已报案"
    assert body["amount_claimed_yuan"] == "600.00"
    assert body["reported_date"] == "2024-06-03"
    assert [e["note"] for e in body["events"]] == ["肺炎住院5天"]

    detail = client.get(
        f"{SERVICE}/claims/{body['claim_no']}",
        params={"customer_id": holder.id},
        headers=service_headers,
    )
    assert detail.status_code == 200 and detail.json() == body


def test_service_claims_of_another_customer_are_404(client, session, service_headers):
    holder = make_customer(session)
    other = make_customer(session)
    policy = make_policy(session, holder=holder)
    claim = make_claim(session, policy=policy)
    theirs = client.get(
        f"{SERVICE}/claims/{claim.claim_no}",
        params={"customer_id": other.id},
        headers=service_headers,
    )
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "claim_not_found"
    report = client.post(
        f"{SERVICE}/claims",
        json={
            "customer_id": other.id,
            "policy_no": policy.policy_no,
            "type": "medical",
            "incident_date": "2024-05-30",
            "amount_claimed_fen": 100,
            "description": "门诊",
        },
        headers=service_headers,
    )
    assert report.status_code == 404
    invalid = client.post(
        f"{SERVICE}/claims",
        json={"customer_id": holder.id, "policy_no": policy.policy_no, "type": "car"},
        headers=service_headers,
    )
    assert invalid.status_code == 422
    assert client.get(f"{SERVICE}/customers/{holder.id}/claims").status_code == 401


# --- agent API ---------------------------------------------------------------


def test_agent_claims(client, session):
    team = make_team(session)
    mine = make_agent(session, team=team)
    outsider = make_agent(session, team=make_team(session))
    supervisor = make_agent(session, role=AgentRole.supervisor)
    customer = make_customer(session, agent=mine)
    claim = make_claim(session, policy=make_policy(session, holder=customer))
    url = f"{AGENT}/customers/{customer.id}/claims"

    for agent in (mine, supervisor):
        headers = login(client, agent)
        listed = client.get(url, headers=headers)
        assert listed.status_code == 200
        assert listed.json()["items"][0]["claim_no"] == claim.claim_no
        detail = client.get(f"{url}/{claim.claim_no}", headers=headers)
        assert detail.status_code == 200 and detail.json()["status_label"] == "审核中"

    headers = login(client, outsider)
    assert client.get(url, headers=headers).status_code == 403
    denied = client.get(f"{url}/{claim.claim_no}", headers=headers)
    assert denied.status_code == 403
    assert claim.claim_no not in denied.text
