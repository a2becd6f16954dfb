"""Rasa's REST channel shape, ``POST /webhooks/rest/webhook``, through the relay.

For clients written against Rasa's REST channel: ``{sender, message}`` in, the
list of ``{recipient_id, text, buttons?}`` out. The client's ``metadata`` is not
passed on: identity comes from the CRM, never from the caller.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.messages import ERRORS, Outgoing, to_rest
from bot.relay import Relay

CHANNEL = "rest"
router = APIRouter()


class RestMessage(BaseModel):
    """Rasa's REST channel request."""

    sender: str = Field(min_length=1, max_length=128)
    message: Any = None
    metadata: dict[str, Any] | None = None


class CollectingSink:
    """Keeps one turn's messages for the HTTP answer."""

    def __init__(self) -> None:
        """An empty answer."""
        self.messages: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        """Keep it."""
        self.messages.append(message)

    async def typing(self, on: bool) -> None:
        """Nothing to show over plain HTTP."""


@router.post("/webhooks/rest/webhook", response_model=None)
async def webhook(request: Request, message_in: RestMessage) -> Any:
    """One turn; the replies in Rasa's REST shape (errors as JSON with a code)."""
    relay: Relay = request.app.state.relay
    sink = CollectingSink()
    outcome = await relay.customer_message(
        channel=CHANNEL,
        external_id=message_in.sender,
        text=message_in.message,
        sink=sink,
    )
    if not outcome.ok and outcome.error in ("text_empty", "text_too_long"):
        code = outcome.error
        return JSONResponse(
            {"error": {"code": code, "message": ERRORS[code]}}, status_code=422
        )
    return [to_rest(message, message_in.sender) for message in sink.messages]
