"""The documented demo customers, built exactly (not at random) so the README holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from crm_backend.demo.book import Owner, Plan, PolicyInfo, add_policy
from crm_backend.demo.catalog import DEMO_CUSTOMERS, DEPARTED_AGENT, DemoCustomer
from crm_backend.demo.chats import Chatter, add_conversation
from crm_backend.demo.claims import add_claim
from crm_backend.demo.context import Context, add_months, add_years
from crm_backend.demo.customers import add_customer_row, assign
from crm_backend.demo.people import Person
from crm_backend.demo.places import PROVINCES_BY_SHORT
from crm_backend.demo.products import PRODUCTS_BY_CODE
from crm_backend.demo.tickets import add_ticket
from crm_backend.demo.transcripts import add_signal
from crm_backend.models.enums import (
    BillStatus,
    ClaimStatus,
    ClaimType,
    PaymentFrequency,
    PolicyStatus,
    SalesChannel,
    Severity,
    SignalKind,
    TicketCategory,
    TicketStatus,
)

_A = PaymentFrequency.annual
_YUAN = 100


def _person(
    ctx: Context, demo: DemoCustomer, occupation: str, education: str
) -> Person:
    province = PROVINCES_BY_SHORT[demo.province]
    city = next(c for c in province.cities if c.name == demo.city)
    district = next(d for d in city.districts if d.code == demo.district_code)
    return Person(
        name=demo.name,
        gender=demo.gender,
        birth_date=demo.birth_date,
        id_number=demo.id_number,
        phone=demo.phone,
        email=None,
        address=ctx.people.address(province, city, district),
        province=province,
        city=city,
        occupation=occupation,
        education=education,
    )


def _plan(
    code: str,
    start_months_ago: int,
    extra_days: int,
    ctx: Context,
    annual_yuan: int,
    sa_yuan: int,
    years: int,
    frequency: PaymentFrequency = _A,
) -> Plan:
    start = add_months(ctx.today, -start_months_ago) + timedelta(days=extra_days)
    return Plan(
        PRODUCTS_BY_CODE[code],
        start,
        frequency,
        years,
        annual_yuan * _YUAN,
        sa_yuan * _YUAN,
    )


def _setup(
    ctx: Context,
    index: int,
    occupation: str,
    education: str,
    plans: list[Plan],
    channel: SalesChannel = SalesChannel.agent,
) -> tuple[Owner, Chatter]:
    demo = DEMO_CUSTOMERS[index]
    person = _person(ctx, demo, occupation, education)
    since = min(p.start for p in plans)
    agent_id = ctx.staff.agent_ids[demo.agent]
    owner = Owner(
        id=0,
        name=demo.name,
        surname=demo.name[:1],
        gender=demo.gender,
        birth_date=demo.birth_date,
        province_code=demo.district_code[:2],
        agent_id=agent_id,
        channel=channel,
        bank=None,
        account_no=None,
    )
    owner.bank, owner.account_no = ctx.people.bank_account()
    owner.id = add_customer_row(
        ctx, index, person, channel=channel, openid=None, since=since
    )
    assign(ctx, owner.id, demo.agent, since)
    vip = demo.key == "vip"
    chatter = Chatter(
        owner.id, None, demo.agent, vip, demo.policy_no, ctx.at(since, 10)
    )
    return owner, chatter


def _policies(
    ctx: Context,
    owner: Owner,
    plans: list[Plan],
    first_seq: int,
    *,
    unpaid_status: BillStatus | None = None,
    unpaid_failures: tuple[str, ...] | None = None,
) -> list[PolicyInfo]:
    # every demo policy pays by debit card, so the bot always has a card to talk about
    return [
        add_policy(
            ctx,
            owner,
            plan,
            seq=first_seq + n,
            debit=True,
            unpaid_status=unpaid_status,
            unpaid_failures=unpaid_failures,
        )
        for n, plan in enumerate(plans)
    ]


def ordinary(ctx: Context) -> None:
    """张伟: critical illness + medical in force, a paid medical claim."""
    plans = [
        _plan("CI001", 72, 40, ctx, 6_900, 300_000, 20),
        _plan("MD001", 0, -200, ctx, 368, 4_000_000, 1),
    ]
    owner, who = _setup(ctx, 0, "软件工程师", "本科", plans)
    ci, medical = _policies(ctx, owner, plans, 1)
    add_claim(
        ctx,
        medical,
        owner.id,
        claim_type=ClaimType.medical,
        status=ClaimStatus.paid,
        reported_at=ctx.ago(days=90, hours=5),
        amount_fen=1_560_000,
    )
    add_conversation(ctx, who, "faq", started=ctx.ago(days=30, hours=3), escalate=False)


def vip(ctx: Context) -> None:
    """林慧敏: annuity, universal life and critical illness; VIP, agent online."""
    plans = [
        _plan("AN001", 36, 60, ctx, 200_000, 250_000, 5),
        _plan(
            "UL001",
            52,
            -100,
            ctx,
            1_000_000,
            1_200_000,
            1,
            frequency=PaymentFrequency.single,
        ),
        _plan("CI001", 96, 20, ctx, 32_000, 1_000_000, 20),
    ]
    owner, who = _setup(ctx, 1, "私营企业主", "硕士", plans)
    owner.wealth = 60.0
    _policies(ctx, owner, plans, 3)
    add_conversation(
        ctx,
        who,
        "policy",
        started=ctx.ago(days=12, hours=2),
        escalation=None,
        escalate=False,
    )


def overdue(ctx: Context) -> None:
    """赵磊: a bill 20 days overdue after two failed debits; policy in grace."""
    due = ctx.today - timedelta(days=20)
    start = add_years(due, -3)
    plan = Plan(
        PRODUCTS_BY_CODE["CI002"],
        start,
        _A,
        20,
        8_600 * _YUAN,
        300_000 * _YUAN,
        PolicyStatus.grace,
        due,
    )
    owner, _ = _setup(ctx, 2, "销售人员", "大专", [plan])
    _policies(
        ctx,
        owner,
        [plan],
        6,
        unpaid_status=BillStatus.overdue,
        unpaid_failures=("insufficient_funds", "insufficient_funds"),
    )


def open_claim(ctx: Context) -> None:
    """孙丽: a hospital claim under review, one document still pending."""
    plans = [
        _plan("MD001", 0, -250, ctx, 720, 4_000_000, 1),
        _plan("CI001", 62, -70, ctx, 9_600, 300_000, 20),
    ]
    owner, who = _setup(ctx, 3, "教师", "本科", plans)
    medical, _ci = _policies(ctx, owner, plans, 7)
    missing = "住院费用明细清单（需加盖医院公章）"
    add_claim(
        ctx,
        medical,
        owner.id,
        claim_type=ClaimType.medical,
        status=ClaimStatus.under_review,
        reported_at=ctx.ago(days=15, hours=6),
        amount_fen=3_680_000,
        pending_documents=missing,
        steps=[
            (ClaimStatus.reported, 0),
            (ClaimStatus.documents_pending, 1),
            (ClaimStatus.under_review, 8),
        ],
        notes={
            ClaimStatus.documents_pending: (
                "请补充理赔材料：出院小结（加盖医院公章）、住院费用明细清单。"
            ),
            ClaimStatus.under_review: (
                f"已收到出院小结，案件先行审核；{missing}仍待补充，请尽快提交。"
            ),
        },
    )
    add_conversation(
        ctx, who, "claim", started=ctx.ago(days=5, hours=4), escalate=False
    )


def open_complaint(ctx: Context) -> None:
    """周强: a double-debit complaint under investigation."""
    plans = [_plan("AN002", 45, 33, ctx, 12_000, 9_600, 10)]
    owner, _ = _setup(ctx, 4, "企业管理人员", "本科", plans)
    (policy,) = _policies(ctx, owner, plans, 9)
    created = ctx.ago(days=4, hours=3).replace(microsecond=0)
    add_ticket(
        ctx,
        owner.id,
        policy,
        status=TicketStatus.investigating,
        category=TicketCategory.billing,
        severity=Severity.medium,
        text_index=0,
        times={
            "created": created,
            "acknowledged": created + timedelta(hours=3),
            "investigating": created + timedelta(days=1),
            "resolved": None,
            "closed": None,
        },
    )


def agent_left(ctx: Context) -> None:
    """吴秀英: her agent departed and she has not been reassigned yet."""
    plans = [
        _plan("LF001", 84, 50, ctx, 20_000, 110_000, 10),
        _plan("LF003", 36, -10, ctx, 10_000, 52_500, 5),
    ]
    owner, _ = _setup(ctx, 5, "退休人员", "高中", plans)
    _policies(ctx, owner, plans, 10)
    add_signal(
        ctx,
        owner.id,
        SignalKind.agent_departed,
        f"服务业务员{DEPARTED_AGENT.name}（{DEPARTED_AGENT.employee_no}）已离职，"
        "待主管重新分配",
        ctx.staff.departed_at,
    )


SCENARIOS: tuple[Callable[[Context], None], ...] = (
    ordinary,
    vip,
    overdue,
    open_claim,
    open_complaint,
    agent_left,
)
