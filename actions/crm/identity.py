"""CRM calls for identity (verify, step-up, contact change), conversations and handoff.

``IdentityApi`` is a mixin of ``CrmClient``: its methods use the client's
``_request``. Expected refusals (a lock-out, an expired code) come back as typed
results, not errors, because the dialogue answers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from actions.crm.errors import CrmError
from actions.crm.models import CustomerSummary, _require

SERVICE = "/api/v1/service"
LOCKED = 423
CONFLICT = 409


def _parsed(parse: Any, body: Mapping[str, Any]) -> Any:
    try:
        return parse(body)
    except (TypeError, ValueError, KeyError) as exc:
        raise CrmError("CRM answered an unexpected shape", code="bad_response") from exc


@dataclass(frozen=True)
class ConversationInfo:
    """The CRM's view of a conversation: who owns it and how verified it is."""

    id: int
    status: str
    verification_level: str
    customer_id: int | None

    @property
    def verified(self) -> bool:
        """True when the CRM counts the conversation as verified (or stepped up)."""
        return self.verification_level in ("verified", "step_up")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConversationInfo:
        """Parse the CRM's ConversationRead."""
        customer_id = data.get("customer_id")
        return cls(
            id=int(_require(data, "id")),
            status=str(_require(data, "status")),
            verification_level=str(_require(data, "verification_level")),
            customer_id=int(customer_id) if customer_id is not None else None,
        )


@dataclass(frozen=True)
class VerifiedCustomer:
    """Who was verified (masked): enough to greet them."""

    id: int
    name: str
    salutation: str
    phone_masked: str | None
    value_tier: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifiedCustomer:
        """Parse the CRM's CustomerBrief."""
        return cls(
            id=int(_require(data, "id")),
            name=str(_require(data, "name")),
            salutation=str(_require(data, "salutation")),
            phone_masked=data.get("phone_masked"),
            value_tier=str(_require(data, "value_tier")),
        )


@dataclass(frozen=True)
class VerifyResult:
    """One verification answer: a customer, a failure with tries left, or a lock."""

    verified: bool
    attempts_left: int
    customer: VerifiedCustomer | None = None
    locked: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifyResult:
        """Parse the CRM's VerifyRead."""
        customer = data.get("customer")
        return cls(
            verified=bool(_require(data, "verified")),
            attempts_left=int(_require(data, "attempts_left")),
            customer=VerifiedCustomer.from_json(customer) if customer else None,
        )


@dataclass(frozen=True)
class StepUpSent:
    """A one-time code went out (the code itself is never returned)."""

    channel: str
    recipient_masked: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepUpSent:
        """Parse the CRM's StepUpSent."""
        return cls(
            channel=str(_require(data, "channel")),
            recipient_masked=data.get("recipient_masked"),
        )


@dataclass(frozen=True)
class StepUpResult:
    """A code check: a token, a wrong code, a dead code (locked) or none waiting."""

    verified: bool
    attempts_left: int
    token: str | None = None
    locked: bool = False
    expired: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepUpResult:
        """Parse the CRM's StepUpVerified."""
        return cls(
            verified=bool(_require(data, "verified")),
            attempts_left=int(_require(data, "attempts_left")),
            token=data.get("step_up_token"),
        )


@dataclass(frozen=True)
class Escalation:
    """An escalation as the CRM routed it, with what to tell the customer."""

    id: int
    conversation_id: int
    trigger: str
    status: str
    existing: bool
    notice: str
    queue_position: int | None
    estimated_wait_minutes: int | None
    callback: bool
    target_agent_name: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Escalation:
        """Parse the CRM's EscalationRead."""
        agent = data.get("target_agent") or {}
        return cls(
            id=int(_require(data, "id")),
            conversation_id=int(_require(data, "conversation_id")),
            trigger=str(_require(data, "trigger")),
            status=str(_require(data, "status")),
            existing=bool(data.get("existing", False)),
            notice=str(_require(data, "notice")),
            queue_position=data.get("queue_position"),
            estimated_wait_minutes=data.get("estimated_wait_minutes"),
            callback=bool(data.get("callback", False)),
            target_agent_name=agent.get("name"),
        )


@dataclass(frozen=True)
class CsatRecorded:
    """The satisfaction score the CRM stored for an escalation."""

    escalation_id: int
    score: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CsatRecorded:
        """Parse the CRM's EscalationRead (after the score was recorded)."""
        return cls(
            escalation_id=int(_require(data, "id")),
            score=int(_require(data, "csat")),
        )


