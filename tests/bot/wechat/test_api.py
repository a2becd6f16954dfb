"""The access token and customer-service API client against the fake WeChat API
(a real HTTP server), and the de-duplication protocol on memory and on Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis
from redis.asyncio import Redis

from bot.channels.wechat.api import (
    AccessToken,
    WechatApi,
    WechatApiError,
    WechatUnavailable,
    WindowClosed,
)
from bot.channels.wechat.dedupe import Dedupe
from bot.channels.wechat.store import MemoryStore, RedisStore, Store
from tests.bot.wechat.conftest import redis_url, run_async
from tests.bot.wechat.fake_api import FakeWechat, running_fake_wechat
from tests.bot.wechat.player import new_openid
from tests.ports import free_port

APP = "wx-api-test"
SECRET = "api-test-secret"


@pytest.fixture
def fake() -> Iterator[FakeWechat]:
    """A fake of its own per test (token counts start at zero)."""
    with running_fake_wechat(app_id=APP, app_secret=SECRET) as fake:
        yield fake


@asynccontextmanager
async def client(
    fake: FakeWechat, store: Store | None = None, secret: str = SECRET
) -> AsyncIterator[WechatApi]:
    """An API client on the fake."""
    async with httpx.AsyncClient(base_url=fake.url) as http:
        token = AccessToken(http, store or MemoryStore(), app_id=APP, app_secret=secret)
        yield WechatApi(http, token, backoff=0.01)


def redis_available() -> str:
    """The test Redis URL (or skip)."""
    url = redis_url()
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url}")
    return url


@asynccontextmanager
async def store_factory(backend: str) -> AsyncIterator[Callable[[], Store]]:
    """Stores that share state, as processes share Redis (memory: one store)."""
    if backend == "memory":
        shared = MemoryStore()
        yield lambda: shared
        return
    url = redis_available()
    prefix = f"test-wechat-{uuid.uuid4().hex[:8]}:"
    clients: list[Redis] = []

    def make() -> Store:
        clients.append(Redis.from_url(url))
        return RedisStore(clients[-1], prefix=prefix)

    try:
        yield make
    finally:
        for connection in clients:
            await connection.aclose()


def test_a_message_goes_out_as_utf8(fake: FakeWechat) -> None:
    async def run() -> None:
        async with client(fake) as api:
            await api.send_text("oA", "您好，王芳为您服务")

    run_async(run())
    assert [(s.openid, s.content, s.raw_utf8) for s in fake.sent] == [
        ("oA", "您好，王芳为您服务", True)
    ]


def test_concurrent_senders_fetch_one_token(fake: FakeWechat) -> None:
    fake.token_delay = 0.3

    async def run() -> None:
        async with client(fake) as api:
            await asyncio.gather(*(api.send_text(f"o{i}", "并发") for i in range(20)))

    run_async(run())
    assert fake.token_fetches == 1 and len(fake.sent) == 20


def test_processes_sharing_redis_fetch_one_token(fake: FakeWechat) -> None:
    redis_available()
    fake.token_delay = 0.3

    async def process(stores: Callable[[], Store], name: str) -> None:
        async with client(fake, stores()) as api:
            await asyncio.gather(*(api.send_text(f"{name}{i}", "x") for i in range(5)))

    async def run() -> None:
        async with store_factory("redis") as stores:
            await asyncio.gather(*(process(stores, name) for name in "abc"))

    run_async(run())
    assert fake.token_fetches == 1 and len(fake.sent) == 15


def test_an_expired_token_is_refreshed_once(fake: FakeWechat) -> None:
    async def run() -> None:
        async with client(fake) as api:
            await api.send_text("oA", "一")
            fake.expire_tokens()
            await asyncio.gather(api.send_text("oA", "二"), api.send_text("oB", "三"))

    run_async(run())
    assert fake.token_fetches == 2
    assert sorted(s.content for s in fake.sent) == ["一", "三", "二"]
    assert ("token", 42001) in fake.refused


def test_busy_is_retried_with_backoff(fake: FakeWechat) -> None:
    fake.busy = 2

    async def run() -> None:
        async with client(fake) as api:
            await api.send_text("oA", "稍后")

    run_async(run())
    assert [s.content for s in fake.sent] == ["稍后"]
    assert [code for _, code in fake.refused] == [-1, -1]


def test_a_closed_window_and_a_bad_secret_are_errors(fake: FakeWechat) -> None:
    fake.window_closed.add("oLate")

    async def run() -> None:
        async with client(fake) as api:
            with pytest.raises(WindowClosed) as closed:
                await api.send_text("oLate", "x")
            assert closed.value.errcode == 45015
        async with client(fake, secret="wrong") as api:
            with pytest.raises(WechatApiError) as refused:
                await api.send_text("oA", "x")
            assert refused.value.errcode == 40125

    run_async(run())
    assert fake.sent == []


def test_an_unreachable_wechat_is_reported() -> None:
    async def run() -> None:
        base = f"http://127.0.0.1:{free_port()}"
        async with httpx.AsyncClient(base_url=base) as http:
            token = AccessToken(http, MemoryStore(), app_id=APP, app_secret=SECRET)
            api = WechatApi(http, token, retries=1, backoff=0.01)
            with pytest.raises(WechatUnavailable):
                await api.send_text("oA", "x")

    run_async(run())


# ---- the de-duplication protocol ----------------------------------------------


async def _turn(dedupe: Dedupe, key: str, seconds: float, replies: str) -> bool:
    assert await dedupe.begin(key)
    await asyncio.sleep(seconds)
    return await dedupe.finish(key, replies)


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_quick_turn_is_claimed_by_the_newest_waiter(backend: str) -> None:
    async def run() -> tuple[list[str | None], bool]:
        async with store_factory(backend) as stores:
            return await storm(Dedupe(stores(), poll=0.01))

    async def storm(dedupe: Dedupe) -> tuple[list[str | None], bool]:
        key = new_openid()
        deadline = time.monotonic() + 2
        turn = asyncio.create_task(_turn(dedupe, key, 0.3, '["r"]'))
        await asyncio.sleep(0.05)
        waiters = [asyncio.create_task(dedupe.wait(key, deadline=deadline))]
        await asyncio.sleep(0.05)
        assert not await dedupe.begin(key)  # the retry does not run a turn
        waiters.append(asyncio.create_task(dedupe.wait(key, deadline=deadline)))
        claimed = await asyncio.gather(*waiters)
        return claimed, await turn

    claimed, by_api = run_async(run())
    assert claimed == [None, '["r"]'] and by_api is False


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_slow_turn_goes_to_the_api_once(backend: str) -> None:
    async def run() -> tuple[list[str | None], bool]:
        async with store_factory(backend) as stores:
            return await slow(Dedupe(stores(), poll=0.01))

    async def slow(dedupe: Dedupe) -> tuple[list[str | None], bool]:
        key = new_openid()
        deadline = time.monotonic() + 0.3
        turn = asyncio.create_task(_turn(dedupe, key, 0.6, '["r"]'))
        await asyncio.sleep(0.01)
        waits = [dedupe.wait(key, deadline=deadline) for _ in range(3)]
        return list(await asyncio.gather(*waits)), await turn

    claimed, by_api = run_async(run())
    assert claimed == [None, None, None] and by_api is True
