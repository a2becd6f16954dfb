"""The bot ⇄ agent relay: one customer message's way (docs/takeover.md).

Record with the CRM first (nothing is lost), then route by the conversation's
status: ``bot`` → one Rasa REST turn, each reply recorded and delivered;
``queued`` / ``agent`` → never to Rasa (the CRM shows it to the console).
Agent and system messages and the handback arrive as CRM events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from bot.crm_client import CrmClient, CrmRefused, CrmUnavailable, agent_ref
from bot.messages import (
    DISPLAY_MAX,
    NOTICE_CRM_DOWN,
    NOTICE_HANDBACK,
    NOTICE_RASA_DOWN,
    InvalidText,
    Outgoing,
    Sender,
    Sink,
    check_text,
    from_rasa,
    from_transcript,
    record_payload,
    transcript_text,
)
from bot.notices import NoticeOutcome, Notifier, recorder
from bot.queue_watch import QueueWatch
from bot.rasa_client import RasaClient, RasaUnavailable

logger = logging.getLogger(__name__)

HANDBACK_INTENT = "EXTERNAL_handback"
SinkFactory = Callable[[str], Sink]


@dataclass(frozen=True)
class TurnOutcome:
    """How one customer message went, for the channel's acknowledgement."""

    ok: bool
    error: str | None = None
    conversation_id: int | None = None
    message_id: int | None = None
    status: str | None = None
    duplicate: bool = False


class NullSink:
    """A channel that cannot be pushed to (Rasa's REST shape answers per request)."""

    async def send(self, message: Outgoing) -> None:
        """Drop: the message is in the transcript."""

    async def typing(self, on: bool) -> None:
        """Nothing to show."""


