"""CRM calls for enquiries: policies, products, claims, bills and the servicing agent.

``EnquiryApi`` is a mixin of ``CrmClient``: its methods use the client's
``_request``. Results are frozen dataclasses; money stays in fen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from actions.crm.errors import CrmError
from actions.crm.models import _require

SERVICE = "/api/v1/service"
T = TypeVar("T")


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class Beneficiary:
    """A beneficiary, name masked by the CRM."""

    name_masked: str
    relationship: str
    share_pct: int
    order: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Beneficiary:
        """Parse the CRM's BeneficiaryRead."""
        return cls(
            name_masked=str(_require(data, "name_masked")),
            relationship=str(_require(data, "relationship")),
            share_pct=int(_require(data, "share_pct")),
            order=int(_require(data, "order")),
        )


@dataclass(frozen=True)
class Policy:
    """A policy of the customer with the service facts the CRM derives."""

    policy_no: str
    customer_role_label: str
    product_code: str
    product_name: str
    product_type: str
    product_type_label: str
    status: str
    status_label: str
    holder_name: str
    insured_name: str
    beneficiaries: tuple[Beneficiary, ...]
    sum_assured_fen: int
    premium_fen: int
    payment_frequency: str
    payment_frequency_label: str
    payment_years: int
    start_date: date
    end_date: date | None
    paid_to_date: date | None
    cash_value_fen: int
    servicing_agent_name: str | None
    within_hesitation_period: bool
    hesitation_end_date: date | None
    within_grace_period: bool
    grace_end_date: date | None
    grace_days_left: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Policy:
        """Parse the CRM's PolicyRead."""
        grace_days = data.get("grace_days_left")
        return cls(
            policy_no=str(_require(data, "policy_no")),
            customer_role_label=str(data.get("customer_role_label") or ""),
            product_code=str(_require(data, "product_code")),
            product_name=str(_require(data, "product_name")),
            product_type=str(_require(data, "product_type")),
            product_type_label=str(_require(data, "product_type_label")),
            status=str(_require(data, "status")),
            status_label=str(_require(data, "status_label")),
            holder_name=str(_require(data, "holder_name")),
            insured_name=str(_require(data, "insured_name")),
            beneficiaries=tuple(
                Beneficiary.from_json(b) for b in data.get("beneficiaries") or []
            ),
            sum_assured_fen=int(_require(data, "sum_assured_fen")),
            premium_fen=int(_require(data, "premium_fen")),
            payment_frequency=str(_require(data, "payment_frequency")),
            payment_frequency_label=str(_require(data, "payment_frequency_label")),
            payment_years=int(data.get("payment_years") or 0),
            start_date=date.fromisoformat(str(_require(data, "start_date"))),
            end_date=_date(data.get("end_date")),
            paid_to_date=_date(data.get("paid_to_date")),
            cash_value_fen=int(data.get("cash_value_fen") or 0),
            servicing_agent_name=data.get("servicing_agent_name"),
            within_hesitation_period=bool(data.get("within_hesitation_period")),
            hesitation_end_date=_date(data.get("hesitation_end_date")),
            within_grace_period=bool(data.get("within_grace_period")),
            grace_end_date=_date(data.get("grace_end_date")),
            grace_days_left=int(grace_days) if grace_days is not None else None,
        )


@dataclass(frozen=True)
class Product:
    """A product's coverage, exclusions and periods."""

    code: str
    name: str
    type: str
    type_label: str
    coverage: str
    exclusions: str | None
    waiting_period_days: int
    hesitation_period_days: int
    grace_period_days: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Product:
        """Parse the CRM's ProductRead."""
        return cls(
            code=str(_require(data, "code")),
            name=str(_require(data, "name")),
            type=str(_require(data, "type")),
            type_label=str(_require(data, "type_label")),
            coverage=str(_require(data, "coverage")),
            exclusions=data.get("exclusions"),
            waiting_period_days=int(_require(data, "waiting_period_days")),
            hesitation_period_days=int(data.get("hesitation_period_days") or 0),
            grace_period_days=int(data.get("grace_period_days") or 0),
        )


