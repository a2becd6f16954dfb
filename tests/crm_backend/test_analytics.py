"""Value tier and churn risk: the rules, recomputation, summaries and the agent API."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crm_backend.analytics import reports, rules, service
from crm_backend.core.config import Settings
from crm_backend.core.errors import NotFound
from crm_backend.core.security import new_token, token_digest
from crm_backend.models import (
    Agent,
    AgentSession,
    Customer,
    CustomerAssignment,
    CustomerScore,
    CustomerSignal,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    AgentStatus,
    BillStatus,
    ClaimStatus,
    PaymentFrequency,
    PolicyStatus,
    ProductType,
    RiskLevel,
    SignalKind,
    TicketStatus,
    ValueTier,
)
from tests.factories import (
    make_agent,
    make_bill,
    make_claim,
    make_customer,
    make_policy,
    make_product,
    make_ticket,
)

AS_OF = date(2025, 6, 1)


def facts(**kw: object) -> rules.CustomerFacts:
    """Facts of an assigned customer with nothing else, overridden by ``kw``."""
    base = rules.CustomerFacts(customer_id=1, as_of=AS_OF, has_current_agent=True)
    return replace(base, **kw)  # type: ignore[arg-type]


def codes(reasons: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Reason code → points."""
    return {r["code"]: r["points"] for r in reasons}


