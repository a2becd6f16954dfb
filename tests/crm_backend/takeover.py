"""Shared helpers of the human-takeover tests: a desk of agents, escalating through
the service API, console logins that keep the cookie, a local gateway receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.models import Agent, Conversation, Customer, Team
from crm_backend.models.enums import AgentRole
from tests.factories import (
    PASSWORD,
    login,
    make_agent,
    make_conversation,
    make_customer,
    make_team,
)

SERVICE_URL = "/api/v1/service"
AGENT_URL = "/api/v1/agent"


@dataclass
class Desk:
    """A team with online agents, a customer of the team and a bot conversation."""

    team: Team
    agents: list[Agent]
    customer: Customer
    conversation: Conversation


def make_desk(
    session: Session,
    *,
    name: str = "综合服务组",
    topics: list[str] | None = None,
    agents: int = 2,
    names: tuple[str, ...] = ("王芳", "周婷", "李强", "赵敏"),
    customer_name: str = "张伟",
    servicing: Agent | None = None,
) -> Desk:
    """A desk of ``agents`` online agents and a customer (served by ``servicing``,
    by default nobody) whose conversation is still with the bot."""
    team = make_team(session, name=name, topics=topics or ["general"])
    members = [
        make_agent(session, team=team, name=names[i % len(names)])
        for i in range(agents)
    ]
    customer = make_customer(session, name=customer_name, agent=servicing)
    conversation = make_conversation(session, customer=customer)
    return Desk(team, members, customer, conversation)


def escalate(
    client: TestClient, headers: dict[str, str], conversation: Conversation, **body: Any
) -> dict[str, Any]:
    """Escalate through the service API; returns the answer's JSON."""
    payload = {
        "conversation_id": conversation.id,
        "trigger": "customer_request",
        "reason": "客户要求人工服务",
        **body,
    }
    response = client.post(f"{SERVICE_URL}/escalations", json=payload, headers=headers)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def supervisor(session: Session, *, team: Team | None = None) -> Agent:
    """A supervisor (sees and may act on everything)."""
    return make_agent(session, team=team, name="何静怡", role=AgentRole.supervisor)


def cookie_login(client: TestClient, agent: Agent) -> None:
    """Log in as the console does: the ``crm_session`` cookie stays on the client."""
    response = client.post(
        f"{AGENT_URL}/auth/login",
        json={"employee_no": agent.employee_no, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text


def bearer(client: TestClient, agent: Agent) -> dict[str, str]:
    """Bearer headers of ``agent`` (the cookie is dropped)."""
    return login(client, agent)


@dataclass
class Received:
    """One request the fake gateway received."""

    path: str
    authorization: str | None
    body: dict[str, Any]


@dataclass
class Receiver:
    """A tiny real HTTP server standing in for the gateway's ``/internal/events``."""

    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200

    def events(self) -> list[dict[str, Any]]:
        """The bodies received so far, in order."""
        return [r.body for r in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` events arrived (or the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.events()


@contextmanager
def gateway_receiver() -> Iterator[Receiver]:
    """Run the receiver on a free loopback port for the duration of the block."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            receiver.received.append(
                Received(self.path, self.headers.get("Authorization"), body)
            )
            self.send_response(receiver.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