class IdentityApi:
    """Identity, conversation and escalation use cases (mixed into CrmClient)."""

    _request: Any  # provided by CrmClient

    async def open_conversation(
        self, *, channel: str, external_id: str
    ) -> ConversationInfo:
        """The open CRM conversation of a channel user (opened if there is none)."""
        body = await self._request(
            "POST",
            f"{SERVICE}/conversations",
            json={"channel": channel, "external_id": external_id},
        )
        return _parsed(ConversationInfo.from_json, body)

    async def get_conversation(self, conversation_id: int) -> ConversationInfo:
        """One CRM conversation; CrmNotFound when there is none."""
        body = await self._request(
            "GET", f"{SERVICE}/conversations/{int(conversation_id)}"
        )
        return _parsed(ConversationInfo.from_json, body)

    async def _verify(self, payload: dict[str, Any]) -> VerifyResult:
        try:
            body = await self._request(
                "POST", f"{SERVICE}/identity/verify", json=payload
            )
        except CrmError as exc:
            if exc.status_code == LOCKED:
                return VerifyResult(verified=False, attempts_left=0, locked=True)
            raise
        return _parsed(VerifyResult.from_json, body)

    async def verify_phone_id(
        self, *, phone: str, id_last4: str, conversation_id: int | None
    ) -> VerifyResult:
        """Check phone + last 4 of the ID number (counted per conversation too)."""
        return await self._verify(
            {
                "method": "phone_id",
                "phone": phone,
                "id_last4": id_last4,
                "conversation_id": conversation_id,
            }
        )

    async def verify_policy_birth(
        self, *, policy_no: str, birth_date: date, conversation_id: int | None
    ) -> VerifyResult:
        """Check a policy number + the holder's birth date."""
        return await self._verify(
            {
                "method": "policy_birth",
                "policy_no": policy_no,
                "birth_date": birth_date.isoformat(),
                "conversation_id": conversation_id,
            }
        )

    async def request_step_up(
        self, *, customer_id: int, purpose: str, conversation_id: int | None
    ) -> StepUpSent:
        """Have the CRM send a one-time code to the phone on file."""
        body = await self._request(
            "POST",
            f"{SERVICE}/identity/step-up",
            json={
                "customer_id": customer_id,
                "purpose": purpose,
                "conversation_id": conversation_id,
            },
        )
        return _parsed(StepUpSent.from_json, body)

    async def verify_step_up(
        self, *, customer_id: int, code: str, conversation_id: int | None
    ) -> StepUpResult:
        """Check the code the customer typed; the right one yields a token."""
        try:
            body = await self._request(
                "POST",
                f"{SERVICE}/identity/step-up/verify",
                json={
                    "customer_id": customer_id,
                    "code": code,
                    "conversation_id": conversation_id,
                },
            )
        except CrmError as exc:
            if exc.status_code == LOCKED:
                return StepUpResult(verified=False, attempts_left=0, locked=True)
            if exc.status_code == CONFLICT:
                return StepUpResult(verified=False, attempts_left=0, expired=True)
            raise
        return _parsed(StepUpResult.from_json, body)

    async def update_contact(
        self,
        *,
        customer_id: int,
        step_up_token: str,
        phone: str | None = None,
        email: str | None = None,
        address: str | None = None,
    ) -> CustomerSummary:
        """Change phone / email / address with a step-up token; the masked summary."""
        payload: dict[str, Any] = {"step_up_token": step_up_token}
        for key, value in (("phone", phone), ("email", email), ("address", address)):
            if value is not None:
                payload[key] = value
        body = await self._request(
            "POST", f"{SERVICE}/customers/{int(customer_id)}/contact", json=payload
        )
        return _parsed(CustomerSummary.from_json, body)

    async def escalate(
        self,
        *,
        conversation_id: int,
        trigger: str,
        reason: str,
        slots: Mapping[str, Any] | None = None,
        sentiment: float | None = None,
        topic: str | None = None,
    ) -> Escalation:
        """Ask the CRM for a person: it records the trigger, routes and phrases it."""
        payload: dict[str, Any] = {
            "conversation_id": conversation_id,
            "trigger": trigger,
            "reason": reason[:500],
            "slots": dict(slots or {}),
        }
        if sentiment is not None:
            payload["sentiment"] = max(-1.0, min(1.0, float(sentiment)))
        if topic is not None:
            payload["topic"] = topic
        body = await self._request("POST", f"{SERVICE}/escalations", json=payload)
        return _parsed(Escalation.from_json, body)

    async def record_csat(self, *, escalation_id: int, score: int) -> CsatRecorded:
        """Store the customer's 1-5 score for a closed escalation (once; 409 after)."""
        body = await self._request(
            "POST",
            f"{SERVICE}/escalations/{int(escalation_id)}/csat",
            json={"score": int(score)},
        )
        return _parsed(CsatRecorded.from_json, body)
