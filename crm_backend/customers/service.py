"""Customer queries and rules: masked summaries, servicing agent, contact, signals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm_backend.agents.access import customer_access_clause, is_supervisor
from crm_backend.analytics import service as analytics
from crm_backend.core.config import Settings
from crm_backend.core.errors import NotFound
from crm_backend.core.masking import mask_email, mask_id_number, mask_phone
from crm_backend.customers.schemas import (
    ROLE_LABELS,
    AgentContact,
    AssignmentRead,
    ContactUpdate,
    CustomerAgentRead,
    CustomerBrief,
    CustomerList,
    CustomerListItem,
    CustomerProfile,
    CustomerSummary,
    ScoreRead,
    ServicingAgentRead,
    SignalCreate,
    SignalRead,
    SignalRecorded,
    normalize_phone,
)
from crm_backend.models import (
    Agent,
    Conversation,
    Customer,
    CustomerAssignment,
    CustomerScore,
    CustomerSignal,
    Team,
)
from crm_backend.models.enums import (
    AgentStatus,
    Gender,
    Presence,
    RiskLevel,
    SignalKind,
    ValueTier,
)

CHINA_TZ = timezone(timedelta(hours=8))  # no DST in China: a fixed offset is exact
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙"}
)


def today_in_china() -> date:
    """Today's date where the customers live (ages and due dates are local)."""
    return datetime.now(UTC).astimezone(CHINA_TZ).date()


def age_on(birth_date: date, today: date | None = None) -> int:
    """Whole years of age on ``today``."""
    today = today or today_in_china()
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def salutation(customer: Customer) -> str:
    """How the bot addresses the customer: ``王女士``, ``欧阳先生``."""
    name = customer.name
    surname = name[:2] if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else name[:1]
    return surname + ("先生" if customer.gender == Gender.male else "女士")


