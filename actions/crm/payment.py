"""CRM calls for payments: debit setup, failed debits, difficulty and surrender facts.

``PaymentApi`` is a mixin of ``CrmClient``: its methods use the client's
``_request``. Each method is one use case of actions/payment.py and returns frozen
dataclasses with only the fields the bot phrases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from actions.crm.errors import CrmError
from actions.crm.models import _require

SERVICE = "/api/v1/service"
T = TypeVar("T")


def parsed(parse: Callable[[Mapping[str, Any]], T], body: Mapping[str, Any]) -> T:
    """Parse a body; a shape the bot does not know is a ``CrmError``."""
    try:
        return parse(body)
    except (TypeError, ValueError, KeyError) as exc:
        raise CrmError("CRM answered an unexpected shape", code="bad_response") from exc


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


@dataclass(frozen=True)
class PolicyFacts:
    """A policy with the service facts payments and complaints talk about."""

    policy_no: str
    product_name: str
    product_type: str
    product_type_label: str
    status: str
    # holder, insured or holder_insured: only a holder may change the debit card
    customer_role: str
    status_label: str
    premium_fen: int
    payment_frequency: str
    payment_frequency_label: str
    payment_years: int
    start_date: date
    paid_to_date: date | None
    cash_value_fen: int
    surrender_value_fen: int
    within_hesitation_period: bool
    hesitation_end_date: date | None
    within_grace_period: bool
    grace_end_date: date | None
    grace_days_left: int | None
    arrears_since: date | None
    policy_loan_allowed: bool
    loan_available_fen: int
    sum_assured_fen: int
    debit_bank: str | None
    debit_account_masked: str | None

    @property
    def live(self) -> bool:
        """In force or in its grace period (the policy still covers)."""
        return self.status in ("in_force", "grace")

    @property
    def held(self) -> bool:
        """True when the customer is the policyholder (who pays and may change)."""
        return self.customer_role in ("holder", "holder_insured")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyFacts:
        """Parse the CRM's PolicyRead."""
        return cls(
            policy_no=str(_require(data, "policy_no")),
            product_name=str(_require(data, "product_name")),
            product_type=str(_require(data, "product_type")),
            product_type_label=str(data.get("product_type_label") or ""),
            status=str(_require(data, "status")),
            customer_role=str(data.get("customer_role") or ""),
            status_label=str(data.get("status_label") or ""),
            premium_fen=int(_require(data, "premium_fen")),
            payment_frequency=str(_require(data, "payment_frequency")),
            payment_frequency_label=str(data.get("payment_frequency_label") or ""),
            payment_years=int(data.get("payment_years") or 0),
            start_date=date.fromisoformat(str(_require(data, "start_date"))),
            paid_to_date=_date(data.get("paid_to_date")),
            cash_value_fen=int(data.get("cash_value_fen") or 0),
            surrender_value_fen=int(data.get("surrender_value_fen") or 0),
            within_hesitation_period=bool(data.get("within_hesitation_period")),
            hesitation_end_date=_date(data.get("hesitation_end_date")),
            within_grace_period=bool(data.get("within_grace_period")),
            grace_end_date=_date(data.get("grace_end_date")),
            grace_days_left=data.get("grace_days_left"),
            arrears_since=_date(data.get("arrears_since")),
            policy_loan_allowed=bool(data.get("policy_loan_allowed")),
            loan_available_fen=int(data.get("loan_available_fen") or 0),
            sum_assured_fen=int(data.get("sum_assured_fen") or 0),
            debit_bank=data.get("debit_bank"),
            debit_account_masked=data.get("debit_account_masked"),
        )


