"""One random customer with everything that hangs off them."""

from __future__ import annotations

from datetime import date, timedelta

from crm_backend.demo.book import Owner, PolicyInfo, add_policy
from crm_backend.demo.catalog import DEPARTED_AGENT
from crm_backend.demo.chats import Chatter, add_conversation, new_openid, pick_topic
from crm_backend.demo.claims import maybe_claim
from crm_backend.demo.context import Context
from crm_backend.demo.people import Person
from crm_backend.demo.places import ACQUISITION_CHANNELS, Province
from crm_backend.demo.pricing import choose_products, plan_policy, wealth
from crm_backend.demo.tickets import add_ticket, pick_ticket_status, ticket_times
from crm_backend.demo.transcripts import add_signal
from crm_backend.models import Customer, CustomerAssignment
from crm_backend.models.enums import (
    BillStatus,
    ClaimStatus,
    EscalationStatus,
    Gender,
    PolicyStatus,
    SalesChannel,
    SignalKind,
    TicketCategory,
    TicketStatus,
)

_AGES = (
    (18, 24, 6),
    (25, 34, 24),
    (35, 44, 28),
    (45, 54, 22),
    (55, 64, 13),
    (65, 75, 7),
)
VIP_DESK_WEALTH = 12.0  # the wealthiest ~6% are served by the VIP desk
ACCOUNT_MANAGER_WEALTH = 3.0


def customer_no(index: int) -> str:
    """The customer number of the ``index``-th generated customer (0-based)."""
    return f"C{index + 1:010d}"


def add_customer_row(
    ctx: Context,
    index: int,
    person: Person,
    *,
    channel: SalesChannel,
    openid: str | None,
    since: date,
) -> int:
    """Queue the ``customers`` row; returns its id."""
    created = ctx.at(since, 10)
    row = ctx.add(
        Customer,
        {
            "customer_no": customer_no(index),
            "name": person.name,
            "gender": person.gender,
            "birth_date": person.birth_date,
            "id_number": person.id_number,
            "phone": person.phone,
            "email": person.email,
            "address": person.address,
            "region": person.province.short,
            "city": person.city.name,
            "occupation": person.occupation,
            "education": person.education,
            "acquisition_channel": channel.value,
            "wechat_openid": openid,
            "wechat_bound_at": ctx.ago(days=ctx.rng.uniform(1, 500))
            if openid
            else None,
            "created_at": created,
            "updated_at": created,
        },
    )
    if openid and row["wechat_bound_at"] < created:
        row["wechat_bound_at"] = created
    return int(row["id"])


def assign(
    ctx: Context,
    customer_id: int,
    agent_no: str,
    since: date,
    *,
    history: bool = False,
    team: str | None = None,
) -> None:
    """Queue the open assignment (and sometimes an earlier, ended one)."""
    staff = ctx.staff
    start = ctx.at(since, 11)
    if history and team and (ctx.as_of - start).days > 400:
        previous = [
            a
            for a in staff.servicing[team]
            if a not in (agent_no, DEPARTED_AGENT.employee_no)
        ]
        if previous:
            switched = start + timedelta(
                days=ctx.rng.randint(180, (ctx.as_of - start).days - 30)
            )
            ctx.add(
                CustomerAssignment,
                {
                    "customer_id": customer_id,
                    "agent_id": staff.agent_ids[ctx.rng.choice(previous)],
                    "reason": "initial",
                    "assigned_at": start,
                    "ended_at": switched,
                    "assigned_by_id": None,
                },
            )
            ctx.add(
                CustomerAssignment,
                {
                    "customer_id": customer_id,
                    "agent_id": staff.agent_ids[agent_no],
                    "reason": "reassigned",
                    "assigned_at": switched,
                    "ended_at": None,
                    "assigned_by_id": staff.agent_ids[staff.members[team][0]],
                },
            )
            return
    ctx.add(
        CustomerAssignment,
        {
            "customer_id": customer_id,
            "agent_id": staff.agent_ids[agent_no],
            "reason": "initial",
            "assigned_at": start,
            "ended_at": None,
            "assigned_by_id": None,
        },
    )


def _servicing_agent(ctx: Context, province: Province, rich: float) -> tuple[str, str]:
    staff = ctx.staff
    rng = ctx.rng
    if rich >= VIP_DESK_WEALTH:
        return rng.choice(staff.servicing["vip"]), "vip"
    pool = staff.servicing[province.team]
    if rich >= ACCOUNT_MANAGER_WEALTH and rng.random() < 0.6:
        managers = [a for a in pool if a in staff.account_managers]
        pool = tuple(managers) or pool
    return rng.choice(pool), province.team


