"""A tiny shared key-value store with expiry: Redis across gateway processes, a
dict inside one process. De-duplication, the access-token cache and the
remembered quick replies are built on these four operations.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)
PREFIX = "gateway:wechat:"
# Delete KEYS[1] only while it still holds ARGV[1] (nobody else's value).
DELETE_IF = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Store(Protocol):
    """Keys with values and a time to live (seconds)."""

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set only when the key is free; True when this call set it."""

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Set (or replace)."""

    async def get_many(self, *keys: str) -> list[str | None]:
        """The values (None where missing or expired)."""

    async def delete_if(self, key: str, value: str) -> bool:
        """Delete while the key still holds ``value``."""


class MemoryStore:
    """One process's store (no Redis configured)."""

    def __init__(self) -> None:
        """Empty."""
        self._data: dict[str, tuple[str, float]] = {}
        self._writes = 0

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item[0]

    def _set(self, key: str, value: str, ttl: float) -> None:
        self._writes += 1
        if self._writes % 1000 == 0:  # drop expired keys now and then
            now = time.monotonic()
            for stale in [k for k, (_, exp) in self._data.items() if exp <= now]:
                del self._data[stale]
        self._data[key] = (value, time.monotonic() + ttl)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set when free."""
        if self._live(key) is not None:
            return False
        self._set(key, value, ttl)
        return True

    async def put(self, key: str, value: str, ttl: float) -> None:
        """Set."""
        self._set(key, value, ttl)

    async def get_many(self, *keys: str) -> list[str | None]:
        """Read."""
        return [self._live(key) for key in keys]

    async def delete_if(self, key: str, value: str) -> bool:
        """Compare and delete."""
        if self._live(key) == value:
            del self._data[key]
            return True
        return False


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


class RedisStore:
    """The store shared by every gateway process.

    When Redis fails the call falls back to this process's memory (logged): the
    CRM's ``external_msg_id`` still refuses a duplicate message, and a token is
    fetched once more at worst.
    """

    def __init__(self, redis: Redis, prefix: str = PREFIX):
        """Keys are namespaced by ``prefix``."""
        self._redis = redis
        self._prefix = prefix
        self._fallback = MemoryStore()

    def _failed(self, exc: Exception) -> None:
        logger.warning("Redis unavailable for WeChat state, using memory: %s", exc)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """SET NX PX."""
        try:
            ms = max(1, int(ttl * 1000))
            return bool(
                await self._redis.set(self._prefix + key, value, nx=True, px=ms)
            )
        except Exception as exc:
            self._failed(exc)
            return await self._fallback.add(key, value, ttl)

    async def put(self, key: str, value: str, ttl: float) -> None:
        """SET PX."""
        try:
            ms = max(1, int(ttl * 1000))
            await self._redis.set(self._prefix + key, value, px=ms)
        except Exception as exc:
            self._failed(exc)
            await self._fallback.put(key, value, ttl)

    async def get_many(self, *keys: str) -> list[str | None]:
        """MGET."""
        try:
            values = await self._redis.mget([self._prefix + key for key in keys])
            return [_text(v) for v in values]
        except Exception as exc:
            self._failed(exc)
            return await self._fallback.get_many(*keys)

    async def delete_if(self, key: str, value: str) -> bool:
        """Compare and delete (a Lua script, atomic)."""
        try:
            deleted = await self._redis.eval(DELETE_IF, 1, self._prefix + key, value)
            return bool(deleted)
        except Exception as exc:
            self._failed(exc)
            return await self._fallback.delete_if(key, value)
