"""Exactly one turn per WeChat message, and its replies delivered exactly once.

WeChat retries a callback it got no answer for within 5 s (three times in all),
so one message may arrive several times, even at different gateway processes.
Keys per message (``openid:MsgId``, or ``openid:event-CreateTime``):

- ``owner``: the first arrival runs the turn (SET NX); later ones never do.
  Across restarts the CRM's ``external_msg_id`` answers ``duplicate`` instead.
- ``waiter``: the newest request still waiting to answer (WeChat has given up
  on the older ones); a superseded request answers ``success``.
- ``done``: the turn's replies, once they exist.
- ``claim``: whoever sets it delivers them: a waiting request (passively, in
  its answer) or the turn's runner (through the customer-service API) once no
  request waits any more. SET NX makes it one of them, never both.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from bot.channels.wechat.store import Store

OWNER_TTL = 600.0  # WeChat's retries come within ~15 s; a late one meets the CRM
DONE_TTL = 120.0


class Dedupe:
    """The protocol above over a :class:`Store` (memory or Redis)."""

    def __init__(self, store: Store, *, poll: float = 0.02):
        """``poll``: seconds between looks at the shared state."""
        self._store = store
        self._poll = poll

    async def begin(self, key: str) -> bool:
        """True for the first arrival of the message: it runs the turn."""
        return await self._store.add(f"{key}:owner", uuid.uuid4().hex, OWNER_TTL)

    async def wait(self, key: str, *, deadline: float) -> str | None:
        """Wait (until ``deadline``, monotonic) to answer passively: the turn's
        replies when this request claimed them, else None (answer ``success``)."""
        me = uuid.uuid4().hex
        waiter = f"{key}:waiter"
        await self._store.put(waiter, me, max(deadline - time.monotonic(), 0) + 1)
        try:
            while time.monotonic() < deadline:
                current, done = await self._store.get_many(waiter, f"{key}:done")
                if current != me:
                    return None  # a newer retry answers instead
                if done is not None:
                    if done == "[]":
                        return None
                    if await self._store.add(f"{key}:claim", me, DONE_TTL):
                        return done
                    return None
                await asyncio.sleep(self._poll)
            return None
        finally:
            await self._store.delete_if(waiter, me)

    async def finish(self, key: str, replies: str) -> bool:
        """Publish the turn's replies; True when the runner must send them through
        the API (no waiting request took them)."""
        await self._store.put(f"{key}:done", replies, DONE_TTL)
        if replies == "[]":
            return False
        while True:
            (waiting,) = await self._store.get_many(f"{key}:waiter")
            if waiting is None:
                break
            await asyncio.sleep(self._poll)
        return await self._store.add(f"{key}:claim", "api", DONE_TTL)
