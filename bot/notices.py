"""Ticket notices the CRM asks the gateway to deliver now (docs/takeover.md).

Unlike other CRM events, a ``notice`` is answered with whether it reached the
customer, so the CRM can keep it pending otherwise: each channel registers a
notifier with the relay. Web: delivered when a socket of the chat's room is
connected to this gateway process (recorded first, so the page gets the message
id it de-duplicates history with). WeChat: delivered when the customer-service
API accepted it (45015, the closed 48-hour window, is not delivered), then
recorded. The recorded message is a ``system`` message with the notice's id in
its payload.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.crm_client import CrmClient, CrmRefused, CrmUnavailable

logger = logging.getLogger(__name__)

Recorder = Callable[[], Awaitable[int | None]]


@dataclass(frozen=True)
class NoticeOutcome:
    """Whether the notice reached the customer, its transcript id, or why not."""

    delivered: bool
    message_id: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The answer to the CRM's post."""
        return {
            "status": "delivered" if self.delivered else "not_delivered",
            "delivered": self.delivered,
            "message_id": self.message_id,
            "reason": self.reason,
        }


# (external id, text, record) → outcome; ``record`` writes the transcript message
Notifier = Callable[[str, str, Recorder], Awaitable[NoticeOutcome]]


def recorder(
    crm: CrmClient, *, conversation_id: int, text: str, notice: dict[str, Any]
) -> Recorder:
    """Records the notice as a system message; None (logged) when the CRM missed
    it, and the CRM then records it itself when it marks the notice delivered."""

    async def record() -> int | None:
        try:
            return await crm.record_message(
                conversation_id=conversation_id,
                sender="system",
                text=text,
                payload={
                    "notice_id": notice.get("id"),
                    "ticket_no": notice.get("ticket_no"),
                },
            )
        except (CrmUnavailable, CrmRefused) as exc:
            logger.warning(
                "notice %s not recorded in conversation %s: %s",
                notice.get("id"),
                conversation_id,
                exc,
            )
            return None

    return record
