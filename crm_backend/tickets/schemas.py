"""Complaint ticket schemas: the bot's create/follow-up views and the agent views."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_backend.core.masking import mask_phone
from crm_backend.models import Agent, Ticket
from crm_backend.models.enums import (
    Channel,
    Severity,
    TicketCategory,
    TicketRemedy,
    TicketStatus,
    ValueTier,
)

if TYPE_CHECKING:
    from crm_backend.tickets.queue import EventRow, QueueRow

STATUS_LABELS = {
    TicketStatus.received: "已受理",
    TicketStatus.acknowledged: "已确认",
    TicketStatus.investigating: "处理中",
    TicketStatus.resolved: "已解决",
    TicketStatus.closed: "已关闭",
}
CATEGORY_LABELS = {
    TicketCategory.service_attitude: "服务态度",
    TicketCategory.claim_dispute: "理赔争议",
    TicketCategory.sales_misconduct: "销售误导",
    TicketCategory.billing: "扣费缴费",
    TicketCategory.policy_service: "保全服务",
    TicketCategory.product: "产品问题",
    TicketCategory.other: "其他",
}
SEVERITY_LABELS = {
    Severity.low: "低",
    Severity.medium: "中",
    Severity.high: "高",
    Severity.critical: "紧急",
}
# what the customer sees for each kind of event in the follow-up
EVENT_LABELS = {
    "received": "投诉已受理",
    "acknowledged": "投诉已确认，专人跟进",
    "investigating": "正在调查处理",
    "resolved": "处理完成",
    "closed": "投诉已关闭",
    "reopened": "重新处理",
    "note": "处理进展",
    "update": "处理进展",
    "info_requested": "需要您补充材料",
    "proposed": "处理方案待您确认",
}
# the bot may send the Chinese label (or a common variant) instead of the code
_CATEGORY_ALIASES = {label: cat for cat, label in CATEGORY_LABELS.items()} | {
    "扣费": TicketCategory.billing,
    "缴费": TicketCategory.billing,
    "扣费/缴费": TicketCategory.billing,
}


def parse_reasons(raw: str | None) -> list[str]:
    """The stored JSON list of priority reasons (empty when unset)."""
    if not raw:
        return []
    value = json.loads(raw)
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


class TicketCreate(BaseModel):
    """A complaint the bot collected with its form."""

    customer_id: int
    category: TicketCategory
    description: str = Field(min_length=1, max_length=4000)
    desired_outcome: str | None = Field(default=None, max_length=2000)
    policy_no: str | None = Field(default=None, max_length=20)
    severity: Severity | None = None
    conversation_id: int | None = None
    channel: Channel = Channel.web

    @field_validator("category", mode="before")
    @classmethod
    def _category_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _CATEGORY_ALIASES.get(value.strip(), value.strip())
        return value


def labels_of(ticket: Ticket) -> dict[str, str]:
    """The Chinese labels of a ticket's status, category and severity."""
    return {
        "status_label": STATUS_LABELS[ticket.status],
        "category_label": CATEGORY_LABELS[ticket.category],
        "severity_label": SEVERITY_LABELS[ticket.severity],
    }


class TicketSummary(BaseModel):
    """One of the customer's tickets, as the bot shows it."""

    ticket_no: str
    status: TicketStatus
    status_label: str
    category: TicketCategory
    category_label: str
    severity: Severity
    severity_label: str
    ack_due_at: datetime
    resolve_due_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, ticket: Ticket) -> TicketSummary:
        """Build from an ORM ticket."""
        return cls.model_validate({**_columns(ticket, cls), **labels_of(ticket)})


class CustomerEventRead(BaseModel):
    """A customer-visible step of the ticket."""

    kind: str
    label: str
    at: datetime
    note: str | None


