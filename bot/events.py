"""``POST /internal/events``: the CRM's events for customers (docs/takeover.md).

``message`` and ``handback`` are fire-and-forget; a ticket ``notice`` is answered
``{"delivered": true|false, "message_id", "reason"}`` (bot/notices.py).
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from bot.relay import Relay

logger = logging.getLogger(__name__)
router = APIRouter()
bearer = HTTPBearer(auto_error=False)


def require_service_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Only the CRM (holding the service token) may post events."""
    expected = request.app.state.settings.crm_service_token
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=401,
            detail="service token required",
            headers={"WWW-Authenticate": "Bearer"},
        )


class CrmEvent(BaseModel):
    """An event of the CRM about one conversation."""

    type: Literal["message", "handback", "notice"] | str
    conversation_id: int
    channel: str
    external_id: str
    message: dict[str, Any] | None = None
    notice: dict[str, Any] | None = None
    escalation_id: int | None = None
    agent: dict[str, Any] | None = None


@router.post(
    "/internal/events",
    status_code=202,
    dependencies=[Depends(require_service_token)],
)
async def receive_event(request: Request, event: CrmEvent) -> dict[str, Any]:
    """Deliver a message now; run a handback (a Rasa turn) after answering; deliver
    a ticket notice now and answer whether it reached the customer."""
    relay: Relay = request.app.state.relay
    if event.type == "message" and event.message is not None:
        await relay.agent_message(
            channel=event.channel,
            external_id=event.external_id,
            message=event.message,
        )
        return {"status": "delivered"}
    if event.type == "handback" and event.escalation_id is not None:
        relay.background(
            relay.handback(
                conversation_id=event.conversation_id,
                channel=event.channel,
                external_id=event.external_id,
                escalation_id=event.escalation_id,
            )
        )
        return {"status": "accepted"}
    if event.type == "notice" and event.notice is not None:
        outcome = await relay.notice(
            conversation_id=event.conversation_id,
            channel=event.channel,
            external_id=event.external_id,
            notice=event.notice,
        )
        return outcome.to_json()
    logger.info("ignored CRM event of type %s", event.type)
    return {"status": "ignored"}