def login(session: Session, agent: Agent) -> dict[str, str]:
    """Bearer headers of a fresh session for ``agent`` (no login endpoint needed)."""
    token = new_token()
    session.add(
        AgentSession(
            agent_id=agent.id,
            token_hash=token_digest(token),
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    session.flush()
    return {"Authorization": f"Bearer {token}"}


def signal(
    session: Session, customer: Customer, kind: SignalKind, *, days_ago: int = 1
) -> None:
    """A churn signal ``days_ago`` days old."""
    session.add(
        CustomerSignal(
            customer_id=customer.id,
            kind=kind,
            created_at=utcnow() - timedelta(days=days_ago),
        )
    )
    session.flush()


# ---- value rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("annual_yuan", "points"),
    [(52_000, 80), (50_000, 80), (20_000, 45), (10_000, 32), (5_000, 22)]
    + [(2_000, 12), (1_999, 5), (0, None)],
)
def test_premium_bands(annual_yuan: int, points: int | None) -> None:
    result = rules.value(facts(annual_premium_fen=annual_yuan * 100))
    assert codes(result.reasons).get("annual_premium") == points
    if points:
        label = result.reasons[0]["label"]
        assert label.startswith(f"年缴保费 ¥{annual_yuan:,}")


def test_value_reasons_each_fire_and_add_up() -> None:
    result = rules.value(
        facts(
            annual_premium_fen=1_000_000,
            first_policy_start=date(2014, 5, 1),
            in_force_policies=3,
            has_annuity=True,
            has_universal=True,
            has_whole_life=True,
        )
    )
    assert codes(result.reasons) == {
        "annual_premium": 32,
        "tenure": 15,
        "policy_count": 9,
        "product_mix": 18,
    }
    assert result.score == 74 and result.tier == ValueTier.gold
    labels = {r["code"]: r["label"] for r in result.reasons}
    assert labels["tenure"] == "客户年限 11 年"
    assert labels["product_mix"] == "持有年金险、万能险、终身寿险"


@pytest.mark.parametrize(
    ("start", "points"),
    [(date(2015, 6, 1), 15), (date(2015, 6, 2), 10), (date(2020, 6, 1), 10)]
    + [(date(2023, 6, 1), 5), (date(2023, 6, 2), None), (None, None)],
)
def test_tenure_bands_use_whole_years(start: date | None, points: int | None) -> None:
    result = rules.value(facts(first_policy_start=start))
    assert codes(result.reasons).get("tenure") == points


@pytest.mark.parametrize(("count", "points"), [(1, None), (2, 5), (3, 9), (6, 12)])
def test_policy_count_bands(count: int, points: int | None) -> None:
    assert (
        codes(rules.value(facts(in_force_policies=count)).reasons).get("policy_count")
        == points
    )


@pytest.mark.parametrize(
    ("claims", "paid", "points"),
    [(100, 100, -15), (50, 100, -8), (49, 100, None), (1, 0, -15), (0, 100, None)],
)
def test_claims_ratio_lowers_value(claims: int, paid: int, points: int | None) -> None:
    result = rules.value(
        facts(
            annual_premium_fen=2_000_000,
            claims_paid_fen=claims * 10_000,
            premium_paid_fen=paid * 10_000,
        )
    )
    assert codes(result.reasons).get("claims_ratio") == points
    assert result.score == 45 + (points or 0)


def test_value_score_never_negative() -> None:
    result = rules.value(facts(claims_paid_fen=100))
    assert result.score == 0 and result.tier == ValueTier.basic


@pytest.mark.parametrize(
    ("score", "premium_fen", "tier"),
    [(80, 0, ValueTier.vip), (79, 0, ValueTier.gold), (50, 0, ValueTier.gold)]
    + [(49, 0, ValueTier.standard), (10, 0, ValueTier.standard)]
    + [(9, 0, ValueTier.basic), (0, 5_000_000, ValueTier.vip)]
    + [(0, 4_999_999, ValueTier.basic)],
)
def test_tier_thresholds(score: int, premium_fen: int, tier: ValueTier) -> None:
    assert rules.tier_for(score, premium_fen) == tier


def test_big_premium_is_vip_even_after_heavy_claims() -> None:
    result = rules.value(
        facts(annual_premium_fen=6_000_000, claims_paid_fen=10, premium_paid_fen=5)
    )
    assert result.score == 65 and result.tier == ValueTier.vip


# ---- churn rules --------------------------------------------------------------

CHURN_CASES = [
    ("missed_payments", {"missed_payments_12m": 2}, 24, "近12个月欠缴/扣款失败 2 期"),
    ("grace_policies", {"grace_policies": 1}, 15, "宽限期保单 1 张"),
    ("lapsed_policies", {"lapsed_policies_12m": 1}, 10, "近12个月失效保单 1 张"),
    ("open_complaints", {"open_complaints": 1}, 15, "未结投诉 1 件"),
    ("recent_complaints", {"complaints_180d": 2}, 12, "近180天投诉 2 次"),
    ("negative_chats", {"negative_chats_90d": 1}, 8, "近90天负面对话 1 次"),
    ("surrender_enquiries", {"surrender_enquiries_90d": 1}, 30, "近90天咨询退保 1 次"),
    (
        "payment_difficulty",
        {"payment_difficulty_90d": 1},
        15,
        "近90天表示缴费困难 1 次",
    ),
    ("agent_departed", {"current_agent_departed": True}, 20, "服务业务员已离职"),
    ("agent_departed", {"agent_departed_signal_180d": True}, 20, "服务业务员已离职"),
    ("no_agent", {"has_current_agent": False}, 10, "无专属服务人员"),
    ("new_customer", {"first_policy_start": date(2024, 12, 1)}, 5, "投保不足1年"),
]


@pytest.mark.parametrize(("code", "kw", "points", "label"), CHURN_CASES)
def test_each_churn_reason_fires(
    code: str, kw: dict[str, object], points: int, label: str
) -> None:
    result = rules.churn(facts(**kw), Settings())
    assert result.reasons == [{"code": code, "label": label, "points": points}]
    assert result.score == points


def test_no_reason_means_low_risk() -> None:
    result = rules.churn(facts(first_policy_start=date(2020, 1, 1)), Settings())
    assert result == rules.ChurnResult(0, RiskLevel.low, [])


@pytest.mark.parametrize(
    ("kw", "code", "cap"),
    [({"missed_payments_12m": 10}, "missed_payments", 36)]
    + [({"surrender_enquiries_90d": 4}, "surrender_enquiries", 45)]
    + [({"negative_chats_90d": 9}, "negative_chats", 24)]
    + [({"open_complaints": 5}, "open_complaints", 30)],
)
def test_counted_reasons_are_capped(kw: dict[str, object], code: str, cap: int) -> None:
    assert codes(rules.churn(facts(**kw), Settings()).reasons)[code] == cap


def test_churn_score_clipped_at_100() -> None:
    result = rules.churn(
        facts(
            missed_payments_12m=5,
            surrender_enquiries_90d=3,
            open_complaints=3,
            current_agent_departed=True,
        ),
        Settings(),
    )
    assert sum(r["points"] for r in result.reasons) == 131
    assert result.score == 100 and result.level == RiskLevel.high


def test_departed_agent_takes_precedence_over_no_agent() -> None:
    result = rules.churn(
        facts(has_current_agent=False, agent_departed_signal_180d=True), Settings()
    )
    assert codes(result.reasons) == {"agent_departed": 20}


def test_levels_follow_settings() -> None:
    default = Settings()
    strict = Settings(churn_high_threshold=80, churn_medium_threshold=50)
    f = facts(surrender_enquiries_90d=1, open_complaints=2)  # 30 + 30 = 60
    assert rules.churn(f, default).level == RiskLevel.high
    assert rules.churn(f, strict).level == RiskLevel.medium
    assert rules.level_for(19, default) == RiskLevel.low
    assert rules.level_for(20, default) == RiskLevel.medium
    assert rules.level_for(39, default) == RiskLevel.medium
    assert rules.level_for(40, default) == RiskLevel.high
    assert rules.level_for(49, strict) == RiskLevel.low
    assert rules.level_for(80, strict) == RiskLevel.high


def test_yuan_display() -> None:
    assert rules.yuan(5_200_000) == "¥52,000" and rules.yuan(99) == "¥0"


# ---- recompute ----------------------------------------------------------------


def years_ago(years: int, days: int = 30) -> date:
    """A start date safely more than ``years`` whole years ago."""
    return date.today() - timedelta(days=365 * years + days)


def test_recompute_writes_value_and_reasons(session: Session) -> None:
    agent = make_agent(session)
    customer = make_customer(session, agent=agent)
    annuity = make_product(session, type=ProductType.annuity, name="鑫享年金")
    make_policy(
        session,
        holder=customer,
        premium_fen=300_000,
        frequency=PaymentFrequency.monthly,
        start_date=years_ago(6),
    )  # ¥36,000 a year
    make_policy(
        session,
        holder=customer,
        product=annuity,
        premium_fen=10_000_000,
        frequency=PaymentFrequency.single,
        start_date=years_ago(2),
    )  # ¥100,000 once → ¥10,000 a year
    make_policy(
        session, holder=customer, status=PolicyStatus.lapsed, premium_fen=9_900_000
    )
    now = utcnow()
    score = service.recompute(session, customer_id=customer.id, now=now)
    stored = session.scalars(
        select(CustomerScore).where(CustomerScore.customer_id == customer.id)
    ).one()
    assert stored is score
    assert score.annual_premium_fen == 4_600_000
    assert codes(score.value_reasons) == {
        "annual_premium": 45,
        "tenure": 10,
        "policy_count": 5,
        "product_mix": 6,
    }
    assert score.value_score == 66 and score.value_tier == ValueTier.gold
    assert score.value_reasons[0]["label"] == "年缴保费 ¥46,000（≥¥20,000档）"
    # the lapsed policy (status_changed_at unknown) counts as a recent lapse
    assert codes(score.churn_reasons) == {"lapsed_policies": 10}
    assert score.churn_risk == RiskLevel.low and score.computed_at == now


def test_recompute_updates_the_existing_row(session: Session) -> None:
    customer = make_customer(session, agent=make_agent(session))
    first = service.recompute(session, customer_id=customer.id)
    assert first.value_tier == ValueTier.basic and first.value_reasons == []
    make_policy(session, holder=customer, premium_fen=6_000_000)
    second = service.recompute(session, customer_id=customer.id)
    assert second is first and second.value_tier == ValueTier.vip
    count = session.scalars(
        select(CustomerScore).where(CustomerScore.customer_id == customer.id)
    ).all()
    assert len(count) == 1


def test_recompute_unknown_customer(session: Session) -> None:
    with pytest.raises(NotFound):
        service.recompute(session, customer_id=999_999_999)


def test_gather_facts_windows(session: Session) -> None:
    customer = make_customer(session)
    today = date.today()
    policy = make_policy(session, holder=customer, status=PolicyStatus.grace)
    make_bill(
        session,
        policy=policy,
        due_date=today - timedelta(days=30),
        status=BillStatus.overdue,
    )
    make_bill(
        session,
        policy=policy,
        due_date=today - timedelta(days=200),
        status=BillStatus.failed,
    )
    make_bill(
        session,
        policy=policy,
        due_date=today - timedelta(days=400),
        status=BillStatus.overdue,
    )  # older than 12 months
    make_bill(
        session,
        policy=policy,
        due_date=today - timedelta(days=500),
        status=BillStatus.paid,
        amount_fen=500_000,
    )
    make_bill(
        session,
        policy=policy,
        due_date=today - timedelta(days=865),
        status=BillStatus.paid,
        amount_fen=500_000,
    )
    make_claim(
        session, policy=policy, status=ClaimStatus.paid, amount_claimed_fen=800_000
    )
    make_claim(session, policy=policy, status=ClaimStatus.under_review)
    old = make_policy(session, holder=customer, status=PolicyStatus.lapsed)
    old.status_changed_at = today - timedelta(days=800)
    signal(session, customer, SignalKind.negative_chat, days_ago=10)
    signal(session, customer, SignalKind.negative_chat, days_ago=100)
    signal(session, customer, SignalKind.payment_difficulty, days_ago=5)
    signal(session, customer, SignalKind.complaint, days_ago=20)
    make_ticket(
        session,
        customer=customer,
        status=TicketStatus.resolved,
        created_at=utcnow() - timedelta(days=300),
    )
    session.flush()

    f = service.gather_facts(session, customer_id=customer.id)
    assert f.missed_payments_12m == 2
    assert f.premium_paid_fen == 1_000_000 and f.claims_paid_fen == 800_000
    assert f.grace_policies == 1 and f.in_force_policies == 1
    assert f.lapsed_policies_12m == 0
    assert f.negative_chats_90d == 1 and f.payment_difficulty_90d == 1
    assert f.open_complaints == 0 and f.complaints_180d == 1
    assert f.has_current_agent is False
    assert f.first_policy_start == date(2020, 3, 1)

    score = service.recompute(session, customer_id=customer.id)
    assert codes(score.value_reasons)["claims_ratio"] == -8
    assert codes(score.churn_reasons) == {
        "missed_payments": 24,
        "grace_policies": 15,
        "recent_complaints": 6,
        "negative_chats": 8,
        "payment_difficulty": 15,
        "no_agent": 10,
    }
    assert score.churn_score == 78 and score.churn_risk == RiskLevel.high


def test_a_surrender_signal_raises_churn(session: Session) -> None:
    customer = make_customer(session, agent=make_agent(session))
    make_policy(session, holder=customer)
    before = service.recompute(session, customer_id=customer.id)
    assert (before.churn_score, before.churn_risk) == (0, RiskLevel.low)
    signal(session, customer, SignalKind.surrender_enquiry, days_ago=100)
    assert service.recompute(session, customer_id=customer.id).churn_score == 0
    signal(session, customer, SignalKind.surrender_enquiry, days_ago=3)
    after = service.recompute(session, customer_id=customer.id)
    assert after.churn_score == 30 and after.churn_risk == RiskLevel.medium
    assert after.churn_reasons[0]["label"] == "近90天咨询退保 1 次"


def test_open_complaints_raise_churn(session: Session) -> None:
    customer = make_customer(session, agent=make_agent(session))
    make_ticket(session, customer=customer)
    make_ticket(session, customer=customer, status=TicketStatus.investigating)
    score = service.recompute(session, customer_id=customer.id)
    assert codes(score.churn_reasons) == {
        "open_complaints": 30,
        "recent_complaints": 12,
    }
    assert score.churn_risk == RiskLevel.high  # two open at once


def test_a_departed_agent_raises_churn(session: Session) -> None:
    agent = make_agent(session)
    customer = make_customer(session, agent=agent)
    make_policy(session, holder=customer, agent=agent)
    assert service.recompute(session, customer_id=customer.id).churn_score == 0
    agent.status = AgentStatus.departed
    agent.departed_at = utcnow()
    session.flush()
    score = service.recompute(session, customer_id=customer.id)
    assert codes(score.churn_reasons) == {"agent_departed": 20}
    assert score.churn_risk == RiskLevel.medium  # an orphaned customer, alone


def test_reassigned_customer_keeps_departure_signal(session: Session) -> None:
    gone = make_agent(session, status=AgentStatus.departed)
    customer = make_customer(session)
    session.add(
        CustomerAssignment(customer_id=customer.id, agent_id=gone.id, ended_at=utcnow())
    )
    session.add(
        CustomerAssignment(customer_id=customer.id, agent_id=make_agent(session).id)
    )
    signal(session, customer, SignalKind.agent_departed, days_ago=30)
    assert codes(service.recompute(session, customer_id=customer.id).churn_reasons) == {
        "agent_departed": 20
    }


def test_get_or_compute(session: Session) -> None:
    customer = make_customer(session)
    assert session.get(CustomerScore, customer.id) is None
    first = service.get_or_compute(session, customer_id=customer.id)
    assert first.churn_reasons == [
        {"code": "no_agent", "label": "无专属服务人员", "points": 10}
    ]
    make_policy(session, holder=customer, premium_fen=6_000_000)
    # a stored score is returned as is, without recomputing
    again = service.get_or_compute(session, customer_id=customer.id)
    assert again is first and again.value_tier == ValueTier.basic


def build_book(session: Session, n: int = 30, seed: int = 7) -> list[Customer]:
    """A small varied book: premiums, frequencies, bills, claims, signals, tickets."""
    rng = random.Random(seed)
    agents = [make_agent(session), make_agent(session)]
    gone = make_agent(session, status=AgentStatus.departed)
    products = [
        make_product(session, type=t)
        for t in (ProductType.critical_illness, ProductType.annuity)
        + (ProductType.universal, ProductType.life, ProductType.medical)
    ]
    customers = []
    today = date.today()
    for i in range(n):
        owner = rng.choice([*agents, gone, None])
        customer = make_customer(session, name=f"测试客户{i}", agent=owner)
        customers.append(customer)
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            policy = make_policy(
                session,
                holder=customer,
                product=rng.choice(products),
                premium_fen=rng.choice([80_000, 300_000, 1_200_000, 3_000_000]),
                frequency=rng.choice(list(PaymentFrequency)),
                status=rng.choice(
                    [PolicyStatus.in_force] * 3
                    + [PolicyStatus.grace, PolicyStatus.lapsed]
                ),
                start_date=today - timedelta(days=rng.randint(100, 5000)),
            )
            for _ in range(rng.randint(0, 3)):
                make_bill(
                    session,
                    policy=policy,
                    due_date=today - timedelta(days=rng.randint(1, 500)),
                    status=rng.choice(list(BillStatus)),
                )
            if rng.random() < 0.3:
                make_claim(
                    session,
                    policy=policy,
                    status=ClaimStatus.paid,
                    amount_claimed_fen=rng.choice([100_000, 5_000_000]),
                )
        for _ in range(rng.randint(0, 3)):
            signal(
                session,
                customer,
                rng.choice(list(SignalKind)),
                days_ago=rng.randint(1, 200),
            )
        if rng.random() < 0.3:
            make_ticket(
                session, customer=customer, status=rng.choice(list(TicketStatus))
            )
    return customers


def score_tuple(score: CustomerScore) -> tuple[object, ...]:
    """Every stored field of a score but the time."""
    return (
        score.value_score,
        score.value_tier,
        score.annual_premium_fen,
        score.value_reasons,
        score.churn_score,
        score.churn_risk,
        score.churn_reasons,
    )


def test_recompute_all_equals_per_customer(session: Session) -> None:
    customers = build_book(session)
    now = utcnow()
    one_by_one = {
        c.id: score_tuple(service.recompute(session, customer_id=c.id, now=now))
        for c in customers
    }
    assert len({t[1] for t in one_by_one.values()}) >= 3  # a varied book
    assert len({t[5] for t in one_by_one.values()}) >= 2
    stale = session.get(CustomerScore, customers[0].id)
    assert stale is not None
    stale.churn_score = -1
    session.flush()

    in_db = session.scalar(select(func.count()).select_from(Customer))
    assert service.recompute_all(session, now=now, batch_size=7) == in_db
    rows = session.scalars(
        select(CustomerScore).where(CustomerScore.customer_id.in_(one_by_one))
    ).all()
    assert len(rows) == 30
    assert {r.customer_id: score_tuple(r) for r in rows} == one_by_one
    assert all(r.computed_at == now for r in rows)
    assert stale.churn_score == one_by_one[customers[0].id][4]


# ---- summaries ----------------------------------------------------------------


def put_score(
    session: Session,
    customer: Customer,
    *,
    tier: ValueTier = ValueTier.standard,
    premium_yuan: int = 0,
    churn: int = 0,
    risk: RiskLevel = RiskLevel.low,
    reasons: tuple[str, ...] = (),
) -> CustomerScore:
    """A stored score with churn reasons of the given codes."""
    score = CustomerScore(
        customer_id=customer.id,
        value_score=0,
        value_tier=tier,
        annual_premium_fen=premium_yuan * 100,
        value_reasons=[],
        churn_score=churn,
        churn_risk=risk,
        churn_reasons=[{"code": c, "label": f"{c}标签", "points": 1} for c in reasons],
    )
    session.add(score)
    session.flush()
    return score


def pareto_book(session: Session) -> list[Customer]:
    """Ten scored customers: 1 vip ¥60k, 1 gold ¥20k, 6 standard ¥2k, 2 basic ¥0."""
    plan = [(ValueTier.vip, 60_000), (ValueTier.gold, 20_000)]
    plan += [(ValueTier.standard, 2_000)] * 6 + [(ValueTier.basic, 0)] * 2
    customers = []
    for i, (tier, premium) in enumerate(plan):
        customer = make_customer(session, name=f"欧阳{i}号")
        put_score(session, customer, tier=tier, premium_yuan=premium)
        customers.append(customer)
    return customers


def test_value_segments_pareto_math(session: Session) -> None:
    pareto_book(session)
    view = reports.value_segments(session)
    assert view["scored_customers"] == 10
    assert view["total_annual_premium_fen"] == 9_200_000
    assert view["total_annual_premium_display"] == "¥92,000"
    by_tier = {s["tier"]: s for s in view["segments"]}
    assert list(by_tier) == [ValueTier.vip, ValueTier.gold] + [
        ValueTier.standard,
        ValueTier.basic,
    ]
    assert by_tier[ValueTier.vip]["customer_share"] == 0.1
    assert by_tier[ValueTier.vip]["premium_share"] == round(60_000 / 92_000, 4)
    assert by_tier[ValueTier.standard]["customers"] == 6
    assert by_tier[ValueTier.standard]["annual_premium_fen"] == 1_200_000
    assert by_tier[ValueTier.basic]["premium_share"] == 0.0
    # top 20% = 2 customers holding ¥80,000 of ¥92,000
    assert view["top20_customers"] == 2
    assert view["top20_premium_share"] == round(80_000 / 92_000, 4)


def test_value_segments_empty_book(session: Session) -> None:
    session.execute(delete(CustomerScore))
    view = reports.value_segments(session)
    assert view["scored_customers"] == 0 and view["top20_premium_share"] == 0.0
    assert all(s["customers"] == 0 for s in view["segments"])


def churn_book(session: Session) -> list[Customer]:
    """Four scored customers at different risks with overlapping reasons."""
    plan = [
        (90, RiskLevel.high, ("surrender_enquiries", "missed_payments")),
        (70, RiskLevel.high, ("surrender_enquiries",)),
        (40, RiskLevel.medium, ("missed_payments", "no_agent")),
        (10, RiskLevel.low, ("no_agent",)),
    ]
    customers = []
    for i, (churn, risk, reasons) in enumerate(plan):
        customer = make_customer(session, name=f"司马{i}")
        put_score(session, customer, churn=churn, risk=risk, reasons=reasons)
        customers.append(customer)
    return customers


def test_churn_summary_counts_levels_and_reasons(session: Session) -> None:
    churn_book(session)
    summary = reports.churn_summary(session)
    assert summary["scored_customers"] == 4
    assert summary["levels"] == [
        {"level": RiskLevel.high, "customers": 2, "share": 0.5},
        {"level": RiskLevel.medium, "customers": 1, "share": 0.25},
        {"level": RiskLevel.low, "customers": 1, "share": 0.25},
    ]
    assert summary["top_reasons"] == [
        {"code": "missed_payments", "label": "近12个月欠缴或扣款失败", "customers": 2},
        {"code": "no_agent", "label": "无专属服务人员", "customers": 2},
        {"code": "surrender_enquiries", "label": "近90天咨询退保", "customers": 2},
    ]
    high = reports.churn_summary(session, level=RiskLevel.high, top=1)
    assert high["top_reasons"] == [
        {"code": "surrender_enquiries", "label": "近90天咨询退保", "customers": 2}
    ]


def test_churn_customers_list(session: Session) -> None:
    customers = churn_book(session)
    items, total = reports.churn_customers(session, level=RiskLevel.high)
    assert total == 2
    assert [i["customer_id"] for i in items] == [customers[0].id, customers[1].id]
    assert items[0]["masked_name"] == "司**" and items[0]["churn_score"] == 90
    assert items[0]["customer_no"] == customers[0].customer_no
    every, total = reports.churn_customers(session, level=None, limit=2, offset=2)
    assert total == 4 and [i["churn_score"] for i in every] == [40, 10]


# ---- agent API ----------------------------------------------------------------

URL = "/api/v1/agent/analytics"


def test_endpoints_require_login(client: TestClient) -> None:
    for method, path in [
        ("get", "/value-segments"),
        ("get", "/churn"),
        ("get", "/churn/customers"),
        ("get", "/churn/customers.csv"),
        ("get", "/customers/1/score"),
        ("post", "/recompute"),
    ]:
        response = getattr(client, method)(URL + path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"


def test_any_agent_reads_aggregates_but_not_lists(
    client: TestClient, session: Session
) -> None:
    pareto_book(session)
    headers = login(session, make_agent(session))
    segments = client.get(f"{URL}/value-segments", headers=headers)
    assert segments.status_code == 200
    body = segments.json()
    assert body["scored_customers"] == 10 and body["top20_customers"] == 2
    assert body["segments"][0] == {
        "tier": "vip",
        "customers": 1,
        "customer_share": 0.1,
        "annual_premium_fen": 6_000_000,
        "annual_premium_display": "¥60,000",
        "premium_share": round(60_000 / 92_000, 4),
    }
    churn = client.get(f"{URL}/churn", headers=headers)
    assert churn.status_code == 200 and churn.json()["scored_customers"] == 10
    for method, path in [
        ("get", "/churn/customers"),
        ("get", "/churn/customers.csv"),
        ("post", "/recompute"),
    ]:
        response = getattr(client, method)(URL + path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"


def test_supervisor_lists_churn_customers(client: TestClient, session: Session) -> None:
    customers = churn_book(session)
    headers = login(session, make_agent(session, role=AgentRole.supervisor))
    response = client.get(
        f"{URL}/churn/customers", params={"level": "high", "limit": 1}, headers=headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert body["items"] == [
        {
            "customer_id": customers[0].id,
            "customer_no": customers[0].customer_no,
            "masked_name": "司**",
            "value_tier": "standard",
            "annual_premium_fen": 0,
            "churn_score": 90,
            "churn_risk": "high",
            "churn_reasons": [
                {
                    "code": "surrender_enquiries",
                    "label": "surrender_enquiries标签",
                    "points": 1,
                },
                {
                    "code": "missed_payments",
                    "label": "missed_payments标签",
                    "points": 1,
                },
            ],
        }
    ]
    assert "司马0" not in response.text
    bad = client.get(f"{URL}/churn/customers", params={"level": "x"}, headers=headers)
    assert bad.status_code == 422


def test_supervisor_exports_csv_with_masked_names(
    client: TestClient, session: Session
) -> None:
    customers = churn_book(session)
    headers = login(session, make_agent(session, role=AgentRole.supervisor))
    response = client.get(
        f"{URL}/churn/customers.csv", params={"level": "medium"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="churn_medium.csv"' in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("customer_id,customer_no,name,value_tier")
    assert lines[1:] == [
        f"{customers[2].id},{customers[2].customer_no},司**,standard,0,40,medium,"
        "missed_payments标签；no_agent标签"
    ]
    assert "司马" not in text


def test_customer_score_endpoint_checks_access(
    client: TestClient, session: Session
) -> None:
    mine = make_agent(session)
    other = make_agent(session)
    customer = make_customer(session, agent=mine)
    make_policy(session, holder=customer, premium_fen=2_500_000)
    signal(session, customer, SignalKind.surrender_enquiry)
    response = client.get(
        f"{URL}/customers/{customer.id}/score", headers=login(session, mine)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["value_tier"] == "gold"
    assert body["annual_premium_display"] == "¥25,000"
    assert [r["code"] for r in body["value_reasons"]] == ["annual_premium", "tenure"]
    assert body["churn_reasons"] == [
        {"code": "surrender_enquiries", "label": "近90天咨询退保 1 次", "points": 30}
    ]
    assert body["churn_risk"] == "medium"
    assert session.get(CustomerScore, customer.id) is not None
    denied = client.get(
        f"{URL}/customers/{customer.id}/score", headers=login(session, other)
    )
    assert denied.status_code == 403


def test_customer_score_unknown_customer(client: TestClient, session: Session) -> None:
    headers = login(session, make_agent(session, role=AgentRole.supervisor))
    response = client.get(f"{URL}/customers/999999999/score", headers=headers)
    assert response.status_code == 404


def test_customer_score_uses_settings_thresholds(
    client: TestClient, session: Session, settings: Settings
) -> None:
    settings.churn_medium_threshold = 40
    customer = make_customer(session, agent=make_agent(session))
    signal(session, customer, SignalKind.surrender_enquiry)
    headers = login(session, make_agent(session, role=AgentRole.supervisor))
    body = client.get(f"{URL}/customers/{customer.id}/score", headers=headers).json()
    assert body["churn_score"] == 30 and body["churn_risk"] == "low"


def test_supervisor_recomputes_the_book(client: TestClient, session: Session) -> None:
    customers = build_book(session, n=8, seed=3)
    headers = login(session, make_agent(session, role=AgentRole.supervisor))
    response = client.post(f"{URL}/recompute", headers=headers)
    assert response.status_code == 200
    in_db = session.scalar(select(func.count()).select_from(Customer))
    assert response.json()["recomputed"] == in_db
    for customer in customers:
        stored = session.get(CustomerScore, customer.id)
        assert stored is not None
        fresh = service.recompute(session, customer_id=customer.id)
        assert score_tuple(stored) == score_tuple(fresh)
