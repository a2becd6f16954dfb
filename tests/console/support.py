"""Helpers of the console tests: the service API as the gateway uses it, screenshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page

from crm_backend.demo.catalog import AGENTS, TEAMS
from tests.browser import ARTIFACTS, screenshot

PASSWORD = "demo1234"
# A supervisor of the general desk and a sales agent who is 张伟's named agent.
SUPERVISOR = "KN1031"
NAMED_AGENT = "KN1042"
ZHANG_WEI = 1  # demo customer 1: named agent 李娜 (KN1042), online
ZHAO_LEI = 3  # demo customer 3: a premium 20 days overdue, in the grace period
ZHOU_QIANG = 5  # demo customer 5: an open double-debit complaint


@dataclass
class Service:
    """The bot's and gateway's side of the CRM, through the service API."""

    client: httpx.Client

    def say(
        self, external_id: str, text: str, *, customer_id: int | None = None
    ) -> dict[str, Any]:
        """Record a customer message (as the gateway does)."""
        body: dict[str, Any] = {
            "channel": "web",
            "external_id": external_id,
            "text": text,
        }
        if customer_id is not None:
            body["customer_id"] = customer_id
        response = self.client.post("/api/v1/service/conversations/messages", json=body)
        response.raise_for_status()
        return response.json()

    def bot(self, conversation_id: int, text: str) -> None:
        """Record a bot reply."""
        response = self.client.post(
            f"/api/v1/service/conversations/{conversation_id}/messages",
            json={"sender": "bot", "text": text},
        )
        response.raise_for_status()

    def escalate(self, conversation_id: int, **fields: Any) -> dict[str, Any]:
        """Ask for a person (as the bot's handoff action does)."""
        body = {
            "conversation_id": conversation_id,
            "trigger": "customer_request",
            "reason": "客户要求转人工",
            **fields,
        }
        response = self.client.post("/api/v1/service/escalations", json=body)
        response.raise_for_status()
        return response.json()

    def escalation(self, escalation_id: int) -> dict[str, Any]:
        """An escalation as the bot sees it."""
        response = self.client.get(f"/api/v1/service/escalations/{escalation_id}")
        response.raise_for_status()
        return response.json()

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        """A conversation's status as the gateway sees it."""
        response = self.client.get(f"/api/v1/service/conversations/{conversation_id}")
        response.raise_for_status()
        return response.json()

    def transcript(self, conversation_id: int) -> list[dict[str, Any]]:
        """The service transcript (what the customer's side may see)."""
        response = self.client.get(
            f"/api/v1/service/conversations/{conversation_id}/messages",
            params={"limit": 200},
        )
        response.raise_for_status()
        return list(response.json()["items"])

    def handed_over(
        self, customer_id: int | None, *, text: str = "我要转人工", **fields: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A new web chat with one bot turn, escalated: (conversation, escalation)."""
        external_id = f"console-{uuid.uuid4().hex[:12]}"
        first = self.say(
            external_id, "你好，我想问一下我的保单", customer_id=customer_id
        )
        conversation_id = first["conversation_id"]
        self.bot(conversation_id, "您好，我是智能客服小安，请问有什么可以帮您？")
        self.say(external_id, text, customer_id=customer_id)
        escalation = self.escalate(conversation_id, **fields)
        return {"id": conversation_id, "external_id": external_id}, escalation


def agent_for(escalation: dict[str, Any]) -> str:
    """The employee number who should take ``escalation``: the agent it is offered
    or routed to, else the supervisor of its team (who sees the team queue)."""
    for key in ("offered_agent", "target_agent"):
        agent = escalation.get(key)
        if agent:
            return str(agent["employee_no"])
    team = escalation["target_team"]
    code = next(
        t.code for t in TEAMS if t.name == team["name"] or t.code == team.get("code")
    )
    return next(
        a.employee_no for a in AGENTS if a.team == code and a.role == "supervisor"
    )


def shot(page: Page, name: str) -> Path:
    """A screenshot under var/test-artifacts/console-<name>.png (look at it)."""
    return screenshot(page, f"console-{name}")


def shot_of(locator: Locator, name: str) -> Path:
    """A screenshot of one element (a pane taller than the window)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"console-{name}.png"
    locator.screenshot(path=str(path))
    return path
