"""The CRM client against a real local HTTP server: results and typed errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from actions.crm import (
    AgentContact,
    CrmClient,
    CrmError,
    CrmNotFound,
    CrmUnavailable,
    CustomerSummary,
)
from actions.crm.client import DEFAULT_TOKEN, DEFAULT_URL
from tests.actions.rasa_env.helpers import SUMMARY, fake_crm
from tests.ports import free_port


async def _summary(client: CrmClient, customer_id: int) -> CustomerSummary:
    async with client:
        return await client.get_customer_summary(customer_id)


def test_from_env_defaults_and_timeouts() -> None:
    client = CrmClient.from_env({})
    assert client.base_url == DEFAULT_URL
    assert client.timeout.connect == 2.0
    assert client.timeout.read == 5.0
    asyncio.run(client.aclose())


def test_from_env_url_and_token_are_used() -> None:
    with fake_crm() as crm:
        client = CrmClient.from_env(
            {"CRM_URL": crm.url + "/", "CRM_SERVICE_TOKEN": "s3cret"}
        )

        async def health() -> bool:
            async with client:
                return (await client.health()).ok

        assert asyncio.run(health()) is True
    assert crm.authorizations == ["Bearer s3cret"]


def test_customer_summary_is_parsed() -> None:
    with fake_crm() as crm:
        summary = asyncio.run(_summary(CrmClient(crm.url, DEFAULT_TOKEN), 7))
    assert summary.id == 7
    assert summary.salutation == "张先生"
    assert summary.phone_masked == "138****5678"
    assert summary.value_tier == "gold"
    assert summary.servicing_agent == AgentContact(
        id=3,
        name="李娜",
        employee_no="E0003",
        role="account_manager",
        role_label="客户经理",
        work_phone="0755-8888",
        departed=False,
    )
    assert crm.authorizations == [f"Bearer {DEFAULT_TOKEN}"]


def test_summary_is_frozen() -> None:
    summary = CustomerSummary.from_json({**SUMMARY, "servicing_agent": None})
    assert summary.servicing_agent is None
    with pytest.raises(AttributeError):
        summary.name = "x"  # type: ignore[misc]


def test_404_raises_not_found_with_the_crm_message() -> None:
    with fake_crm() as crm, pytest.raises(CrmNotFound) as caught:
        asyncio.run(_summary(CrmClient(crm.url), 404))
    assert caught.value.status_code == 404
    assert caught.value.code == "not_found"
    assert "Customer 404 not found" in caught.value.message


def test_401_is_a_plain_crm_error() -> None:
    with fake_crm() as crm, pytest.raises(CrmError) as caught:
        asyncio.run(_summary(CrmClient(crm.url), 401))
    assert type(caught.value) is CrmError
    assert caught.value.status_code == 401
    assert caught.value.code == "unauthorized"


def test_500_means_unavailable() -> None:
    with fake_crm() as crm, pytest.raises(CrmUnavailable) as caught:
        asyncio.run(_summary(CrmClient(crm.url), 500))
    assert caught.value.status_code == 500


@pytest.mark.parametrize("customer_id", [8, 9])
def test_unexpected_body_is_a_bad_response(customer_id: int) -> None:
    with fake_crm() as crm, pytest.raises(CrmError) as caught:
        asyncio.run(_summary(CrmClient(crm.url), customer_id))
    assert type(caught.value) is CrmError
    assert caught.value.code == "bad_response"


def test_connection_refused_means_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CrmUnavailable) as caught:
        asyncio.run(_summary(CrmClient(url), 7))
    assert "unreachable" in caught.value.message


def test_read_timeout_means_unavailable() -> None:
    timeout = httpx.Timeout(connect=2.0, read=0.2, write=2.0, pool=2.0)
    with fake_crm(slow_seconds=1.5) as crm, pytest.raises(CrmUnavailable) as caught:
        asyncio.run(_summary(CrmClient(crm.url, timeout=timeout), 10))
    assert "timed out" in caught.value.message