class TicketFollowUp(TicketSummary):
    """A ticket with its customer-visible history and outcome (service API)."""

    policy_no: str | None
    description: str
    desired_outcome: str | None
    outcome: str | None
    # the latest customer-visible step, for the bot's follow-up answer
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    remedy: TicketRemedy | None = None
    remedy_text: str | None = None  # e.g. "退款 ¥128.50"
    proposal: str | None = None
    proposed_at: datetime | None = None
    # what the agent last asked the customer for, while the ticket is open
    info_request: str | None = None
    info_requested_at: datetime | None = None
    events: list[CustomerEventRead]


class TicketCustomerList(BaseModel):
    """The customer's tickets, open first, newest first."""

    items: list[TicketSummary]
    open_count: int


class TicketRead(TicketSummary):
    """A ticket as the agent console lists it."""

    id: int
    customer_id: int
    customer_name: str
    conversation_id: int | None
    policy_no: str | None
    priority: int
    priority_reasons: list[str]
    description: str
    desired_outcome: str | None
    channel: str
    acknowledged_at: datetime | None
    investigating_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    ack_breached: bool
    resolve_breached: bool
    assignee_id: int | None
    team_id: int | None
    outcome: str | None
    escalated_to_id: int | None
    escalated_at: datetime | None
    customer_updated_at: datetime | None
    info_requested_at: datetime | None
    proposed_at: datetime | None
    proposal: str | None
    remedy: TicketRemedy | None
    refund_fen: int | None
    remedy_reason: str | None

    customer_phone_masked: str | None
    customer_tier: ValueTier | None
    assignee: TicketAgentRef | None
    team_name: str | None
    next_due_at: datetime | None
    next_due_kind: Literal["ack", "resolve"] | None

    @classmethod
    def of_row(cls, row: QueueRow) -> TicketRead:
        """Build from a queue row (the ticket plus the names it shows)."""
        ticket = row.ticket
        due_kind: Literal["ack", "resolve"] | None = None
        if ticket.status == TicketStatus.received:
            due_kind = "ack"
        elif ticket.status in (TicketStatus.acknowledged, TicketStatus.investigating):
            due_kind = "resolve"
        data = {
            **_columns(ticket, cls),
            **labels_of(ticket),
            "customer_name": row.customer_name,
            "customer_phone_masked": mask_phone(row.customer_phone),
            "customer_tier": row.customer_tier,
            "policy_no": row.policy_no,
            "priority_reasons": parse_reasons(ticket.priority_reasons),
            "assignee": TicketAgentRef.of(row.assignee),
            "team_name": row.team_name,
            "next_due_at": getattr(ticket, f"{due_kind}_due_at") if due_kind else None,
            "next_due_kind": due_kind,
        }
        return cls.model_validate(data)


class TicketAgentRef(BaseModel):
    """An agent named on a ticket: its assignee, or who did a step."""

    id: int
    name: str
    employee_no: str

    @classmethod
    def of(cls, agent: Agent | None) -> TicketAgentRef | None:
        """The reference, or None without an agent."""
        if agent is None:
            return None
        return cls(id=agent.id, name=agent.name, employee_no=agent.employee_no)


