"""The live console hub: small hints pushed to agents' websockets.

Publishing is thread-safe: sync endpoints run in the threadpool and hand each hint
to the subscriber's event loop with ``call_soon_threadsafe``. One process keeps
everything in memory (:class:`Hub`); several CRM workers share hints through Redis
pub/sub (:class:`RedisHub`, ``CRM_REDIS_URL``): every worker publishes to the
channel and delivers what it reads from it to its own websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

from crm_backend.core.config import Settings
from crm_backend.core.outbox import Hint

log = logging.getLogger(__name__)
QUEUE_SIZE = 100
REDIS_CHANNEL = "crm:console:hints"


def tickets_hint(
    ticket_id: int,
    *,
    agent_ids: Iterable[int | None] = (),
    team_ids: Iterable[int | None] = (),
) -> Hint:
    """A complaint ticket changed: its team's and assignee's consoles (before and
    after a hand-over) and supervisors re-read their ticket lists."""
    return Hint(
        {"type": "tickets", "ticket_id": ticket_id},
        agent_ids=frozenset(i for i in agent_ids if i is not None),
        team_ids=frozenset(i for i in team_ids if i is not None),
        supervisors=True,
    )


class Subscriber:
    """One open console websocket: who it is and what it watches."""

    def __init__(
        self,
        *,
        agent_id: int,
        team_id: int | None,
        supervisor: bool,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.agent_id = agent_id
        self.team_id = team_id
        self.supervisor = supervisor
        self.watches: set[int] = set()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._loop = loop

    def wants(self, hint: Hint) -> bool:
        """True when the hint is addressed to this agent's console."""
        return (
            (hint.supervisors and self.supervisor)
            or self.agent_id in hint.agent_ids
            or (self.team_id is not None and self.team_id in hint.team_ids)
            or (
                hint.conversation_id is not None
                and hint.conversation_id in self.watches
            )
        )

    def push(self, message: dict[str, Any]) -> None:
        """Hand a message to the websocket's loop (from any thread)."""
        try:
            self._loop.call_soon_threadsafe(self._put, message)
        except RuntimeError:  # the loop is gone: the socket closed meanwhile
            pass

    def _put(self, message: dict[str, Any]) -> None:
        # A full queue means a stuck client; hints repeat, so dropping one is safe.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(message)


class Hub:
    """In-process fan-out of hints to the subscribers that want them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()

    def subscribe(
        self, *, agent_id: int, team_id: int | None, supervisor: bool
    ) -> Subscriber:
        """Register a websocket (call from its event loop)."""
        subscriber = Subscriber(
            agent_id=agent_id,
            team_id=team_id,
            supervisor=supervisor,
            loop=asyncio.get_running_loop(),
        )
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a closed websocket."""
        with self._lock:
            self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        """Open websockets in this process."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, hint: Hint) -> None:
        """Send a hint to every console that wants it (thread-safe)."""
        self.deliver(hint)

    def deliver(self, hint: Hint) -> int:
        """Deliver to this process's subscribers; returns how many got it."""
        with self._lock:
            targets = [s for s in self._subscribers if s.wants(hint)]
        for subscriber in targets:
            subscriber.push(hint.message)
        return len(targets)

    async def start(self) -> None:
        """Start background work (nothing for the in-process hub)."""

    async def stop(self) -> None:
        """Stop background work."""


class RedisHub(Hub):
    """Fan-out across CRM workers through one Redis pub/sub channel."""

    def __init__(self, url: str, *, channel: str = REDIS_CHANNEL) -> None:
        super().__init__()
        import redis

        self.url = url
        self.channel = channel
        self._publisher = redis.Redis.from_url(url, socket_timeout=2)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def publish(self, hint: Hint) -> None:
        """Publish to every worker (this one included, through Redis)."""
        try:
            self._publisher.publish(self.channel, json.dumps(hint.to_json()))
        except Exception as exc:  # Redis down: at least this worker's consoles
            log.warning("console hint not published to Redis: %s", type(exc).__name__)
            self.deliver(hint)

    async def start(self) -> None:
        """Subscribe and deliver what arrives until :meth:`stop`."""
        self._task = asyncio.create_task(self._listen(), name="console-hub-redis")
        # Hints published before the subscription is live would be lost.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=5)

    async def stop(self) -> None:
        """Cancel the listener and close the connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self._publisher.close()

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._ready.set()
                    async for item in pubsub.listen():
                        if item.get("type") != "message":
                            continue
                        try:
                            hint = Hint.from_json(json.loads(item["data"]))
                        except (ValueError, KeyError, TypeError):
                            log.warning("ignored a malformed console hint")
                            continue
                        self.deliver(hint)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("console hub lost Redis (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1)
            finally:
                await client.aclose()


def make_hub(settings: Settings) -> Hub:
    """The hub for these settings: Redis when ``redis_url`` is set."""
    return RedisHub(settings.redis_url) if settings.redis_url else Hub()
