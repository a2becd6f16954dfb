"""Gateway fixtures: a live CRM, a Rasa stand-in, the gateway as a uvicorn process.

The Rasa stand-in answers the REST channel and the tracker API the way Rasa does,
driven by the message text (``#buttons``, ``#slow``, ``#fail``…), and keeps every
request it got. Tests marked ``rasa`` use the real Rasa and action servers
instead (tests/rasa_fixtures.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.bot.process import Gateway, start_gateway
from tests.live_crm import LiveCrm, start_crm
from tests.ports import free_port
from tests.rasa_fixtures import live_crm, rasa_model, rasa_server

__all__ = [
    "Gateway",
    "live_crm",
    "rasa_model",
    "rasa_server",
    "start_gateway",
]

RASA_TOKEN = "stand-in-rasa-token"
SLOW_SECONDS = 2.5  # longer than the gateway's Rasa timeout in these tests
HANDBACK_TEXT = "感谢您的耐心等待，请为本次服务打分（1-5 分）。"
# Event types Rasa's tracker events API accepts (the ones the gateway may send).
KNOWN_EVENTS = frozenset(
    {"resume", "pause", "action", "user", "bot", "slot", "restart"}
)


# ---- the Rasa stand-in ----------------------------------------------------------


@dataclass
class RasaStandIn:
    """A local HTTP server answering like Rasa; ``requests`` is what it got."""

    url: str
    token: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def got(self, path_part: str, sender: str | None = None) -> list[dict[str, Any]]:
        """The requests whose path contains ``path_part`` (and for ``sender``)."""
        with self.lock:
            found = [r for r in self.requests if path_part in r["path"]]
        if sender is not None:
            found = [r for r in found if r.get("sender") == sender]
        return found


def _answer(message: str, sender: str) -> tuple[int, Any]:
    """The stand-in's turn: echo, or what the test asked for with a #tag."""
    if message.startswith("#slow-ok"):
        time.sleep(0.6)
        return 200, [{"recipient_id": sender, "text": "慢一点的回答"}]
    if message.startswith("#slow"):
        time.sleep(SLOW_SECONDS)
        return 200, [{"recipient_id": sender, "text": "太迟了"}]
    if message.startswith("#fail"):
        return 500, {"status": "failure"}
    if message.startswith("#buttons") or message == "/choose":
        return 200, [
            {
                "recipient_id": sender,
                "text": "请问您想办理哪项业务？",
                "buttons": [
                    {"title": "查询保单", "payload": "/ask_policy"},
                    {"title": "转人工", "payload": "/request_human"},
                ],
            }
        ]
    if message.startswith("#two"):
        return 200, [
            {"recipient_id": sender, "text": "第一条回复"},
            {"recipient_id": sender, "text": "第二条回复"},
        ]
    return 200, [{"recipient_id": sender, "text": f"收到：{message}"}]


def _handler(stand_in: RasaStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: Any) -> tuple[str, dict[str, list[str]]]:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            parts = url.path.strip("/").split("/")
            sender = None
            if url.path.startswith("/conversations/") and len(parts) > 1:
                sender = parts[1]
            elif isinstance(body, dict):
                sender = body.get("sender")
            with stand_in.lock:
                stand_in.requests.append(
                    {
                        "method": self.command,
                        "path": url.path,
                        "query": query,
                        "body": body,
                        "sender": sender,
                    }
                )
            return url.path, query

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path, query = self._record(None)
            if query.get("token") != [stand_in.token]:
                return self._reply(401, {"status": "failure"})
            if path.endswith("/tracker"):
                return self._reply(
                    200,
                    {
                        "latest_message": {
                            "text": "…",
                            "intent": {"name": "greet", "confidence": 0.93},
                            "sentiment": {"score": 0.25},
                        }
                    },
                )
            return self._reply(404, {"status": "failure"})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            path, query = self._record(body)
            if path == "/webhooks/rest/webhook":
                status, answer = _answer(str(body.get("message")), body["sender"])
                return self._reply(status, answer)
            if query.get("token") != [stand_in.token]:
                return self._reply(401, {"status": "failure"})
            if path.endswith("/tracker/events"):
                # Like Rasa: only known event types, an action event needs a name.
                events = body if isinstance(body, list) else [body]
                for event in events:
                    kind = event.get("event") if isinstance(event, dict) else None
                    if kind not in KNOWN_EVENTS or (
                        kind == "action" and not event.get("name")
                    ):
                        return self._reply(400, {"status": "failure", "event": event})
                return self._reply(200, {"events": body})
            if path.endswith("/trigger_intent"):
                sender = path.split("/")[2]
                return self._reply(
                    200,
                    {
                        "tracker": {},
                        "messages": [
                            {
                                "recipient_id": sender,
                                "text": HANDBACK_TEXT,
                                "buttons": [
                                    {"title": f"{n}分", "payload": str(n)}
                                    for n in (5, 4, 3, 2, 1)
                                ],
                            }
                        ],
                    },
                )
            return self._reply(404, {"status": "failure"})

    return Handler


