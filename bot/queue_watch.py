"""Queue notices: while a customer waits for a person, say what changed.

One poller per queued conversation polls the escalation every
``GATEWAY_QUEUE_POLL_SECONDS`` and delivers its ``notice`` when there is news:
the customer moved up the queue, who will serve them (or the call-back) changed,
or the estimated wait moved by a noticeable amount (two minutes and a third of
the last figure told) no sooner than ``min_gap`` after the last notice. The
estimate follows offers, presence and handling times, so it jitters; a customer
is not told "8 minutes… 7 minutes… 8 minutes". The first notice was already said
by the bot when it escalated, so it is only remembered. With Redis several
gateway processes share one poller per conversation through a short-lived lock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from bot.crm_client import CrmClient, CrmRefused, CrmUnavailable, EscalationState
from bot.messages import Outgoing, Sink

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)
LOCK_KEY = "gateway:queue-poll:{}"
MIN_GAP_SECONDS = 60.0  # between two notices that only move the estimate
WAIT_STEP_MINUTES = 2  # the smallest change of the estimate worth a message
WAIT_STEP_SHARE = 1 / 3  # …and the smallest share of the last figure told


def news(told: EscalationState, now: EscalationState) -> str | None:
    """What kind of news ``now`` is after the notice ``told`` ("wait": only the
    estimate moved, enough to tell); None when there is nothing worth a message."""
    if not now.notice or now.notice == told.notice:
        return None
    if now.queue_position != told.queue_position:
        return "position"
    before, after = told.estimated_wait_minutes, now.estimated_wait_minutes
    if now.serving != told.serving or before is None or after is None:
        return "other"  # who serves, a call-back, or a change we cannot place
    step = max(WAIT_STEP_MINUTES, before * WAIT_STEP_SHARE)
    return "wait" if abs(after - before) >= step else None


class QueueWatch:
    """The pollers of this process, at most one per conversation."""

    def __init__(
        self,
        crm: CrmClient,
        *,
        interval: float,
        redis: Redis | None = None,
        min_gap: float = MIN_GAP_SECONDS,
    ):
        """``redis`` (optional) makes the pollers exclusive across processes;
        ``min_gap``: seconds between two notices that only move the estimate."""
        self._crm = crm
        self._interval = interval
        self._min_gap = min_gap
        self._redis = redis
        self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._pollers: dict[int, asyncio.Task[None]] = {}

    def watching(self, conversation_id: int) -> bool:
        """Whether this process polls the conversation now."""
        task = self._pollers.get(conversation_id)
        return task is not None and not task.done()

    def watch(
        self, channel: str, external_id: str, conversation_id: int, *, sink: Sink
    ) -> None:
        """Start polling the conversation's escalation (no-op when already polling)."""
        if self.watching(conversation_id):
            return
        task = asyncio.create_task(self._poll(conversation_id, sink))
        self._pollers[conversation_id] = task
        task.add_done_callback(lambda _: self._forget(conversation_id, task))

    def _forget(self, conversation_id: int, task: asyncio.Task[None]) -> None:
        if self._pollers.get(conversation_id) is task:
            del self._pollers[conversation_id]

    def stop(self, conversation_id: int) -> None:
        """Stop polling (the conversation left the queue)."""
        task = self._pollers.pop(conversation_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        """Stop every poller."""
        tasks = list(self._pollers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pollers.clear()

    async def _lock(self, conversation_id: int) -> bool:
        if self._redis is None:
            return True
        key = LOCK_KEY.format(conversation_id)
        ttl = max(1, int(self._interval * 3 * 1000))
        try:
            if await self._redis.set(key, self._owner, nx=True, px=ttl):
                return True
            holder: Any = await self._redis.get(key)
            if holder in (self._owner, self._owner.encode()):
                await self._redis.pexpire(key, ttl)
                return True
            return False
        except Exception as exc:  # Redis down: poll anyway, a duplicate is harmless
            logger.warning("queue poll lock unavailable: %s", exc)
            return True

    async def _poll(self, conversation_id: int, sink: Sink) -> None:
        told: EscalationState | None = None  # the last notice the customer heard
        told_at = 0.0
        loop = asyncio.get_running_loop()
        while True:
            if not await self._lock(conversation_id):
                return
            try:
                state = await self._crm.conversation(conversation_id=conversation_id)
                if state.status != "queued" or state.open_escalation_id is None:
                    return
                escalation = await self._crm.escalation(
                    escalation_id=state.open_escalation_id
                )
                if escalation.status != "queued":
                    # Accepted or closed meanwhile: the CRM's own system notices
                    # ("已接入", closing) say so; ours would come just before them.
                    return
                if told is None:  # the bot said it when it escalated
                    if escalation.notice:
                        told, told_at = escalation, loop.time()
                else:
                    kind = news(told, escalation)
                    if kind == "wait" and loop.time() - told_at < self._min_gap:
                        kind = None  # not yet: the estimate may settle back
                    if kind is not None:
                        await self._say(conversation_id, sink, escalation.notice)
                        told, told_at = escalation, loop.time()
            except (CrmUnavailable, CrmRefused) as exc:
                logger.info("queue poll of %s: %s", conversation_id, exc)
            await asyncio.sleep(self._interval)

    async def _say(self, conversation_id: int, sink: Sink, notice: str) -> None:
        message_id = None
        try:
            message_id = await self._crm.record_message(
                conversation_id=conversation_id, sender="system", text=notice
            )
        except (CrmUnavailable, CrmRefused) as exc:
            logger.info("queue notice not recorded: %s", exc)
        await sink.send(Outgoing(text=notice, sender="system", message_id=message_id))