def get(session: Session, *, customer_id: int) -> Customer:
    """The customer, or ``NotFound``."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("Customer not found", code="customer_not_found")
    return customer


def tier_and_risk(session: Session, *, customer_id: int) -> tuple[ValueTier, RiskLevel]:
    """Value tier and churn risk; a customer never scored is standard / low."""
    score = session.get(CustomerScore, customer_id)
    if score is None:
        return ValueTier.standard, RiskLevel.low
    return score.value_tier, score.churn_risk


def current_assignment(
    session: Session, *, customer_id: int
) -> tuple[CustomerAssignment, Agent, Team | None] | None:
    """The open assignment with its agent and the agent's team, if any."""
    row = session.execute(
        select(CustomerAssignment, Agent, Team)
        .join(Agent, Agent.id == CustomerAssignment.agent_id)
        .outerjoin(Team, Team.id == Agent.team_id)
        .where(
            CustomerAssignment.customer_id == customer_id,
            CustomerAssignment.ended_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    assignment, agent, team = row
    return assignment, agent, team


def brief(session: Session, *, customer: Customer) -> CustomerBrief:
    """The masked identity summary returned after verification."""
    tier, _ = tier_and_risk(session, customer_id=customer.id)
    return CustomerBrief(
        id=customer.id,
        customer_no=customer.customer_no,
        name=customer.name,
        salutation=salutation(customer),
        gender=customer.gender,
        phone_masked=mask_phone(customer.phone),
        value_tier=tier,
    )


def _agent_contact(agent: Agent) -> AgentContact:
    return AgentContact(
        id=agent.id,
        name=agent.name,
        employee_no=agent.employee_no,
        role=agent.role,
        role_label=ROLE_LABELS[agent.role],
        work_phone=agent.work_phone,
        departed=agent.status == AgentStatus.departed,
    )


def _servicing(
    assignment: CustomerAssignment, agent: Agent, team: Team | None
) -> ServicingAgentRead:
    departed = agent.status == AgentStatus.departed
    return ServicingAgentRead(
        id=agent.id,
        name=agent.name,
        employee_no=agent.employee_no,
        role=agent.role,
        role_label=ROLE_LABELS[agent.role],
        team_name=team.name if team else None,
        presence=agent.presence,
        work_phone=agent.work_phone,
        departed=departed,
        departed_at=agent.departed_at,
        available=not departed and agent.presence == Presence.online,
        assigned_at=assignment.assigned_at,
    )


def summary(session: Session, *, customer_id: int) -> CustomerSummary:
    """The bot's masked summary of a customer (no verification state)."""
    customer = get(session, customer_id=customer_id)
    tier, risk = tier_and_risk(session, customer_id=customer_id)
    current = current_assignment(session, customer_id=customer_id)
    return CustomerSummary(
        id=customer.id,
        customer_no=customer.customer_no,
        name=customer.name,
        salutation=salutation(customer),
        gender=customer.gender,
        age=age_on(customer.birth_date),
        region=customer.region,
        city=customer.city,
        phone_masked=mask_phone(customer.phone),
        email_masked=mask_email(customer.email),
        id_number_masked=mask_id_number(customer.id_number),
        value_tier=tier,
        churn_risk=risk,
        wechat_bound=customer.wechat_openid is not None,
        servicing_agent=_agent_contact(current[1]) if current else None,
    )


def servicing_agent(session: Session, *, customer_id: int) -> CustomerAgentRead:
    """Who serves the customer now, including whether that person has left."""
    get(session, customer_id=customer_id)
    current = current_assignment(session, customer_id=customer_id)
    return CustomerAgentRead(
        customer_id=customer_id,
        assigned=current is not None,
        agent=_servicing(*current) if current else None,
    )


def update_contact(
    session: Session, *, customer_id: int, contact_in: ContactUpdate, secret_key: str
) -> CustomerSummary:
    """Change phone / email / address after a step-up for ``update_contact``."""
    # identity builds on this module, so its token check is imported here (no cycle)
    from crm_backend.identity.service import check_step_up_token

    customer = get(session, customer_id=customer_id)
    check_step_up_token(
        contact_in.step_up_token,
        customer_id=customer_id,
        purpose="update_contact",
        secret_key=secret_key,
    )
    if contact_in.phone is not None:
        customer.phone = contact_in.phone
    if contact_in.email is not None:
        customer.email = contact_in.email
    if contact_in.address is not None:
        customer.address = contact_in.address
    session.flush()
    return summary(session, customer_id=customer_id)


def record_signal(
    session: Session,
    *,
    customer_id: int,
    signal_in: SignalCreate,
    settings: Settings | None = None,
) -> SignalRecorded:
    """Record a churn signal and recompute the customer's scores."""
    get(session, customer_id=customer_id)
    if (
        signal_in.conversation_id is not None
        and session.get(Conversation, signal_in.conversation_id) is None
    ):
        raise NotFound("Conversation not found", code="conversation_not_found")
    signal = CustomerSignal(
        customer_id=customer_id,
        kind=SignalKind(signal_in.kind),
        detail=signal_in.detail,
        conversation_id=signal_in.conversation_id,
    )
    session.add(signal)
    session.flush()
    score = analytics.recompute(session, customer_id=customer_id, settings=settings)
    return SignalRecorded(
        signal=SignalRead.model_validate(signal), churn_risk=score.churn_risk
    )


def _query_clause(q: str) -> ColumnElement[bool]:
    text = q.strip()
    digits = normalize_phone(text)
    clauses: list[ColumnElement[bool]] = [
        Customer.customer_no == text.upper(),
        Customer.name.contains(text, autoescape=True),
    ]
    if digits.isdigit():
        clauses.append(Customer.phone.startswith(digits, autoescape=True))
    return or_(*clauses)


def search(
    session: Session, *, agent: Agent, q: str | None, limit: int, offset: int
) -> CustomerList:
    """Customers the agent may see, matching name / customer_no / phone prefix."""
    where: list[ColumnElement[bool]] = []
    if not is_supervisor(agent):
        where.append(customer_access_clause(agent, Customer.id))
    if q and q.strip():
        where.append(_query_clause(q))
    total = session.scalar(select(func.count()).select_from(Customer).where(*where))
    servicing = aliased(Agent)
    rows = session.execute(
        select(Customer, CustomerScore, servicing.name)
        .outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)
        .outerjoin(
            CustomerAssignment,
            (CustomerAssignment.customer_id == Customer.id)
            & CustomerAssignment.ended_at.is_(None),
        )
        .outerjoin(servicing, servicing.id == CustomerAssignment.agent_id)
        .where(*where)
        .order_by(Customer.id)
        .limit(limit)
        .offset(offset)
    ).all()
    today = today_in_china()
    items = [
        CustomerListItem(
            id=customer.id,
            customer_no=customer.customer_no,
            name=customer.name,
            gender=customer.gender,
            age=age_on(customer.birth_date, today),
            region=customer.region,
            phone_masked=mask_phone(customer.phone),
            value_tier=score.value_tier if score else ValueTier.standard,
            churn_risk=score.churn_risk if score else RiskLevel.low,
            servicing_agent_name=agent_name,
        )
        for customer, score, agent_name in rows
    ]
    return CustomerList(items=items, total=total or 0, limit=limit, offset=offset)


def _score_read(score: CustomerScore | None) -> ScoreRead:
    if score is None:
        return ScoreRead(
            value_tier=ValueTier.standard,
            value_score=0,
            annual_premium_fen=0,
            value_reasons=[],
            churn_risk=RiskLevel.low,
            churn_score=0,
            churn_reasons=[],
            computed_at=None,
        )
    return ScoreRead(
        value_tier=score.value_tier,
        value_score=score.value_score,
        annual_premium_fen=score.annual_premium_fen,
        value_reasons=score.value_reasons,
        churn_risk=score.churn_risk,
        churn_score=score.churn_score,
        churn_reasons=score.churn_reasons,
        computed_at=score.computed_at,
    )


def score_of(session: Session, *, customer_id: int) -> ScoreRead:
    """Value tier and churn risk with their reasons (defaults when never scored)."""
    return _score_read(session.get(CustomerScore, customer_id))


def assignment_history(session: Session, *, customer_id: int) -> list[AssignmentRead]:
    """Every servicing agent the customer had, newest first."""
    rows = session.execute(
        select(CustomerAssignment, Agent)
        .join(Agent, Agent.id == CustomerAssignment.agent_id)
        .where(CustomerAssignment.customer_id == customer_id)
        .order_by(CustomerAssignment.assigned_at.desc(), CustomerAssignment.id.desc())
    ).all()
    return [
        AssignmentRead(
            agent_id=agent.id,
            agent_name=agent.name,
            employee_no=agent.employee_no,
            departed=agent.status == AgentStatus.departed,
            reason=assignment.reason,
            assigned_at=assignment.assigned_at,
            ended_at=assignment.ended_at,
        )
        for assignment, agent in rows
    ]


def profile(session: Session, *, customer_id: int) -> CustomerProfile:
    """The console's profile (the caller checks ``ensure_can_access_customer``)."""
    customer = get(session, customer_id=customer_id)
    current = current_assignment(session, customer_id=customer_id)
    return CustomerProfile(
        id=customer.id,
        customer_no=customer.customer_no,
        name=customer.name,
        gender=customer.gender,
        age=age_on(customer.birth_date),
        birth_date=customer.birth_date,
        id_number_masked=mask_id_number(customer.id_number),
        phone=customer.phone,
        email=customer.email,
        address=customer.address,
        region=customer.region,
        city=customer.city,
        occupation=customer.occupation,
        education=customer.education,
        acquisition_channel=customer.acquisition_channel,
        wechat_bound=customer.wechat_openid is not None,
        wechat_bound_at=customer.wechat_bound_at,
        created_at=customer.created_at,
        score=_score_read(session.get(CustomerScore, customer_id)),
        servicing_agent=_servicing(*current) if current else None,
        assignments=assignment_history(session, customer_id=customer_id),
    )
