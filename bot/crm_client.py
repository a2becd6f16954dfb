"""The gateway's thin typed client of the CRM service API (service token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PREFIX = "/api/v1/service"
PAGE = 200


class CrmUnavailable(Exception):
    """The CRM did not answer (down, timeout, 5xx)."""


class CrmRefused(Exception):
    """The CRM answered with a 4xx; ``code`` is its error code."""

    def __init__(self, status_code: int, code: str, message: str):
        """Keep the status and the CRM's error code (never shown to customers)."""
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code


@dataclass(frozen=True)
class AgentRef:
    """A named person of the CRM."""

    id: int
    name: str
    employee_no: str


@dataclass(frozen=True)
class RecordedCustomerMessage:
    """The CRM's answer to a customer message: who owns the conversation now."""

    conversation_id: int
    status: str
    verified: bool
    customer_id: int | None
    message_id: int
    duplicate: bool


@dataclass(frozen=True)
class ConversationState:
    """Status and the open escalation of a conversation."""

    id: int
    status: str
    open_escalation_id: int | None
    assigned_agent: AgentRef | None


@dataclass(frozen=True)
class EscalationState:
    """An escalation's status and what the customer should be told now."""

    id: int
    status: str
    notice: str
    queue_position: int | None = None
    estimated_wait_minutes: int | None = None
    # who will serve (agent id, team id) and whether it became a call-back
    serving: tuple[int | None, int | None, bool] = (None, None, False)


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _id_of(ref: Any) -> int | None:
    return _int_or_none(ref.get("id")) if isinstance(ref, dict) else None


def agent_ref(data: Any) -> AgentRef | None:
    """An ``AgentRef`` from the CRM's JSON, or None."""
    if not isinstance(data, dict) or "id" not in data:
        return None
    return AgentRef(
        id=int(data["id"]),
        name=str(data.get("name") or ""),
        employee_no=str(data.get("employee_no") or ""),
    )


def conversation_state(data: dict[str, Any]) -> ConversationState:
    """A ``ConversationState`` from the CRM's ``ConversationRead`` JSON."""
    return ConversationState(
        id=int(data["id"]),
        status=str(data["status"]),
        open_escalation_id=data.get("open_escalation_id"),
        assigned_agent=agent_ref(data.get("assigned_agent")),
    )


class CrmClient:
    """One method per use case; explicit timeouts; typed results and errors."""

    def __init__(self, http: httpx.AsyncClient, *, token: str, timeout: float):
        """``http`` carries the CRM's base URL."""
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = timeout

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(
                method,
                PREFIX + path,
                headers=self._headers,
                timeout=self._timeout,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise CrmUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise CrmUnavailable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            try:
                error = response.json().get("error") or {}
            except (ValueError, AttributeError):
                error = {}
            raise CrmRefused(
                response.status_code,
                str(error.get("code") or "error"),
                str(error.get("message") or ""),
            )
        return response.json()

    async def record_customer_message(
        self,
        *,
        channel: str,
        external_id: str,
        text: str,
        external_msg_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> RecordedCustomerMessage:
        """Record a customer's message; the answer routes it (bot, queued, agent)."""
        body: dict[str, Any] = {
            "channel": channel,
            "external_id": external_id,
            "text": text,
        }
        if external_msg_id:
            body["external_msg_id"] = external_msg_id
        if metadata:
            body["metadata"] = metadata
        data = await self._call("POST", "/conversations/messages", json=body)
        return RecordedCustomerMessage(
            conversation_id=int(data["conversation_id"]),
            status=str(data["status"]),
            verified=data.get("verification_level") not in (None, "none"),
            customer_id=data.get("customer_id"),
            message_id=int(data["message_id"]),
            duplicate=bool(data.get("duplicate")),
        )

    async def record_message(
        self,
        *,
        conversation_id: int,
        sender: str,
        text: str,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """Record a bot reply or a system notice; its message id."""
        body = {"sender": sender, "text": text, "payload": payload}
        data = await self._call(
            "POST", f"/conversations/{conversation_id}/messages", json=body
        )
        return int(data["id"])

    async def record_understanding(
        self,
        *,
        conversation_id: int,
        message_id: int,
        intent: str | None,
        intent_confidence: float | None,
        sentiment: float | None,
    ) -> bool:
        """Store the turn's intent and sentiment; False while the CRM lacks it (404)."""
        body = {
            "intent": intent,
            "intent_confidence": intent_confidence,
            "sentiment": sentiment,
        }
        path = f"/conversations/{conversation_id}/messages/{message_id}/understanding"
        try:
            await self._call("POST", path, json=body)
        except CrmRefused as exc:
            if exc.status_code in (404, 405):
                return False
            raise
        return True

    async def conversation(self, *, conversation_id: int) -> ConversationState:
        """A conversation's status and its open escalation."""
        data = await self._call("GET", f"/conversations/{conversation_id}")
        return conversation_state(data)

    async def find_conversation(
        self, *, channel: str, external_id: str
    ) -> ConversationState | None:
        """The channel user's open conversation, or None (nothing is opened)."""
        params = {"channel": channel, "external_id": external_id}
        try:
            data = await self._call("GET", "/conversations", params=params)
        except CrmRefused as exc:
            if exc.status_code == 404:
                return None
            raise
        return conversation_state(data)

    async def escalation(self, *, escalation_id: int) -> EscalationState:
        """An escalation's status and its current notice for the customer."""
        data = await self._call("GET", f"/escalations/{escalation_id}")
        return EscalationState(
            id=int(data["id"]),
            status=str(data["status"]),
            notice=str(data.get("notice") or "").strip(),
            queue_position=_int_or_none(data.get("queue_position")),
            estimated_wait_minutes=_int_or_none(data.get("estimated_wait_minutes")),
            serving=(
                _id_of(data.get("target_agent")),
                _id_of(data.get("target_team")),
                bool(data.get("callback")),
            ),
        )

    async def transcript(self, *, conversation_id: int) -> list[dict[str, Any]]:
        """Every message the customer may see, oldest first (no private notes)."""
        messages: list[dict[str, Any]] = []
        after_id: int | None = None
        while True:
            params: dict[str, int] = {"limit": PAGE}
            if after_id is not None:
                params["after_id"] = after_id
            data = await self._call(
                "GET", f"/conversations/{conversation_id}/messages", params=params
            )
            items = [m for m in data.get("items", []) if not m.get("private")]
            messages.extend(items)
            after_id = data.get("next_after_id")
            if len(data.get("items", [])) < PAGE or after_id is None:
                return messages
