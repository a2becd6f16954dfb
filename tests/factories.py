"""Typed factories with keyword defaults; each adds to the session and flushes."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.core.security import hash_password
from crm_backend.models import (
    Agent,
    Beneficiary,
    Claim,
    Conversation,
    Customer,
    CustomerAssignment,
    Escalation,
    Message,
    Payment,
    Policy,
    PremiumBill,
    Product,
    Team,
    Ticket,
)
from crm_backend.models.base import utcnow
from crm_backend.models.enums import (
    AgentRole,
    AgentStatus,
    BillStatus,
    Channel,
    ClaimStatus,
    ClaimType,
    ConversationStatus,
    EscalationStatus,
    EscalationTrigger,
    Gender,
    PaymentFrequency,
    PaymentMethod,
    PaymentResult,
    PolicyStatus,
    Presence,
    ProductType,
    SalesChannel,
    Sender,
    Severity,
    TicketCategory,
    TicketStatus,
)

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
# Cheap argon2 parameters for tests: verification reads them from the hash itself,
# so logging in stays the real code path without 0.5 s per login.
_password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(
    PASSWORD
)


def _n() -> int:
    return next(_seq)


def make_team(
    session: Session,
    *,
    code: str | None = None,
    name: str = "综合服务组",
    topics: list[str] | None = None,
) -> Team:
    """A team (desk)."""
    team = Team(code=code or f"team{_n()}", name=name, topics=topics or ["general"])
    session.add(team)
    session.flush()
    return team


def make_agent(
    session: Session,
    *,
    team: Team | None = None,
    name: str = "李敏",
    role: AgentRole = AgentRole.service_agent,
    presence: Presence = Presence.online,
    capacity: int = 3,
    status: AgentStatus = AgentStatus.active,
    skills: list[str] | None = None,
    password: str | None = PASSWORD,
) -> Agent:
    """A named agent with a known password."""
    agent = Agent(
        employee_no=f"E{_n():06d}",
        name=name,
        role=role,
        team_id=team.id if team else None,
        skills=skills or [],
        presence=presence,
        capacity=capacity,
        status=status,
        work_phone="02188886666",
        password_hash=_password_hash
        if password == PASSWORD
        else (hash_password(password) if password else None),
    )
    session.add(agent)
    session.flush()
    return agent


def make_customer(
    session: Session,
    *,
    name: str = "王芳",
    phone: str | None = None,
    id_number: str | None = None,
    birth_date: date = date(1985, 6, 15),
    gender: Gender = Gender.female,
    region: str = "上海",
    agent: Agent | None = None,
    wechat_openid: str | None = None,
) -> Customer:
    """A customer, optionally assigned to a servicing agent."""
    n = _n()
    customer = Customer(
        customer_no=f"C{n:09d}",
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number or f"310101{birth_date:%Y%m%d}{n % 1000:03d}{n % 10}",
        phone=phone or f"139{n:08d}",
        email=f"user{n}@example.com",
        address="上海市浦东新区世纪大道100号",
        region=region,
        city=region,
        occupation="教师",
        education="本科",
        acquisition_channel="agent",
        wechat_openid=wechat_openid,
    )
    session.add(customer)
    session.flush()
    if agent is not None:
        session.add(CustomerAssignment(customer_id=customer.id, agent_id=agent.id))
        session.flush()
    return customer


def make_product(
    session: Session,
    *,
    type: ProductType = ProductType.critical_illness,
    name: str = "安心重疾保",
    allows_policy_loan: bool = True,
) -> Product:
    """A product with coverage text."""
    product = Product(
        code=f"PR{_n():04d}",
        name=name,
        type=type,
        coverage="确诊合同约定的重大疾病，按基本保额给付重大疾病保险金。",
        exclusions="投保前已患疾病；故意犯罪。",
        waiting_period_days=90,
        hesitation_period_days=15,
        grace_period_days=60,
        term_years=None,
        allows_policy_loan=allows_policy_loan,
    )
    session.add(product)
    session.flush()
    return product


def make_policy(
    session: Session,
    *,
    holder: Customer,
    product: Product | None = None,
    insured: Customer | None = None,
    agent: Agent | None = None,
    status: PolicyStatus = PolicyStatus.in_force,
    premium_fen: int = 500_000,
    sum_assured_fen: int = 50_000_000,
    frequency: PaymentFrequency = PaymentFrequency.annual,
    start_date: date = date(2020, 3, 1),
    cash_value_fen: int = 1_200_000,
    beneficiaries: int = 1,
) -> Policy:
    """A policy of ``holder`` with beneficiaries."""
    product = product or make_product(session)
    policy = Policy(
        policy_no=f"P{_n():011d}",
        holder_id=holder.id,
        insured_id=(insured or holder).id,
        product_id=product.id,
        status=status,
        sum_assured_fen=sum_assured_fen,
        premium_fen=premium_fen,
        payment_frequency=frequency,
        payment_years=20,
        start_date=start_date,
        end_date=None,
        paid_to_date=start_date + timedelta(days=365),
        cash_value_fen=cash_value_fen,
        sales_channel=SalesChannel.agent,
        servicing_agent_id=agent.id if agent else None,
        debit_bank="招商银行",
        debit_account_no="6225880212345678",
    )
    session.add(policy)
    session.flush()
    for i in range(beneficiaries):
        session.add(
            Beneficiary(
                policy_id=policy.id,
                name="张小明",
                relationship_to_insured="子女",
                share_pct=100 // beneficiaries,
                order=i + 1,
            )
        )
    session.flush()
    return policy


def make_bill(
    session: Session,
    *,
    policy: Policy,
    due_date: date | None = None,
    amount_fen: int | None = None,
    status: BillStatus = BillStatus.due,
) -> PremiumBill:
    """A premium bill."""
    bill = PremiumBill(
        policy_id=policy.id,
        due_date=due_date or date.today() + timedelta(days=20),
        amount_fen=amount_fen if amount_fen is not None else policy.premium_fen,
        status=status,
        paid_at=utcnow() if status == BillStatus.paid else None,
    )
    session.add(bill)
    session.flush()
    return bill


def make_payment(
    session: Session,
    *,
    bill: PremiumBill,
    result: PaymentResult = PaymentResult.success,
    failure_reason: str | None = None,
    method: PaymentMethod = PaymentMethod.bank_debit,
) -> Payment:
    """A payment attempt against ``bill``."""
    payment = Payment(
        bill_id=bill.id,
        policy_id=bill.policy_id,
        amount_fen=bill.amount_fen,
        method=method,
        result=result,
        failure_reason=failure_reason,
        account_last4="5678",
    )
    session.add(payment)
    session.flush()
    return payment


def make_claim(
    session: Session,
    *,
    policy: Policy,
    status: ClaimStatus = ClaimStatus.under_review,
    type: ClaimType = ClaimType.medical,
    amount_claimed_fen: int = 1_250_000,
) -> Claim:
    """A claim on ``policy``."""
    claim = Claim(
        claim_no=f"CL{_n():010d}",
        policy_id=policy.id,
        claimant_id=policy.insured_id,
        type=type,
        incident_date=date.today() - timedelta(days=30),
        reported_at=utcnow() - timedelta(days=25),
        amount_claimed_fen=amount_claimed_fen,
        amount_paid_fen=amount_claimed_fen if status == ClaimStatus.paid else 0,
        status=status,
    )
    session.add(claim)
    session.flush()
    return claim


def make_ticket(
    session: Session,
    *,
    customer: Customer,
    category: TicketCategory = TicketCategory.service_attitude,
    severity: Severity = Severity.medium,
    status: TicketStatus = TicketStatus.received,
    created_at: datetime | None = None,
    team: Team | None = None,
    assignee: Agent | None = None,
) -> Ticket:
    """A complaint ticket with default deadlines (1 and 15 days)."""
    created = created_at or utcnow()
    ticket = Ticket(
        ticket_no=f"T{_n():011d}",
        customer_id=customer.id,
        category=category,
        severity=severity,
        description="理赔太慢了，一个月都没有结果",
        desired_outcome="尽快赔付",
        status=status,
        ack_due_at=created + timedelta(days=1),
        resolve_due_at=created + timedelta(days=15),
        team_id=team.id if team else None,
        assignee_id=assignee.id if assignee else None,
        created_at=created,
    )
    session.add(ticket)
    session.flush()
    return ticket


def make_conversation(
    session: Session,
    *,
    customer: Customer | None = None,
    channel: Channel = Channel.web,
    status: ConversationStatus = ConversationStatus.bot,
    agent: Agent | None = None,
) -> Conversation:
    """A conversation on ``channel``."""
    conversation = Conversation(
        channel=channel,
        external_id=f"ext-{_n()}",
        customer_id=customer.id if customer else None,
        status=status,
        assigned_agent_id=agent.id if agent else None,
    )
    session.add(conversation)
    session.flush()
    return conversation


def make_message(
    session: Session,
    *,
    conversation: Conversation,
    text: str = "你好",
    sender: Sender = Sender.customer,
    sentiment: float | None = None,
) -> Message:
    """A message in ``conversation``."""
    message = Message(
        conversation_id=conversation.id, sender=sender, text=text, sentiment=sentiment
    )
    session.add(message)
    session.flush()
    return message


def make_escalation(
    session: Session,
    *,
    conversation: Conversation,
    trigger: EscalationTrigger = EscalationTrigger.customer_request,
    status: EscalationStatus = EscalationStatus.queued,
    team: Team | None = None,
    agent: Agent | None = None,
) -> Escalation:
    """An escalation of ``conversation``."""
    escalation = Escalation(
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        trigger=trigger,
        reason="客户要求人工服务",
        status=status,
        target_team_id=team.id if team else None,
        target_agent_id=agent.id if agent else None,
        assigned_agent_id=agent.id
        if agent and status != EscalationStatus.queued
        else None,
    )
    session.add(escalation)
    session.flush()
    return escalation


def login(client: TestClient, agent: Agent) -> dict[str, str]:
    """Bearer headers of ``agent``, through the real login endpoint.

    The session cookie the login sets is dropped from the client, so that every
    request authenticates only by the headers it is given.
    """
    response = client.post(
        "/api/v1/agent/auth/login",
        json={"employee_no": agent.employee_no, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    client.cookies.delete("crm_session")
    return {"Authorization": f"Bearer {response.json()['token']}"}
