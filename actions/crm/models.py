"""Typed results of the CRM client: frozen dataclasses parsed from the JSON bodies.

Enum values (tier, risk, role…) stay strings: this env does not import the CRM's
code. Unknown keys are ignored so the CRM can add fields without breaking actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actions.crm.errors import CrmError


def _require(data: Mapping[str, Any], key: str) -> Any:
    try:
        return data[key]
    except KeyError:
        raise CrmError(f"CRM response lacks '{key}'", code="bad_response") from None


@dataclass(frozen=True)
class Health:
    """The CRM's liveness answer (GET /health)."""

    status: str

    @property
    def ok(self) -> bool:
        """True when the CRM says it is fine."""
        return self.status == "ok"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Health:
        """Parse the /health body."""
        return cls(status=str(_require(data, "status")))


@dataclass(frozen=True)
class AgentContact:
    """A servicing agent as the customer may see them."""

    id: int
    name: str
    employee_no: str
    role: str
    role_label: str
    work_phone: str | None
    departed: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentContact:
        """Parse the CRM's AgentContact."""
        return cls(
            id=int(_require(data, "id")),
            name=str(_require(data, "name")),
            employee_no=str(_require(data, "employee_no")),
            role=str(_require(data, "role")),
            role_label=str(_require(data, "role_label")),
            work_phone=data.get("work_phone"),
            departed=bool(_require(data, "departed")),
        )


@dataclass(frozen=True)
class CustomerSummary:
    """The masked customer summary the bot may show once the customer is verified."""

    id: int
    customer_no: str
    name: str
    salutation: str
    gender: str
    age: int
    region: str
    city: str | None
    phone_masked: str | None
    email_masked: str | None
    id_number_masked: str | None
    value_tier: str
    churn_risk: str
    wechat_bound: bool
    servicing_agent: AgentContact | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustomerSummary:
        """Parse GET /api/v1/service/customers/{id}."""
        agent = data.get("servicing_agent")
        return cls(
            id=int(_require(data, "id")),
            customer_no=str(_require(data, "customer_no")),
            name=str(_require(data, "name")),
            salutation=str(_require(data, "salutation")),
            gender=str(_require(data, "gender")),
            age=int(_require(data, "age")),
            region=str(_require(data, "region")),
            city=data.get("city"),
            phone_masked=data.get("phone_masked"),
            email_masked=data.get("email_masked"),
            id_number_masked=data.get("id_number_masked"),
            value_tier=str(_require(data, "value_tier")),
            churn_risk=str(_require(data, "churn_risk")),
            wechat_bound=bool(_require(data, "wechat_bound")),
            servicing_agent=AgentContact.from_json(agent) if agent else None,
        )
