"""The demo-data generator: coverage of every state, the documented demo customers,
realistic personal data, the long tail of value, determinism and the command line."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings
from crm_backend.core.db import make_engine
from crm_backend.core.security import verify_password
from crm_backend.demo import __main__ as cli
from crm_backend.demo.billing import FAILURE_REASONS
from crm_backend.demo.catalog import (
    AGENTS,
    DEMO_CUSTOMERS,
    DEMO_PASSWORD,
    TEAMS,
    demo_customers_markdown,
)
from crm_backend.demo.context import Context
from crm_backend.demo.generate import (
    NotEmpty,
    Summary,
    build_staff,
    generate,
    iter_book,
    max_ids,
)
from crm_backend.demo.people import id_check_digit, id_number_valid, luhn_digit
from crm_backend.models import (
    Agent,
    CannedReply,
    Claim,
    ClaimEvent,
    Conversation,
    Customer,
    CustomerAssignment,
    CustomerScore,
    CustomerSignal,
    Escalation,
    Payment,
    Policy,
    PremiumBill,
    Product,
    Team,
    Ticket,
)
from crm_backend.models.enums import (
    PAYMENTS_PER_YEAR,
    AgentRole,
    AgentStatus,
    BillStatus,
    ClaimStatus,
    ConversationStatus,
    EscalationStatus,
    PaymentResult,
    PolicyStatus,
    Presence,
    ProductType,
    RiskLevel,
    SignalKind,
    TicketStatus,
    ValueTier,
)
from tests.crm_backend.conftest import alembic_config

TODAY = date(2026, 11, 25)
SEED = 20261125
CUSTOMERS = 200


@pytest.fixture(scope="module")
def _loaded(engine: Engine) -> Iterator[tuple[Connection, Summary]]:
    """One 200-customer book per database, in a transaction rolled back at the end.

    Generating once per module (not per test) keeps the module fast; every test gets
    its own session on a savepoint, so nothing a test writes outlives it.
    """
    conn = engine.connect()
    trans = conn.begin()
    with Session(bind=conn, join_transaction_mode="create_savepoint") as loader:
        summary = generate(
            loader,
            customers=CUSTOMERS,
            seed=SEED,
            today=TODAY,
            settings=Settings(environment="test"),
        )
        loader.commit()
    try:
        yield conn, summary
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture()
def book(_loaded: tuple[Connection, Summary]) -> Summary:
    """What loading the book reported."""
    return _loaded[1]


@pytest.fixture()
def session(_loaded: tuple[Connection, Summary]) -> Iterator[Session]:
    """A session on the loaded book; whatever the test writes is rolled back."""
    sess = Session(
        bind=_loaded[0],
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )
    try:
        yield sess
    finally:
        sess.close()


def _as_of() -> datetime:
    return Context(
        seed=1, today=TODAY, staff=build_staff(TODAY, {}, "x")[0], id_base={}
    ).as_of


def _statuses(session: Session, column) -> set:  # type: ignore[no-untyped-def]
    return set(session.scalars(select(column).distinct()))


def test_summary_counts_match_the_database(session: Session, book: Summary) -> None:
    assert book.counts["customers"] == CUSTOMERS
    assert session.scalar(select(func.count()).select_from(Customer)) == CUSTOMERS
    assert book.counts["policies"] == session.scalar(
        select(func.count()).select_from(Policy)
    )
    assert book.scores == f"computed for {CUSTOMERS:,} customers"
    assert session.scalar(select(func.count()).select_from(CustomerScore)) == CUSTOMERS
    canned = session.scalar(select(func.count()).select_from(CannedReply))
    assert book.counts["canned_replies"] == canned and 15 <= canned <= 20


def test_every_status_is_present(session: Session, book: Summary) -> None:
    assert _statuses(session, Policy.status) == set(PolicyStatus)
    assert _statuses(session, PremiumBill.status) == set(BillStatus)
    assert _statuses(session, Claim.status) == set(ClaimStatus)
    assert _statuses(session, Ticket.status) == set(TicketStatus)
    assert _statuses(session, Escalation.status) == set(EscalationStatus)
    assert {ProductType(t) for t in _statuses(session, Product.type)} == set(
        ProductType
    )
    kinds = _statuses(session, CustomerSignal.kind)
    assert {SignalKind.payment_difficulty, SignalKind.agent_departed} <= kinds


def test_products_are_realistic(session: Session, book: Summary) -> None:
    products = session.scalars(select(Product)).all()
    by_type = Counter(p.type for p in products)
    assert all(2 <= by_type[t] <= 3 for t in ProductType)
    for p in products:
        assert p.grace_period_days == 60
        assert p.hesitation_period_days in (15, 20)
        assert p.coverage and p.exclusions
        expected_wait = {
            ProductType.critical_illness: 90,
            ProductType.medical: 30,
            ProductType.accident: 0,
        }.get(p.type)
        if expected_wait is not None:
            assert p.waiting_period_days == expected_wait, p.name
        if p.type in (ProductType.medical, ProductType.accident):
            assert p.term_years == 1 and not p.allows_policy_loan
        if p.type in (ProductType.annuity, ProductType.universal):
            assert p.allows_policy_loan
    assert "百万医疗" in "".join(p.name for p in products)


def test_teams_and_agents(session: Session, book: Summary) -> None:
    teams = session.scalars(select(Team)).all()
    assert {t.code for t in teams} == {t.code for t in TEAMS}
    topics = {tuple(t.topics) for t in teams}
    assert {("vip",), ("retention",), ("complaints",), ("general",)} <= topics
    agents = session.scalars(select(Agent)).all()
    assert len(agents) == len(AGENTS) >= 40
    supervisors = Counter(a.team_id for a in agents if a.role == AgentRole.supervisor)
    assert set(supervisors.values()) == {1} and len(supervisors) == len(teams)
    assert all(3 <= a.capacity <= 5 for a in agents)
    assert {a.presence for a in agents} == set(Presence)
    # one hash for everyone (hashing is slow), and it is the documented password
    assert len({a.password_hash for a in agents}) == 1
    assert verify_password(agents[0].password_hash, DEMO_PASSWORD)
    assert not verify_password(agents[0].password_hash, "wrong")


def test_exactly_one_departed_agent_keeps_their_customers(
    session: Session, book: Summary
) -> None:
    departed = session.scalars(
        select(Agent).where(Agent.status == AgentStatus.departed)
    ).all()
    assert len(departed) == 1
    agent = departed[0]
    assert agent.departed_at is not None and agent.presence == Presence.offline
    open_rows = session.scalars(
        select(CustomerAssignment).where(
            CustomerAssignment.agent_id == agent.id,
            CustomerAssignment.ended_at.is_(None),
        )
    ).all()
    assert len(open_rows) >= 2
    signals = set(
        session.scalars(
            select(CustomerSignal.customer_id).where(
                CustomerSignal.kind == SignalKind.agent_departed
            )
        )
    )
    assert {a.customer_id for a in open_rows} == signals


def test_every_customer_has_one_open_assignment_to_a_servicing_agent(
    session: Session, book: Summary
) -> None:
    rows = session.execute(
        select(CustomerAssignment.customer_id, Agent.role)
        .join(Agent, Agent.id == CustomerAssignment.agent_id)
        .where(CustomerAssignment.ended_at.is_(None))
    ).all()
    assert Counter(cid for cid, _ in rows) == Counter(
        session.scalars(select(Customer.id))
    )
    assert {role for _, role in rows} <= {
        AgentRole.sales_agent,
        AgentRole.account_manager,
    }


def _demo(session: Session, key: str) -> Customer:
    spec = next(c for c in DEMO_CUSTOMERS if c.key == key)
    (customer,) = session.scalars(select(Customer).where(Customer.phone == spec.phone))
    return customer


def test_demo_customers_verify_as_documented(session: Session, book: Summary) -> None:
    first_ids = session.scalars(
        select(Customer.id).order_by(Customer.id).limit(6)
    ).all()
    for spec, expected_id in zip(DEMO_CUSTOMERS, first_ids, strict=True):
        customer = _demo(session, spec.key)
        assert customer.id == expected_id  # generated first: stable ids
        assert customer.name == spec.name
        assert customer.id_number[-4:] == spec.id_last4
        assert customer.birth_date == spec.birth_date
        policy = session.scalar(
            select(Policy).where(Policy.policy_no == spec.policy_no)
        )
        assert policy is not None and policy.holder_id == customer.id
        agent = session.scalar(
            select(Agent)
            .join(CustomerAssignment, CustomerAssignment.agent_id == Agent.id)
            .where(
                CustomerAssignment.customer_id == customer.id,
                CustomerAssignment.ended_at.is_(None),
            )
        )
        assert agent is not None and agent.employee_no == spec.agent
    table = demo_customers_markdown()
    assert all(c.phone in table and c.id_last4 in table for c in DEMO_CUSTOMERS)


def test_demo_scenarios_show_what_they_promise(session: Session, book: Summary) -> None:
    vip = _demo(session, "vip")
    score = session.get(CustomerScore, vip.id)
    assert score is not None and score.value_tier == ValueTier.vip
    vip_agent = session.scalar(select(Agent).where(Agent.employee_no == "KN1002"))
    assert vip_agent is not None and vip_agent.presence == Presence.online

    overdue = _demo(session, "overdue")
    (policy,) = session.scalars(select(Policy).where(Policy.holder_id == overdue.id))
    assert policy.status == PolicyStatus.grace
    bill = session.scalar(
        select(PremiumBill).where(
            PremiumBill.policy_id == policy.id, PremiumBill.status == BillStatus.overdue
        )
    )
    assert bill is not None and bill.due_date == TODAY - timedelta(days=20)
    failures = session.scalars(
        select(Payment.failure_reason).where(Payment.bill_id == bill.id)
    )
    assert list(failures) == ["insufficient_funds", "insufficient_funds"]

    claimant = _demo(session, "open_claim")
    claim = session.scalar(
        select(Claim).where(
            Claim.claimant_id == claimant.id, Claim.status == ClaimStatus.under_review
        )
    )
    assert claim is not None and claim.pending_documents
    steps = session.scalars(
        select(ClaimEvent.status)
        .where(ClaimEvent.claim_id == claim.id)
        .order_by(ClaimEvent.created_at)
    ).all()
    assert steps == [
        ClaimStatus.reported,
        ClaimStatus.documents_pending,
        ClaimStatus.under_review,
    ]

    complainant = _demo(session, "open_complaint")
    ticket = session.scalar(select(Ticket).where(Ticket.customer_id == complainant.id))
    assert ticket is not None and ticket.status == TicketStatus.investigating
    assert ticket.resolve_due_at > _as_of() and not ticket.resolve_breached

    left = _demo(session, "agent_left")
    agent = session.scalar(
        select(Agent)
        .join(CustomerAssignment, CustomerAssignment.agent_id == Agent.id)
        .where(
            CustomerAssignment.customer_id == left.id,
            CustomerAssignment.ended_at.is_(None),
        )
    )
    assert agent is not None and agent.status == AgentStatus.departed

    # each of the three troubles alone is a medium churn risk; the ordinary
    # customer has none
    for who, risk in (
        ("ordinary", RiskLevel.low),
        ("overdue", RiskLevel.medium),
        ("open_complaint", RiskLevel.medium),
        ("agent_left", RiskLevel.medium),
    ):
        score = session.get(CustomerScore, _demo(session, who).id)
        assert score is not None and score.churn_risk == risk, who


def test_personal_data_is_valid_and_unique(session: Session, book: Summary) -> None:
    customers = session.scalars(select(Customer)).all()
    phones = [c.phone for c in customers]
    assert len(set(phones)) == len(phones)
    assert all(len(p) == 11 and p.startswith("1") and p.isdigit() for p in phones)
    for c in customers:
        assert id_number_valid(c.id_number), c.id_number
        assert c.id_number[6:14] == c.birth_date.strftime("%Y%m%d")
        assert (int(c.id_number[16]) % 2 == 1) == (c.gender.value == "male")
        age = (TODAY - c.birth_date).days // 365.25
        assert 18 <= age <= 75
        assert c.education in {"初中", "高中", "大专", "本科", "硕士", "博士"}
        assert c.region and c.city and c.address and c.occupation
    assert len({c.region for c in customers}) > 15
    accounts = session.scalars(
        select(Policy.debit_account_no).where(Policy.debit_account_no.is_not(None))
    )
    assert all(luhn_digit(a[:-1]) == a[-1] for a in accounts)


def test_check_digit_helpers() -> None:
    assert id_check_digit("11010519491231002") == "X"
    assert id_number_valid("11010519491231002X")
    assert not id_number_valid("110105194912310021")
    assert luhn_digit("7992739871") == "3"


def test_premium_has_a_long_tail(session: Session, book: Summary) -> None:
    per_customer: dict[int, int] = defaultdict(int)
    for holder, premium, frequency in session.execute(
        select(Policy.holder_id, Policy.premium_fen, Policy.payment_frequency)
    ):
        per_year = PAYMENTS_PER_YEAR[frequency]
        per_customer[holder] += premium * per_year if per_year else premium // 10
    values = sorted(per_customer.values(), reverse=True)
    top = values[: len(values) // 5]
    assert sum(top) >= 0.6 * sum(values)


def test_bills_and_payments_agree_with_policies(
    session: Session, book: Summary
) -> None:
    grace = session.scalars(
        select(Policy.id).where(Policy.status == PolicyStatus.grace)
    )
    for policy_id in grace:
        unpaid = session.scalars(
            select(PremiumBill).where(
                PremiumBill.policy_id == policy_id,
                PremiumBill.status.in_((BillStatus.overdue, BillStatus.failed)),
            )
        ).all()
        assert len(unpaid) == 1
        assert 0 < (TODAY - unpaid[0].due_date).days < 60
    for bill in session.scalars(select(PremiumBill)):
        results = [
            p.result
            for p in session.scalars(select(Payment).where(Payment.bill_id == bill.id))
        ]
        if bill.status == BillStatus.paid:
            assert results.count(PaymentResult.success) == 1 and bill.paid_at
        else:
            assert PaymentResult.success not in results and bill.paid_at is None
        if bill.status == BillStatus.failed:
            assert PaymentResult.failed in results
        if bill.status == BillStatus.due:
            assert bill.due_date >= TODAY
    reasons = set(
        session.scalars(
            select(Payment.failure_reason).where(Payment.result == PaymentResult.failed)
        )
    )
    assert reasons and reasons <= {r for r, _ in FAILURE_REASONS}


def test_timelines_agree_with_statuses(session: Session, book: Summary) -> None:
    as_of = _as_of()
    for claim in session.scalars(select(Claim)):
        steps = session.scalars(
            select(ClaimEvent)
            .where(ClaimEvent.claim_id == claim.id)
            .order_by(ClaimEvent.created_at, ClaimEvent.id)
        ).all()
        assert steps[0].status == ClaimStatus.reported
        assert steps[-1].status == claim.status
        assert all(s.created_at < as_of for s in steps)
        assert (claim.amount_paid_fen > 0) == (claim.status == ClaimStatus.paid)
    tickets = session.scalars(select(Ticket)).all()
    for t in tickets:
        assert t.ack_due_at == t.created_at + timedelta(days=1)
        assert t.resolve_due_at == t.created_at + timedelta(days=15)
        assert t.ack_breached == ((t.acknowledged_at or as_of) > t.ack_due_at)
        assert t.resolve_breached == ((t.resolved_at or as_of) > t.resolve_due_at)
        assert (t.closed_at is not None) == (t.status == TicketStatus.closed)
    assert any(t.ack_breached or t.resolve_breached for t in tickets)
    for e in session.scalars(select(Escalation)):
        conversation = session.get(Conversation, e.conversation_id)
        assert conversation is not None
        if e.status == EscalationStatus.active:
            assert conversation.status == ConversationStatus.agent
            assert conversation.assigned_agent_id == e.assigned_agent_id
        if e.status == EscalationStatus.queued:
            assert conversation.status == ConversationStatus.queued
        assert (e.closed_at is not None) == (e.status == EscalationStatus.closed)
    assert session.scalar(select(func.count()).where(Escalation.csat.is_not(None)))


def test_nothing_happens_before_the_customer_joined(
    session: Session, book: Summary
) -> None:
    since = dict(session.execute(select(Customer.id, Customer.created_at)).all())
    for customer_id, started in session.execute(
        select(Conversation.customer_id, Conversation.started_at)
    ):
        assert customer_id is not None and started >= since[customer_id]
    for customer_id, created in session.execute(
        select(Ticket.customer_id, Ticket.created_at)
    ):
        assert created >= since[customer_id]
    for reported, start in session.execute(
        select(Claim.reported_at, Policy.start_date).join(
            Policy, Policy.id == Claim.policy_id
        )
    ):
        assert reported.date() > start


def test_same_seed_gives_the_same_book(session: Session, book: Summary) -> None:
    stored = session.execute(
        select(Customer.name, Customer.phone).order_by(Customer.id)
    ).all()
    stored_policies = session.scalars(
        select(Policy.policy_no).order_by(Policy.id)
    ).all()
    # a second, pure run (no database) with the same seed and ids after the stored ones
    base = max_ids(session)
    staff, _ = build_staff(TODAY, base, "x")
    rows = list(
        iter_book(
            Context(seed=SEED, today=TODAY, staff=staff, id_base=base),
            CUSTOMERS,
            chunk_size=70,
        )
    )
    again = [(r["name"], r["phone"]) for chunk in rows for r in chunk["customers"]]
    again_policies = [r["policy_no"] for chunk in rows for r in chunk["policies"]]
    assert again == [tuple(r) for r in stored]
    assert again_policies == list(stored_policies)
    other = next(
        iter_book(
            Context(seed=SEED + 1, today=TODAY, staff=staff, id_base=base), CUSTOMERS
        )
    )
    names = [r["name"] for r in other["customers"]]
    assert names[:6] == [n for n, _ in again[:6]]  # the demo customers are fixed
    assert names[6:] != [n for n, _ in again[6:]]


def test_refuses_a_database_that_has_customers(session: Session, book: Summary) -> None:
    with pytest.raises(NotEmpty):
        generate(session, customers=5, seed=SEED, today=TODAY)


def test_ids_continue_after_the_generated_ones(session: Session, book: Summary) -> None:
    before = session.scalar(select(func.max(Team.id)))
    team = Team(code="extra", name="新团队", topics=["general"])
    session.add(team)
    session.flush()
    assert before is not None and team.id > before


def test_cli_prints_demo_customers(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--print-demo-customers"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| # | customer | phone |")
    assert all(c.phone in out and c.policy_no in out for c in DEMO_CUSTOMERS)


def test_cli_loads_once(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    args = ["--customers", "12", "--database-url", url, "--as-of", "2026-11-25"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "Loaded 12 demo customers" in out and "13800138006" in out
    assert cli.main([*args, "--if-empty"]) == 0
    # a book loaded before canned replies existed gets them on the next run
    assert "not loaded" in capsys.readouterr().out
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(delete(CannedReply))
        assert cli.main([*args, "--if-empty"]) == 0
        assert "canned replies added" in capsys.readouterr().out
        with engine.connect() as conn:
            added = conn.scalar(select(func.count()).select_from(CannedReply))
        assert added is not None and added >= 15
    finally:
        engine.dispose()
    assert cli.main(args) == 1
    assert "already has 12 customers" in capsys.readouterr().err