class Relay:
    """Routes customer messages and delivers bot, agent and system messages."""

    def __init__(
        self,
        *,
        crm: CrmClient,
        rasa: RasaClient,
        queue_watch: QueueWatch,
    ):
        """Clients are shared; channels register where their messages go."""
        self.crm = crm
        self.rasa = rasa
        self.queue_watch = queue_watch
        self._sinks: dict[str, SinkFactory] = {}
        self._notifiers: dict[str, Notifier] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register_channel(self, channel: str, sinks: SinkFactory) -> None:
        """Messages pushed to this channel's users go through ``sinks(external_id)``."""
        self._sinks[channel] = sinks

    def register_notifier(self, channel: str, notifier: Notifier) -> None:
        """How this channel delivers a ticket notice and confirms it arrived."""
        self._notifiers[channel] = notifier

    def sink(self, channel: str, external_id: str) -> Sink:
        """Where a channel user's messages go (a no-op for push-less channels)."""
        factory = self._sinks.get(channel)
        return factory(external_id) if factory is not None else NullSink()

    def background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run after the answer; keep a reference so the task is not collected."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel background work (process shutdown)."""
        await self.queue_watch.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- a customer's message -------------------------------------------------

    async def customer_message(
        self,
        *,
        channel: str,
        external_id: str,
        text: Any,
        sink: Sink | None = None,
        display: str | None = None,
        external_msg_id: str | None = None,
    ) -> TurnOutcome:
        """Record, route, answer. ``display`` is a clicked quick reply's label."""
        sink = sink or self.sink(channel, external_id)
        try:
            text = check_text(text)
        except InvalidText as exc:
            return TurnOutcome(ok=False, error=exc.code)
        metadata = {"display": display[:DISPLAY_MAX]} if display else None
        try:
            recorded = await self.crm.record_customer_message(
                channel=channel,
                external_id=external_id,
                text=text,
                external_msg_id=external_msg_id,
                metadata=metadata,
            )
        except (CrmUnavailable, CrmRefused) as exc:
            # Not recorded, so Rasa is not asked either: the customer sends again.
            logger.warning("CRM refused or missed a customer message: %s", exc)
            await sink.send(Outgoing(text=NOTICE_CRM_DOWN, sender="system"))
            return TurnOutcome(ok=False, error="crm_unavailable")
        outcome = TurnOutcome(
            ok=True,
            conversation_id=recorded.conversation_id,
            message_id=recorded.message_id,
            status=recorded.status,
            duplicate=recorded.duplicate,
        )
        if recorded.duplicate:
            return outcome
        if recorded.status == "queued" and channel in self._sinks:
            self.queue_watch.watch(
                channel,
                external_id,
                recorded.conversation_id,
                sink=self.sink(channel, external_id),
            )
        if recorded.status != "bot":
            return outcome
        metadata_out = {
            "conversation_id": recorded.conversation_id,
            "channel": channel,
            "customer_id": recorded.customer_id,
            "verified": recorded.verified,
        }
        sender = str(recorded.conversation_id)
        await sink.typing(True)
        try:
            replies = await self.rasa.turn(
                sender=sender, message=text, metadata=metadata_out
            )
        except RasaUnavailable as exc:
            logger.warning("Rasa turn failed for conversation %s: %s", sender, exc)
            await sink.typing(False)
            await self.say(recorded.conversation_id, sink, NOTICE_RASA_DOWN)
            return outcome
        for reply in replies:
            await self.deliver(recorded.conversation_id, sink, from_rasa(reply))
        await sink.typing(False)
        self.background(
            self._after_turn(
                channel, external_id, recorded.conversation_id, recorded.message_id
            )
        )
        return outcome

    async def _after_turn(
        self, channel: str, external_id: str, conversation_id: int, message_id: int
    ) -> None:
        """Record the turn's understanding; start queue notices after an escalation."""
        try:
            understood = await self.rasa.understanding(sender=str(conversation_id))
            await self.crm.record_understanding(
                conversation_id=conversation_id,
                message_id=message_id,
                intent=understood.intent,
                intent_confidence=understood.intent_confidence,
                sentiment=understood.sentiment,
            )
        except (RasaUnavailable, CrmUnavailable, CrmRefused) as exc:
            logger.info("understanding of message %s not recorded: %s", message_id, exc)
        if channel not in self._sinks:
            return
        try:
            state = await self.crm.conversation(conversation_id=conversation_id)
        except (CrmUnavailable, CrmRefused):
            return
        if state.status == "queued":
            self.queue_watch.watch(
                channel,
                external_id,
                conversation_id,
                sink=self.sink(channel, external_id),
            )

    async def deliver(
        self, conversation_id: int, sink: Sink, message: Outgoing
    ) -> None:
        """Record a bot or system message, then deliver it with its message id."""
        try:
            message_id = await self.crm.record_message(
                conversation_id=conversation_id,
                sender=message.sender,
                text=transcript_text(message),
                payload=record_payload(message),
            )
        except (CrmUnavailable, CrmRefused) as exc:
            # The customer still gets it; the transcript misses it (logged).
            logger.warning(
                "reply not recorded in conversation %s: %s", conversation_id, exc
            )
            message_id = None
        await sink.send(replace(message, message_id=message_id))

    async def say(self, conversation_id: int, sink: Sink, text: str) -> None:
        """A system notice, recorded and delivered."""
        await self.deliver(conversation_id, sink, Outgoing(text=text, sender="system"))

    # ---- CRM events -----------------------------------------------------------

    async def agent_message(
        self,
        *,
        channel: str,
        external_id: str,
        message: dict[str, Any],
    ) -> None:
        """Deliver a message the CRM recorded (an agent's reply or a system notice)."""
        ref = agent_ref(message.get("agent"))
        sender: Sender = "agent" if message.get("sender") == "agent" else "system"
        await self.sink(channel, external_id).send(
            Outgoing(
                text=str(message.get("text") or ""),
                sender=sender,
                message_id=message.get("id"),
                agent=ref if sender == "agent" else None,
                created_at=message.get("created_at"),
            )
        )

    async def notice(
        self,
        *,
        conversation_id: int,
        channel: str,
        external_id: str,
        notice: dict[str, Any],
    ) -> NoticeOutcome:
        """Deliver a ticket notice now if the customer is reachable (bot/notices.py)."""
        notifier = self._notifiers.get(channel)
        text = str(notice.get("text") or "").strip()
        if notifier is None or not text:
            return NoticeOutcome(delivered=False, reason="channel_off")
        record = recorder(
            self.crm, conversation_id=conversation_id, text=text, notice=notice
        )
        return await notifier(external_id, text, record)

    async def handback(
        self,
        *,
        conversation_id: int,
        channel: str,
        external_id: str,
        escalation_id: int,
    ) -> None:
        """The agent resolved: resume Rasa, let the bot thank and ask for a score."""
        self.queue_watch.stop(conversation_id)
        sink = self.sink(channel, external_id)
        sender = str(conversation_id)
        await sink.typing(True)
        try:
            await self.rasa.resume(sender=sender)
            replies = await self.rasa.trigger_intent(
                sender=sender,
                name=HANDBACK_INTENT,
                entities={"escalation_id": escalation_id},
            )
        except RasaUnavailable as exc:
            logger.warning("handback of conversation %s failed: %s", sender, exc)
            await sink.typing(False)
            await self.say(conversation_id, sink, NOTICE_HANDBACK)
            return
        for reply in replies:
            await self.deliver(conversation_id, sink, from_rasa(reply))
        await sink.typing(False)

    # ---- history --------------------------------------------------------------

    async def history(self, *, channel: str, external_id: str) -> dict[str, Any]:
        """The open conversation's transcript as the customer sees it; a page that
        never said anything has none (and reading history opens nothing)."""
        state = await self.crm.find_conversation(
            channel=channel, external_id=external_id
        )
        if state is None:
            return {"conversation_id": None, "status": "bot", "messages": []}
        items = await self.crm.transcript(conversation_id=state.id)
        return {
            "conversation_id": state.id,
            "status": state.status,
            "messages": [from_transcript(item) for item in items],
        }
