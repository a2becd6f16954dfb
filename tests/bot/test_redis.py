"""Several gateway processes behind one Redis deliver to each other's sockets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.bot.conftest import Gateway, RasaStandIn, start_gateway
from tests.bot.customer import Customer, in_thread
from tests.live_crm import LiveCrm

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, crm: LiveCrm, rasa_stand_in: RasaStandIn
) -> Iterator[tuple[Gateway, Gateway]]:
    """Two gateways sharing a Redis channel of their own."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    env = {"REDIS_URL": REDIS_URL, "GATEWAY_REDIS_CHANNEL": f"test-{uuid.uuid4().hex}"}
    workdir = tmp_path_factory.mktemp("redis-gateways")
    options = dict(
        crm_url=crm.url,
        token=crm.token,
        rasa_url=rasa_stand_in.url,
        rasa_token=rasa_stand_in.token,
        extra_env=env,
    )
    first = start_gateway(workdir, **options)  # type: ignore[arg-type]
    second = start_gateway(workdir, **options)  # type: ignore[arg-type]
    yield first, second
    first.stop()
    second.stop()


@in_thread
async def test_an_event_posted_to_one_process_reaches_a_socket_on_the_other(
    pair: tuple[Gateway, Gateway],
) -> None:
    first, second = pair
    customer = Customer(first.url)
    await customer.connect()
    try:
        event = {
            "type": "message",
            "conversation_id": 1,
            "channel": "web",
            "external_id": customer.session_id,
            "message": {
                "id": 770001,
                "sender": "agent",
                "text": "跨进程送达",
                "agent": {"id": 3, "name": "王芳", "employee_no": "KN1003"},
            },
        }
        response = httpx.post(
            f"{second.url}/internal/events",
            json=event,
            headers={"Authorization": f"Bearer {second.token}"},
            timeout=10,
        )
        assert response.status_code == 202
        got = await customer.next()
        assert got["text"] == "跨进程送达" and got["metadata"]["agent_name"] == "王芳"
    finally:
        await customer.close()


@in_thread
async def test_tabs_on_two_processes_share_one_chat(
    pair: tuple[Gateway, Gateway],
) -> None:
    first, second = pair
    here, there = Customer(first.url), Customer(second.url)
    await here.connect()
    await there.connect(here.session_id)
    try:
        await here.say("两台进程")
        assert (await here.next())["text"] == "收到：两台进程"
        assert (await there.next())["text"] == "收到：两台进程"
    finally:
        await here.close()
        await there.close()
