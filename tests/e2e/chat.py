"""Helpers of the end-to-end conversations: talk through the REST channel, read the
CRM (service API and, for what no API shows, its database)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.live_crm import LiveCrm
from tests.rasa_fixtures import RasaServer

POLICY_NO = re.compile(r"P\d{13}")
CLAIM_NO = re.compile(r"CL\d{13,14}")


def say(server: RasaServer, sender: str, message: str) -> str:
    """Send one customer message through the REST channel; the bot's texts."""
    response = httpx.post(
        f"{server.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def slots(server: RasaServer, sender: str) -> dict[str, Any]:
    """The Rasa tracker's slots of a sender (HTTP API, with the token)."""
    response = httpx.get(
        f"{server.url}/conversations/{sender}/tracker",
        params={"token": server.token, "include_events": "NONE"},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json()["slots"])


def crm_get(crm: LiveCrm, path: str) -> Any:
    """GET from the CRM's service API."""
    response = httpx.get(
        f"{crm.url}/api/v1/service{path}",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def customer_id(crm: LiveCrm, phone: str, last4: str) -> int:
    """A demo customer's id (asks the CRM to verify them, outside any chat)."""
    response = httpx.post(
        f"{crm.url}/api/v1/service/identity/verify",
        headers={"Authorization": f"Bearer {crm.token}"},
        json={"method": "phone_id", "phone": phone, "id_last4": last4},
        timeout=10,
    )
    response.raise_for_status()
    return int(response.json()["customer"]["id"])


def db_scalar(crm: LiveCrm, sql: str, **params: Any) -> Any:
    """One value from the CRM's database (signals have no service API)."""
    engine = create_engine(crm.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()