def add_random_customer(ctx: Context, index: int) -> None:
    """Queue one random customer, their policies, claims, tickets and chats."""
    rng = ctx.rng
    gender = Gender.female if rng.random() < 0.52 else Gender.male
    low, high, _ = rng.choices(_AGES, [w for _, _, w in _AGES])[0]
    age = rng.randint(low, high)
    person = ctx.people.person(index, age, gender)
    rich = wealth(ctx)
    agent_no, team = _servicing_agent(ctx, person.province, rich)
    bank, account = ctx.people.bank_account() if rng.random() < 0.95 else (None, None)
    openid = new_openid(ctx) if rng.random() < 0.25 else None
    channel = SalesChannel(rng.choices(*zip(*ACQUISITION_CHANNELS, strict=True))[0])
    owner = Owner(
        id=0,
        name=person.name,
        surname=person.name[:1],
        gender=gender,
        birth_date=person.birth_date,
        province_code=person.id_number[:2],
        agent_id=ctx.staff.agent_ids[agent_no],
        channel=channel,
        bank=bank,
        account_no=account,
        wealth=rich,
    )
    plans = [plan_policy(ctx, owner, spec) for spec in choose_products(ctx, owner)]
    since = min(p.start for p in plans)
    owner.id = add_customer_row(
        ctx, index, person, channel=channel, openid=openid, since=since
    )
    assign(ctx, owner.id, agent_no, since, history=rng.random() < 0.08, team=team)
    policies = [add_policy(ctx, owner, plan) for plan in plans]
    vip = rich >= VIP_DESK_WEALTH
    who = Chatter(
        owner.id, openid, agent_no, vip, policies[0].policy_no, ctx.at(since, 10)
    )
    add_activity(ctx, owner, policies, who)


def add_activity(
    ctx: Context, owner: Owner, policies: list[PolicyInfo], who: Chatter
) -> None:
    """Claims, complaints, conversations and churn signals of one customer."""
    rng = ctx.rng
    cov = ctx.coverage
    claims = [s for p in policies if (s := maybe_claim(ctx, p, owner.id)) is not None]
    grace = [p for p in policies if p.status == PolicyStatus.grace]
    failed = any(p.unpaid_bill_status == BillStatus.failed for p in policies)
    departed = who.agent_no == DEPARTED_AGENT.employee_no
    # complaints: more likely after a rejected claim or a failed debit
    chance = (
        0.03 + 0.3 * (ClaimStatus.rejected in claims) + 0.1 * failed + 0.04 * departed
    )
    if cov.ticket:
        chance = max(chance, 0.25)
    # closed complaints go back up to ~200 days: only for customers that long
    if rng.random() < chance and who.since < ctx.ago(days=200):
        category = (
            TicketCategory.claim_dispute
            if ClaimStatus.rejected in claims
            else TicketCategory.billing
            if failed
            else None
        )
        twice = rng.random() < 0.15
        for n in range(2 if twice else 1):
            repeat = n == 1  # the second complaint in a row
            policy = rng.choice(policies)
            status = (
                TicketStatus.closed if twice and n == 0 else pick_ticket_status(ctx)
            )
            times = ticket_times(ctx, status)
            created = times["created"]
            assert created is not None
            conversation = None
            if rng.random() < 0.4 and created < ctx.ago(hours=2):
                conversation = add_conversation(
                    ctx,
                    who,
                    "complaint",
                    started=created - timedelta(minutes=3),
                    escalation=EscalationStatus.closed,
                )
            add_ticket(
                ctx,
                owner.id,
                policy,
                status=status,
                category=category,
                repeat=repeat,
                conversation_id=conversation,
                times=times,
                channel="wechat" if who.openid and rng.random() < 0.5 else "web",
            )
    # conversations: more likely when in trouble
    open_claim = any(
        s in (ClaimStatus.documents_pending, ClaimStatus.under_review) for s in claims
    )
    chance = 0.08 + 0.3 * bool(grace) + 0.15 * open_claim
    if cov.escalation:
        chance = max(chance, 0.3)
    if rng.random() < chance:
        for _ in range(1 if rng.random() < 0.75 else 2):
            if grace and rng.random() < 0.6:
                topic = rng.choice(("payment_difficulty", "payment_failed"))
            elif open_claim and rng.random() < 0.5:
                topic = "claim"
            else:
                topic = pick_topic(ctx)
            add_conversation(
                ctx,
                who,
                topic,
                escalate=True
                if cov.escalation
                and (topic in ("complaint", "human", "surrender", "payment_difficulty"))
                else None,
            )
    for _ in grace:
        if rng.random() < 0.3:
            add_signal(
                ctx,
                owner.id,
                SignalKind.payment_difficulty,
                "客户致电表示资金周转困难，询问能否延期缴费",
                ctx.ago(days=rng.uniform(0.5, 20)),
            )
    for policy in policies:
        if (
            policy.status == PolicyStatus.surrendered
            and policy.status_date
            and (ctx.today - policy.status_date).days < 120
            and rng.random() < 0.5
        ):
            before = policy.status_date - timedelta(days=rng.randint(3, 20))
            add_signal(
                ctx,
                owner.id,
                SignalKind.surrender_enquiry,
                f"客户咨询保单{policy.policy_no}的退保金额",
                ctx.at(before, 15),
            )
    if departed:
        add_signal(
            ctx,
            owner.id,
            SignalKind.agent_departed,
            f"服务业务员{DEPARTED_AGENT.name}（{DEPARTED_AGENT.employee_no}）已离职，"
            "待主管重新分配",
            ctx.staff.departed_at,
        )
