"""CRM calls for complaints: open a ticket, follow one up, list the customer's,
and the notices owed to the customer about their tickets.

``ComplaintApi`` is a mixin of ``CrmClient``: its methods use the client's
``_request``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from actions.crm.models import _require
from actions.crm.payment import SERVICE, parsed

OPEN_STATUSES = ("received", "acknowledged", "investigating")


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _maybe_instant(value: Any) -> datetime | None:
    return _instant(value) if value else None


@dataclass(frozen=True)
class TicketEvent:
    """A customer-visible step of a ticket."""

    kind: str
    label: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class Ticket:
    """A complaint ticket as the customer may see it."""

    ticket_no: str
    status: str
    status_label: str
    category: str
    category_label: str
    severity: str
    ack_due_at: datetime
    resolve_due_at: datetime
    created_at: datetime
    policy_no: str | None = None
    description: str | None = None
    desired_outcome: str | None = None
    outcome: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    remedy_text: str | None = None
    proposal: str | None = None
    info_request: str | None = None
    events: tuple[TicketEvent, ...] = ()

    @property
    def open(self) -> bool:
        """Still being handled (not resolved or closed)."""
        return self.status in OPEN_STATUSES

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ticket:
        """Parse the CRM's TicketSummary or TicketFollowUp."""
        events = tuple(
            TicketEvent(
                kind=str(_require(e, "kind")),
                label=str(_require(e, "label")),
                at=_instant(_require(e, "at")),
                note=e.get("note"),
            )
            for e in data.get("events") or ()
        )
        return cls(
            ticket_no=str(_require(data, "ticket_no")),
            status=str(_require(data, "status")),
            status_label=str(_require(data, "status_label")),
            category=str(_require(data, "category")),
            category_label=str(_require(data, "category_label")),
            severity=str(data.get("severity") or "medium"),
            ack_due_at=_instant(_require(data, "ack_due_at")),
            resolve_due_at=_instant(_require(data, "resolve_due_at")),
            created_at=_instant(_require(data, "created_at")),
            policy_no=data.get("policy_no"),
            description=data.get("description"),
            desired_outcome=data.get("desired_outcome"),
            outcome=data.get("outcome"),
            acknowledged_at=_maybe_instant(data.get("acknowledged_at")),
            resolved_at=_maybe_instant(data.get("resolved_at")),
            remedy_text=data.get("remedy_text"),
            proposal=data.get("proposal"),
            info_request=data.get("info_request"),
            events=events,
        )


@dataclass(frozen=True)
class Notice:
    """A message owed to the customer about a step of their ticket."""

    id: int
    kind: str
    text: str
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notice:
        """Parse the CRM's NoticeRead."""
        return cls(
            id=int(_require(data, "id")),
            kind=str(_require(data, "kind")),
            text=str(_require(data, "text")),
            created_at=_instant(_require(data, "created_at")),
        )


def _notices(body: Mapping[str, Any]) -> list[Notice]:
    return [Notice.from_json(item) for item in _require(body, "items")]


def _tickets(body: Mapping[str, Any]) -> list[Ticket]:
    return [Ticket.from_json(item) for item in _require(body, "items")]


class ComplaintApi:
    """Complaint use cases of the CRM client (mixed into ``CrmClient``)."""

    _request: Callable[..., Any]

    async def open_ticket(
        self,
        *,
        customer_id: int,
        category: str,
        description: str,
        desired_outcome: str | None = None,
        policy_no: str | None = None,
        conversation_id: int | None = None,
        channel: str | None = None,
    ) -> Ticket:
        """Open a complaint ticket; the answer has its number and both deadlines."""
        payload: dict[str, Any] = {
            "customer_id": int(customer_id),
            "category": category,
            "description": description[:4000],
            "desired_outcome": (desired_outcome or None) and desired_outcome[:2000],
            "policy_no": policy_no or None,
        }
        if conversation_id is not None:
            payload["conversation_id"] = int(conversation_id)
        if channel in ("web", "wechat"):
            payload["channel"] = channel
        body = await self._request("POST", f"{SERVICE}/tickets", json=payload)
        return parsed(Ticket.from_json, body)

    async def get_ticket(self, ticket_no: str, *, customer_id: int) -> Ticket:
        """The customer's ticket with its visible history; CrmNotFound otherwise."""
        body = await self._request(
            "GET",
            f"{SERVICE}/tickets/{quote(ticket_no.strip().upper(), safe='')}"
            f"?customer_id={int(customer_id)}",
        )
        return parsed(Ticket.from_json, body)

    async def list_tickets(self, customer_id: int) -> list[Ticket]:
        """The customer's tickets, open first, newest first (no history)."""
        body = await self._request(
            "GET", f"{SERVICE}/customers/{int(customer_id)}/tickets"
        )
        return parsed(_tickets, body)

    async def pending_notices(self, customer_id: int) -> list[Notice]:
        """The ticket notices not yet delivered to the customer, oldest first."""
        body = await self._request(
            "GET", f"{SERVICE}/customers/{int(customer_id)}/notices?undelivered=1"
        )
        return parsed(_notices, body)

    async def mark_notice_delivered(
        self, *, customer_id: int, notice_id: int, channel: str | None
    ) -> None:
        """The bot told the customer: the notice is delivered on ``channel``."""
        await self._request(
            "POST",
            f"{SERVICE}/customers/{int(customer_id)}/notices/{int(notice_id)}"
            "/delivered",
            json={"channel": channel} if channel else {},
        )