@pytest.fixture(scope="session")
def rasa_stand_in() -> Iterator[RasaStandIn]:
    """The Rasa stand-in on a free loopback port."""
    port = free_port()
    stand_in = RasaStandIn(url=f"http://127.0.0.1:{port}", token=RASA_TOKEN)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(stand_in))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


# ---- the gateway process --------------------------------------------------------


@pytest.fixture(scope="session")
def gateway_port() -> int:
    """The main gateway's port, known before the CRM starts (CRM_GATEWAY_URL)."""
    return free_port()


@pytest.fixture(scope="session")
def crm(
    tmp_path_factory: pytest.TempPathFactory, gateway_port: int
) -> Iterator[LiveCrm]:
    """A live CRM (PostgreSQL when reachable) that posts its events to the gateway."""
    live = start_crm(
        tmp_path_factory.mktemp("gateway-crm"),
        customers=20,
        extra_env={
            "CRM_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
            "CRM_OFFER_TIMEOUT_SECONDS": "600",
        },
    )
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def gateway(
    tmp_path_factory: pytest.TempPathFactory,
    crm: LiveCrm,
    rasa_stand_in: RasaStandIn,
    gateway_port: int,
) -> Iterator[Gateway]:
    """The gateway in front of the live CRM and the Rasa stand-in."""
    started = start_gateway(
        tmp_path_factory.mktemp("gateway"),
        crm_url=crm.url,
        token=crm.token,
        rasa_url=rasa_stand_in.url,
        rasa_token=rasa_stand_in.token,
        port=gateway_port,
    )
    try:
        yield started
    finally:
        started.stop()


# ---- the CRM as the tests read it -----------------------------------------------


class CrmReader:
    """Service-API reads and writes a test needs (the gateway's token)."""

    def __init__(self, crm: LiveCrm):
        """Bound to one live CRM."""
        self.crm = crm
        self.http = httpx.Client(
            base_url=f"{crm.url}/api/v1/service",
            headers={"Authorization": f"Bearer {crm.token}"},
            timeout=10,
        )

    def transcript(self, conversation_id: int) -> list[dict[str, Any]]:
        """The conversation's messages, oldest first (no private notes)."""
        response = self.http.get(
            f"/conversations/{conversation_id}/messages", params={"limit": 200}
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    def conversation_of(self, channel: str, external_id: str) -> int:
        """The id of a channel user's open conversation (opened when none)."""
        response = self.http.post(
            "/conversations", json={"channel": channel, "external_id": external_id}
        )
        assert response.status_code == 200, response.text
        return int(response.json()["id"])

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        """The conversation's state."""
        response = self.http.get(f"/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def escalate(
        self, conversation_id: int, reason: str = "客户要求人工"
    ) -> dict[str, Any]:
        """Escalate as the bot's action would (customer asked for a person)."""
        response = self.http.post(
            "/escalations",
            json={
                "conversation_id": conversation_id,
                "trigger": "customer_request",
                "reason": reason,
            },
        )
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def close(self, conversation_id: int) -> None:
        """Close the conversation (and its escalation)."""
        response = self.http.post(f"/conversations/{conversation_id}/close")
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def crm_reader(crm: LiveCrm) -> Iterator[CrmReader]:
    """Reads of the live CRM."""
    reader = CrmReader(crm)
    try:
        yield reader
    finally:
        reader.http.close()