@dataclass(frozen=True)
class ClaimEvent:
    """One step of a claim's timeline."""

    status: str
    status_label: str
    note: str | None
    created_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimEvent:
        """Parse the CRM's ClaimEventRead."""
        created = _datetime(_require(data, "created_at"))
        assert created is not None
        return cls(
            status=str(_require(data, "status")),
            status_label=str(_require(data, "status_label")),
            note=data.get("note"),
            created_at=created,
        )


@dataclass(frozen=True)
class Claim:
    """A claim's status and amounts; ``events`` only when read one by one."""

    claim_no: str
    policy_no: str
    product_name: str
    type: str
    type_label: str
    incident_date: date
    reported_date: date
    amount_claimed_fen: int
    amount_paid_fen: int
    status: str
    status_label: str
    is_open: bool
    pending_documents: str | None
    decision_reason: str | None
    events: tuple[ClaimEvent, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Claim:
        """Parse the CRM's ClaimSummary or ClaimRead."""
        return cls(
            claim_no=str(_require(data, "claim_no")),
            policy_no=str(_require(data, "policy_no")),
            product_name=str(_require(data, "product_name")),
            type=str(_require(data, "type")),
            type_label=str(_require(data, "type_label")),
            incident_date=date.fromisoformat(str(_require(data, "incident_date"))),
            reported_date=date.fromisoformat(str(_require(data, "reported_date"))),
            amount_claimed_fen=int(_require(data, "amount_claimed_fen")),
            amount_paid_fen=int(data.get("amount_paid_fen") or 0),
            status=str(_require(data, "status")),
            status_label=str(_require(data, "status_label")),
            is_open=bool(_require(data, "is_open")),
            pending_documents=data.get("pending_documents"),
            decision_reason=data.get("decision_reason"),
            events=tuple(ClaimEvent.from_json(e) for e in data.get("events") or []),
        )


@dataclass(frozen=True)
class PolicyBills:
    """One policy's next instalment and arrears with the grace countdown."""

    policy_no: str
    product_name: str
    policy_status: str
    policy_status_label: str
    payment_frequency_label: str
    premium_fen: int
    paid_to_date: date | None
    next_due_date: date | None
    next_amount_fen: int | None
    next_status_label: str | None
    arrears_count: int
    arrears_fen: int
    arrears_since: date | None
    within_grace_period: bool
    grace_end_date: date | None
    grace_days_left: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyBills:
        """Parse the CRM's PolicyBills."""
        bill = data.get("next_bill") or {}
        grace_days = data.get("grace_days_left")
        return cls(
            policy_no=str(_require(data, "policy_no")),
            product_name=str(_require(data, "product_name")),
            policy_status=str(_require(data, "policy_status")),
            policy_status_label=str(_require(data, "policy_status_label")),
            payment_frequency_label=str(_require(data, "payment_frequency_label")),
            premium_fen=int(_require(data, "premium_fen")),
            paid_to_date=_date(data.get("paid_to_date")),
            next_due_date=_date(bill.get("due_date")),
            next_amount_fen=int(bill["amount_fen"]) if bill else None,
            next_status_label=bill.get("status_label") if bill else None,
            arrears_count=int(data.get("arrears_count") or 0),
            arrears_fen=int(data.get("arrears_fen") or 0),
            arrears_since=_date(data.get("arrears_since")),
            within_grace_period=bool(data.get("within_grace_period")),
            grace_end_date=_date(data.get("grace_end_date")),
            grace_days_left=int(grace_days) if grace_days is not None else None,
        )


@dataclass(frozen=True)
class ServicingAgent:
    """The customer's assigned agent, with presence and whether they have left."""

    name: str
    role_label: str
    team_name: str | None
    presence: str
    work_phone: str | None
    departed: bool
    available: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServicingAgent:
        """Parse the CRM's ServicingAgentRead."""
        return cls(
            name=str(_require(data, "name")),
            role_label=str(_require(data, "role_label")),
            team_name=data.get("team_name"),
            presence=str(_require(data, "presence")),
            work_phone=data.get("work_phone"),
            departed=bool(_require(data, "departed")),
            available=bool(data.get("available")),
        )


def _items(parse: Callable[[Mapping[str, Any]], T]) -> Callable[[Any], list[T]]:
    def parse_list(body: Mapping[str, Any]) -> list[T]:
        return [parse(item) for item in _require(body, "items")]

    return parse_list


def _agent(body: Mapping[str, Any]) -> ServicingAgent | None:
    agent = body.get("agent")
    return ServicingAgent.from_json(agent) if agent else None


class EnquiryApi:
    """Enquiry use cases; mixed into ``CrmClient``."""

    _request: Any  # provided by CrmClient

    async def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Mapping[str, Any]], T],
        *,
        json: Any = None,
    ) -> T:
        body = await self._request(method, path, json=json)
        try:
            return parse(body)
        except (TypeError, ValueError, KeyError, AssertionError) as exc:
            raise CrmError(
                "CRM answered an unexpected shape", code="bad_response"
            ) from exc

    async def list_policies(self, customer_id: int) -> list[Policy]:
        """The customer's policies (holder or insured), newest first."""
        path = f"{SERVICE}/customers/{int(customer_id)}/policies"
        return await self._call("GET", path, _items(Policy.from_json))

    async def get_policy(self, customer_id: int, policy_no: str) -> Policy:
        """One policy of the customer; CrmNotFound when it is not theirs."""
        query = urlencode({"customer_id": int(customer_id)})
        path = f"{SERVICE}/policies/{quote(policy_no, safe='')}?{query}"
        return await self._call("GET", path, Policy.from_json)

    async def list_products(self, product_type: str | None = None) -> list[Product]:
        """Products, optionally of one type (``medical`` or ``医疗险``)."""
        path = f"{SERVICE}/products"
        if product_type:
            path += "?" + urlencode({"type": product_type})
        return await self._call("GET", path, _items(Product.from_json))

    async def get_product(self, code: str) -> Product:
        """One product by its code."""
        path = f"{SERVICE}/products/{quote(code, safe='')}"
        return await self._call("GET", path, Product.from_json)

    async def list_claims(self, customer_id: int) -> list[Claim]:
        """The customer's claims, open ones first (no timelines)."""
        path = f"{SERVICE}/customers/{int(customer_id)}/claims"
        return await self._call("GET", path, _items(Claim.from_json))

    async def get_claim(self, customer_id: int, claim_no: str) -> Claim:
        """One claim with its timeline; CrmNotFound when it is not theirs."""
        query = urlencode({"customer_id": int(customer_id)})
        path = f"{SERVICE}/claims/{quote(claim_no, safe='')}?{query}"
        return await self._call("GET", path, Claim.from_json)

    async def report_claim(
        self,
        customer_id: int,
        *,
        policy_no: str,
        claim_type: str,
        incident_date: date,
        description: str,
        amount_claimed_fen: int = 0,
    ) -> Claim:
        """Report a claim (报案) on one of the customer's policies; its number."""
        payload = {
            "customer_id": int(customer_id),
            "policy_no": policy_no,
            "type": claim_type,
            "incident_date": incident_date.isoformat(),
            "amount_claimed_fen": int(amount_claimed_fen),
            "description": description,
        }
        return await self._call(
            "POST", f"{SERVICE}/claims", Claim.from_json, json=payload
        )

    async def get_bills(self, customer_id: int) -> list[PolicyBills]:
        """Per policy: the next instalment, arrears and the grace countdown."""
        path = f"{SERVICE}/customers/{int(customer_id)}/bills"
        return await self._call(
            "GET",
            path,
            lambda body: [PolicyBills.from_json(p) for p in _require(body, "policies")],
        )

    async def get_servicing_agent(self, customer_id: int) -> ServicingAgent | None:
        """Who serves the customer now; None when nobody is assigned."""
        path = f"{SERVICE}/customers/{int(customer_id)}/agent"
        return await self._call("GET", path, _agent)
