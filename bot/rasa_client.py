"""A tiny typed client for Rasa's REST channel and its tracker events API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time, refused the connection or failed the turn."""


@dataclass(frozen=True)
class Understanding:
    """What the NLU made of the latest customer message."""

    intent: str | None
    intent_confidence: float | None
    sentiment: float | None


def _sentiment(value: Any) -> float | None:
    # The pipeline's sentiment component writes either a number or {"score": x}.
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(-1.0, min(1.0, float(value)))


def understanding_of(latest_message: dict[str, Any]) -> Understanding:
    """Intent, its confidence and the sentiment score from a tracker's message."""
    intent = latest_message.get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    confidence = intent.get("confidence") if isinstance(intent, dict) else None
    if isinstance(confidence, int | float) and not isinstance(confidence, bool):
        confidence = max(0.0, min(1.0, float(confidence)))
    else:
        confidence = None
    return Understanding(
        intent=str(name) if name else None,
        intent_confidence=confidence,
        sentiment=_sentiment(latest_message.get("sentiment")),
    )


class RasaClient:
    """Turns, tracker reads and tracker events against one Rasa server."""

    def __init__(self, http: httpx.AsyncClient, *, token: str, timeout: float):
        """``http`` carries the base URL; ``timeout`` bounds every call (seconds)."""
        self._http = http
        self._token = token
        self._timeout = timeout

    async def _call(
        self, method: str, path: str, *, json: Any = None, **query: str
    ) -> Any:
        params = {**query, "token": self._token}
        try:
            response = await self._http.request(
                method, path, json=json, params=params, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code >= 400:
            raise RasaUnavailable(f"HTTP {response.status_code} from {path}")
        try:
            return response.json()
        except ValueError as exc:
            raise RasaUnavailable(f"no JSON from {path}") from exc

    async def turn(
        self, *, sender: str, message: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """One customer message through the REST channel; the bot's replies."""
        body = {"sender": sender, "message": message, "metadata": metadata}
        replies = await self._call("POST", "/webhooks/rest/webhook", json=body)
        if not isinstance(replies, list):
            return []
        return [reply for reply in replies if isinstance(reply, dict)]

    async def understanding(self, *, sender: str) -> Understanding:
        """The NLU result of the conversation's latest message."""
        tracker = await self._call(
            "GET", f"/conversations/{sender}/tracker", include_events="NONE"
        )
        latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
        return understanding_of(latest if isinstance(latest, dict) else {})

    async def resume(self, *, sender: str) -> None:
        """Un-pause the conversation and make the bot listen (one call)."""
        # Rasa's event schema: an action event named action_listen (there is no
        # "action_listen" event type; Rasa answers 400 to one).
        events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        await self._call("POST", f"/conversations/{sender}/tracker/events", json=events)

    async def trigger_intent(
        self, *, sender: str, name: str, entities: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Inject an intent (e.g. ``EXTERNAL_handback``); the bot's messages."""
        # No output_channel: Rasa collects the bot's messages into its answer.
        body = {"name": name, "entities": entities}
        answer = await self._call(
            "POST", f"/conversations/{sender}/trigger_intent", json=body
        )
        messages = answer.get("messages") if isinstance(answer, dict) else None
        return [m for m in messages if isinstance(m, dict)] if messages else []
