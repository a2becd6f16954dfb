"""CRM → gateway events: ``POST {CRM_GATEWAY_URL}/internal/events``, once, after commit.

A failed post is logged (without the text) and not retried: the message is in the
transcript and the customer's page loads the history when it reconnects. Every post
goes through the app's one :class:`GatewayClient` (keep-alive connections). A
ticket ``notice`` is the exception: its post waits for the gateway's verdict, and
the notice job (``tickets/delivery.py``) tries again later when it did not arrive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from crm_backend.core.config import Settings
from crm_backend.models import Agent, Conversation, Message

log = logging.getLogger(__name__)
EVENTS_PATH = "/internal/events"


def iso_z(moment: datetime) -> str:
    """``2026-03-03T04:05:06.789Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def agent_json(agent: Agent | None) -> dict[str, Any] | None:
    """The named person, as the customer's page shows them."""
    if agent is None:
        return None
    return {"id": agent.id, "name": agent.name, "employee_no": agent.employee_no}


def message_event(
    conversation: Conversation, message: Message, agent: Agent | None = None
) -> dict[str, Any]:
    """An agent reply or a system notice for the customer's channel."""
    return {
        "type": "message",
        "conversation_id": conversation.id,
        "channel": str(conversation.channel),
        "external_id": conversation.external_id,
        "message": {
            "id": message.id,
            "sender": str(message.sender),
            "text": message.text,
            "created_at": iso_z(message.created_at),
            "agent": agent_json(agent),
        },
    }


def handback_event(
    conversation: Conversation, *, escalation_id: int, agent: Agent | None
) -> dict[str, Any]:
    """The agent resolved: the bot takes the conversation back and asks for CSAT."""
    return {
        "type": "handback",
        "conversation_id": conversation.id,
        "channel": str(conversation.channel),
        "external_id": conversation.external_id,
        "escalation_id": escalation_id,
        "agent": agent_json(agent),
    }


def notice_event(
    *, conversation_id: int, channel: str, external_id: str, notice: dict[str, Any]
) -> dict[str, Any]:
    """A ticket notice for the customer's open chat; the answer says if it arrived."""
    return {
        "type": "notice",
        "conversation_id": conversation_id,
        "channel": channel,
        "external_id": external_id,
        "notice": notice,
    }


@dataclass(frozen=True)
class NoticeAnswer:
    """The gateway's answer to a notice: delivered (and the transcript message it
    recorded, if it could), or why not."""

    delivered: bool
    message_id: int | None = None
    reason: str | None = None


class GatewayClient:
    """The CRM's one keep-alive HTTP client to the gateway, shared by every request
    and the offer sweep (threads: httpx's pool is thread-safe). Created on first
    use, so a CRM without a gateway opens nothing; closed by the app's lifespan."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client()
            return self._http

    def post_events(self, events: Iterable[dict[str, Any]], settings: Settings) -> int:
        """Post each event in order; returns how many the gateway accepted (2xx)."""
        events = list(events)
        if not events or not settings.gateway_url:
            return 0
        # URL, token and timeout are read per batch: settings may differ per app.
        url = settings.gateway_url.rstrip("/") + EVENTS_PATH
        headers = {"Authorization": f"Bearer {settings.service_token}"}
        client = self._client()
        delivered = 0
        for event in events:
            try:
                response = client.post(
                    url,
                    json=event,
                    headers=headers,
                    timeout=settings.gateway_timeout_seconds,
                )
            except httpx.HTTPError as exc:
                log.warning(
                    "gateway event %s for conversation %s not delivered: %s",
                    event.get("type"),
                    event.get("conversation_id"),
                    type(exc).__name__,
                )
                continue
            if response.is_success:
                delivered += 1
            else:
                log.warning(
                    "gateway refused event %s for conversation %s: HTTP %s",
                    event.get("type"),
                    event.get("conversation_id"),
                    response.status_code,
                )
        return delivered

    def deliver_notice(self, event: dict[str, Any], settings: Settings) -> NoticeAnswer:
        """Post one notice and wait for the gateway's verdict (a WeChat API call may
        be in it: ``notice_timeout_seconds``); any failure is "not delivered"."""
        if not settings.gateway_url:
            return NoticeAnswer(delivered=False, reason="no_gateway")
        url = settings.gateway_url.rstrip("/") + EVENTS_PATH
        headers = {"Authorization": f"Bearer {settings.service_token}"}
        try:
            response = self._client().post(
                url,
                json=event,
                headers=headers,
                timeout=settings.notice_timeout_seconds,
            )
            body = response.json() if response.is_success else {}
        except (httpx.HTTPError, ValueError) as exc:
            log.warning(
                "notice %s for conversation %s not delivered: %s",
                event.get("notice", {}).get("id"),
                event.get("conversation_id"),
                type(exc).__name__,
            )
            return NoticeAnswer(delivered=False, reason="gateway_unreachable")
        if not response.is_success or not isinstance(body, dict):
            log.warning(
                "gateway refused notice for conversation %s: HTTP %s",
                event.get("conversation_id"),
                response.status_code,
            )
            return NoticeAnswer(delivered=False, reason="gateway_refused")
        message_id = body.get("message_id")
        return NoticeAnswer(
            delivered=body.get("delivered") is True,
            message_id=message_id if isinstance(message_id, int) else None,
            reason=body.get("reason") if isinstance(body.get("reason"), str) else None,
        )

    @property
    def is_open(self) -> bool:
        """True once the first event opened the client (and until :meth:`close`)."""
        return self._http is not None

    def close(self) -> None:
        """Close the connections; a later post opens a new client."""
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()