@dataclass(frozen=True)
class PaymentAttempt:
    """One debit or payment attempt; a failed one carries the CRM's explanation."""

    attempted_at: str
    policy_no: str
    bill_due_date: date
    amount_fen: int
    method_label: str
    result: str
    account_tail: str | None
    failure_label: str | None
    failure_explanation: str | None
    failure_advice: str | None

    @property
    def failed(self) -> bool:
        """True for a debit that did not go through."""
        return self.result == "failed"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PaymentAttempt:
        """Parse the CRM's PaymentRead."""
        return cls(
            attempted_at=str(_require(data, "attempted_at")),
            policy_no=str(_require(data, "policy_no")),
            bill_due_date=date.fromisoformat(str(_require(data, "bill_due_date"))),
            amount_fen=int(_require(data, "amount_fen")),
            method_label=str(data.get("method_label") or ""),
            result=str(_require(data, "result")),
            account_tail=data.get("account_tail"),
            failure_label=data.get("failure_label"),
            failure_explanation=data.get("failure_explanation"),
            failure_advice=data.get("failure_advice"),
        )


@dataclass(frozen=True)
class DebitCard:
    """A policy's debit account after a change (masked)."""

    policy_no: str
    debit_bank: str
    debit_account_masked: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DebitCard:
        """Parse the CRM's DebitCardRead."""
        return cls(
            policy_no=str(_require(data, "policy_no")),
            debit_bank=str(_require(data, "debit_bank")),
            debit_account_masked=str(_require(data, "debit_account_masked")),
        )


@dataclass(frozen=True)
class SignalResult:
    """A recorded churn signal and the customer's churn risk afterwards."""

    signal_id: int
    kind: str
    churn_risk: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignalResult:
        """Parse the CRM's SignalRecorded."""
        signal = _require(data, "signal")
        return cls(
            signal_id=int(_require(signal, "id")),
            kind=str(_require(signal, "kind")),
            churn_risk=str(_require(data, "churn_risk")),
        )


def _policies(body: Mapping[str, Any]) -> list[PolicyFacts]:
    return [PolicyFacts.from_json(item) for item in _require(body, "items")]


def _attempts(body: Mapping[str, Any]) -> list[PaymentAttempt]:
    return [PaymentAttempt.from_json(item) for item in _require(body, "items")]


class PaymentApi:
    """Payment use cases of the CRM client (mixed into ``CrmClient``)."""

    _request: Callable[..., Any]

    async def get_policy_facts(self, customer_id: int) -> list[PolicyFacts]:
        """The customer's policies with debit account, grace, loan and surrender."""
        body = await self._request(
            "GET", f"{SERVICE}/customers/{int(customer_id)}/policies"
        )
        return parsed(_policies, body)

    async def get_recent_payments(
        self, customer_id: int, *, limit: int = 20
    ) -> list[PaymentAttempt]:
        """The latest payment attempts, newest first (failed ones explained)."""
        body = await self._request(
            "GET", f"{SERVICE}/customers/{int(customer_id)}/payments?limit={limit}"
        )
        return parsed(_attempts, body)

    async def change_debit_card(
        self,
        *,
        customer_id: int,
        policy_no: str,
        step_up_token: str,
        bank: str,
        account_no: str,
    ) -> DebitCard:
        """Change the policy's debit account (needs a ``change_bank`` step-up)."""
        body = await self._request(
            "POST",
            f"{SERVICE}/policies/{policy_no}/debit-card",
            json={
                "customer_id": int(customer_id),
                "step_up_token": step_up_token,
                "bank": bank,
                "account_no": account_no,
            },
        )
        return parsed(DebitCard.from_json, body)

    async def record_churn_signal(
        self,
        customer_id: int,
        *,
        kind: str,
        detail: str | None = None,
        conversation_id: int | None = None,
    ) -> SignalResult:
        """Record a churn signal (payment_difficulty, surrender_enquiry…)."""
        payload: dict[str, Any] = {"kind": kind, "detail": (detail or "")[:2000]}
        if conversation_id is not None:
            payload["conversation_id"] = int(conversation_id)
        body = await self._request(
            "POST",
            f"{SERVICE}/customers/{int(customer_id)}/signals",
            json=payload,
        )
        return parsed(SignalResult.from_json, body)