class TicketEventRead(BaseModel):
    """One entry of the ticket's log (agent view); an assignment names its agent
    and team, and ``assign_note`` is the note given with it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    actor_id: int | None
    actor: TicketAgentRef | None = None
    note: str | None
    customer_visible: bool
    created_at: datetime
    assigned_agent: TicketAgentRef | None = None
    assigned_team: str | None = None
    assign_note: str | None = None

    @classmethod
    def of(cls, row: EventRow) -> TicketEventRead:
        """Build from a log row with its names."""
        return cls.model_validate(row.event).model_copy(
            update={
                "actor": TicketAgentRef.of(row.actor),
                "assigned_agent": TicketAgentRef.of(row.assigned_agent),
                "assigned_team": row.assigned_team,
                "assign_note": row.assign_note,
            }
        )


class TicketDetail(TicketRead):
    """A ticket with its full event log (agent view)."""

    events: list[TicketEventRead]


class TicketList(BaseModel):
    """A page of tickets, with the server's time and the "breaching soon" windows
    (the console's countdowns turn amber within them)."""

    items: list[TicketRead]
    total: int
    as_of: datetime
    ack_soon_minutes: int
    resolve_soon_minutes: int


class VerbIn(BaseModel):
    """An optional note on a state change; it is shown to the customer."""

    note: str | None = Field(default=None, max_length=2000)


class AssignIn(BaseModel):
    """Hand the ticket to an agent and/or a team."""

    agent_id: int | None = None
    team_id: int | None = None
    note: str | None = Field(default=None, max_length=2000)


# the workbench selects at most a page of the list
BULK_MAX = 200


class BulkAssignIn(AssignIn):
    """Hand many tickets to one agent and/or team."""

    ticket_ids: list[int] = Field(min_length=1, max_length=BULK_MAX)


class BulkAcknowledgeIn(VerbIn):
    """Confirm receipt of many tickets; the note (if any) goes to every customer."""

    ticket_ids: list[int] = Field(min_length=1, max_length=BULK_MAX)


class BulkRefusal(BaseModel):
    """One ticket a bulk verb left alone, and why (the single verb's error)."""

    ticket_id: int
    code: str
    message: str


class BulkResult(BaseModel):
    """Which tickets a bulk verb changed and which it refused."""

    done: list[int]
    refused: list[BulkRefusal]


class ResolveIn(BaseModel):
    """The outcome the customer is told and the remedy: a refund (``refund_fen``),
    a correction, an apology, or rejected (``remedy_reason``)."""

    outcome: str = Field(min_length=1, max_length=4000)
    note: str | None = Field(default=None, max_length=2000)
    remedy: TicketRemedy | None = None
    refund_fen: int | None = Field(default=None, ge=1)
    remedy_reason: str | None = Field(default=None, max_length=2000)


class CustomerTextIn(BaseModel):
    """Text the customer will see (an update or a request for information)."""

    text: str = Field(min_length=1, max_length=4000)


class ProposeIn(BaseModel):
    """The resolution put to the customer."""

    proposal: str = Field(min_length=1, max_length=4000)


class NoticeRead(BaseModel):
    """A message owed to the customer about their ticket."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    customer_id: int
    kind: str
    text: str
    channel: str
    created_at: datetime
    delivered_at: datetime | None


class NoticeList(BaseModel):
    """The customer's notices, oldest first."""

    items: list[NoticeRead]


class DeliveredIn(BaseModel):
    """Where the notice went out (default: the ticket's channel)."""

    channel: str | None = Field(default=None, max_length=16)


class ReopenIn(BaseModel):
    """Why the ticket goes back to investigation."""

    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(BaseModel):
    """A note in the log; internal unless ``customer_visible``."""

    text: str = Field(min_length=1, max_length=4000)
    customer_visible: bool = False


class BreachCount(BaseModel):
    """Breached tickets of one team or category."""

    key: str | None
    label: str
    ack_breached: int
    resolve_breached: int
    tickets: int


class BreachSummary(BaseModel):
    """Current SLA breaches for supervisors, by team and by category."""

    as_of: datetime
    total: int
    ack_breached: int
    resolve_breached: int
    by_team: list[BreachCount]
    by_category: list[BreachCount]


class StatsBucket(BaseModel):
    """Statistics of one team, one category, or all tickets."""

    key: str | None
    label: str
    backlog: int
    opened: int
    breached: int
    breach_rate: float | None
    avg_ack_hours: float | None
    avg_resolve_hours: float | None


class TicketStats(BaseModel):
    """Supervisor statistics: rates and averages over tickets opened since ``since``;
    the backlog is every ticket open now."""

    as_of: datetime
    since: datetime
    overall: StatsBucket
    by_team: list[StatsBucket]
    by_category: list[StatsBucket]


def _columns(ticket: Ticket, schema: type[BaseModel]) -> dict[str, Any]:
    """The ticket's attributes that the schema declares."""
    return {
        name: getattr(ticket, name)
        for name in schema.model_fields
        if hasattr(Ticket, name) and name != "priority_reasons"
    }
