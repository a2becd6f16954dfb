"""WeChat channel fixtures: the fake WeChat API, a Rasa stand-in whose turns can
be slow, a live CRM posting its events to a gateway with WeChat configured, and
that gateway as a real uvicorn process.

The stand-in answers Rasa's REST channel by the message text: ``#sleep N``
sleeps N seconds, ``#buttons`` offers two quick replies, ``#two`` answers twice,
``#long`` answers with a text longer than one WeChat message; anything else is
echoed (``收到：…``). Every request is kept, so tests count turns per sender.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.bot.process import Gateway, start_gateway
from tests.bot.wechat.fake_api import FakeWechat, Server, running_fake_wechat
from tests.bot.wechat.player import AES_KEY, APP_ID, APP_SECRET, TOKEN, WechatServer
from tests.live_crm import LiveCrm, start_crm
from tests.ports import free_port

T = TypeVar("T")
RASA_TOKEN = "wechat-stand-in-token"
PASSIVE_SECONDS = 2.0  # the gateway's passive window in these tests
SLOW = 3.5  # a turn this slow misses it
CSAT_TEXT = "感谢您的耐心等待，请为本次服务打分（1-5 分）。"
LONG_TEXT = "保单信息" * 300  # 3,600 bytes: more than one WeChat message


@dataclass
class SlowRasa:
    """A Rasa stand-in: REST channel, tracker, tracker events, trigger_intent."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def turns(self, sender: int | str) -> list[dict[str, Any]]:
        """The REST turns Rasa got for one conversation."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r["path"] == "/webhooks/rest/webhook"
                and str(r["body"].get("sender")) == str(sender)
            ]

    def turns_with(self, message: str) -> list[dict[str, Any]]:
        """The REST turns whose message was exactly ``message``."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r["path"] == "/webhooks/rest/webhook"
                and r["body"].get("message") == message
            ]


def _answer(message: str, sender: str) -> list[dict[str, Any]]:
    if message.startswith("#sleep"):
        time.sleep(float(message.split()[1]))
        return [{"recipient_id": sender, "text": "慢回复"}]
    if message.startswith("#buttons"):
        return [
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
        return [
            {"recipient_id": sender, "text": "第一条回复"},
            {"recipient_id": sender, "text": "第二条回复"},
        ]
    if message.startswith("#long"):
        return [
            {"recipient_id": sender, "text": "简短的开头"},
            {"recipient_id": sender, "text": LONG_TEXT},
        ]
    return [{"recipient_id": sender, "text": f"收到：{message}"}]


def _handler(rasa: SlowRasa) -> type[BaseHTTPRequestHandler]:
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
            with rasa.lock:
                rasa.requests.append({"path": url.path, "body": body or {}})
            return url.path, parse_qs(url.query)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path, query = self._record(None)
            if query.get("token") != [RASA_TOKEN] or not path.endswith("/tracker"):
                return self._reply(404, {"status": "failure"})
            latest = {"intent": {"name": "greet", "confidence": 0.9}, "sentiment": 0.1}
            self._reply(200, {"latest_message": latest})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            path, query = self._record(body)
            if path == "/webhooks/rest/webhook":
                sender = str(body["sender"])
                return self._reply(200, _answer(str(body.get("message")), sender))
            if query.get("token") != [RASA_TOKEN]:
                return self._reply(401, {"status": "failure"})
            if path.endswith("/tracker/events"):
                return self._reply(200, {"events": body})
            if path.endswith("/trigger_intent"):
                buttons = [{"title": f"{n}分", "payload": str(n)} for n in (5, 4, 3)]
                message = {"text": CSAT_TEXT, "buttons": buttons}
                return self._reply(200, {"tracker": {}, "messages": [message]})
            return self._reply(404, {"status": "failure"})

    return Handler


@pytest.fixture(scope="session")
def slow_rasa() -> Iterator[SlowRasa]:
    """The Rasa stand-in on a free loopback port."""
    server = Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    rasa = SlowRasa(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield rasa
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def fake_wechat() -> Iterator[FakeWechat]:
    """WeChat's token and customer-service message API, faked on loopback."""
    with running_fake_wechat(app_id=APP_ID, app_secret=APP_SECRET) as fake:
        yield fake


def wechat_env(fake: FakeWechat, **extra: str) -> dict[str, str]:
    """The gateway's WeChat settings for tests."""
    return {
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_AES_KEY": AES_KEY,
        "WECHAT_API_BASE": fake.url,
        "GATEWAY_WECHAT_PASSIVE_SECONDS": str(PASSIVE_SECONDS),
        "GATEWAY_RASA_TIMEOUT_SECONDS": "10",
        **extra,
    }


@pytest.fixture(scope="session")
def wx_port() -> int:
    """The WeChat gateway's port (the CRM posts its events there)."""
    return free_port()


@pytest.fixture(scope="session")
def wx_crm(tmp_path_factory: pytest.TempPathFactory, wx_port: int) -> Iterator[LiveCrm]:
    """A live CRM whose events go to the WeChat gateway."""
    live = start_crm(
        tmp_path_factory.mktemp("wechat-crm"),
        customers=20,
        extra_env={
            "CRM_GATEWAY_URL": f"http://127.0.0.1:{wx_port}",
            "CRM_OFFER_TIMEOUT_SECONDS": "600",
        },
    )
    try:
        yield live
    finally:
        live.stop()


def start_wechat_gateway(
    workdir: Path,
    crm: LiveCrm,
    rasa_url: str,
    fake: FakeWechat,
    *,
    port: int | None = None,
    rasa_token: str = RASA_TOKEN,
    **extra: str,
) -> Gateway:
    """A gateway process with WeChat configured (``extra``: more settings)."""
    return start_gateway(
        workdir,
        crm_url=crm.url,
        token=crm.token,
        rasa_url=rasa_url,
        rasa_token=rasa_token,
        port=port,
        extra_env=wechat_env(fake, **extra),
    )


@pytest.fixture(scope="session")
def wx_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    wx_crm: LiveCrm,
    slow_rasa: SlowRasa,
    fake_wechat: FakeWechat,
    wx_port: int,
) -> Iterator[Gateway]:
    """The gateway with WeChat on, in front of the live CRM and the stand-in."""
    gateway = start_wechat_gateway(
        tmp_path_factory.mktemp("wechat-gateway"),
        wx_crm,
        slow_rasa.url,
        fake_wechat,
        port=wx_port,
    )
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
def wx(wx_gateway: Gateway) -> WechatServer:
    """WeChat's server, posting to the gateway."""
    return WechatServer(wx_gateway.url)


class CrmDb:
    """Direct reads and writes of the live CRM's database (what no API offers)."""

    def __init__(self, crm: LiveCrm):
        """An engine on the CRM's database."""
        self.engine: Engine = create_engine(crm.database_url)

    def scalar(self, sql: str, **params: Any) -> Any:
        """One value."""
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """Every row."""
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def execute(self, sql: str, **params: Any) -> None:
        """A write, committed."""
        with self.engine.begin() as connection:
            connection.execute(text(sql), params)

    def conversation_id(self, openid: str) -> int | None:
        """The newest WeChat conversation of an openid (None: there is none)."""
        return self.scalar(
            "SELECT max(id) FROM conversations WHERE channel = 'wechat' "
            "AND external_id = :openid",
            openid=openid,
        )

    def messages(self, openid: str) -> list[Any]:
        """Every message of the openid's conversations, oldest first."""
        return self.rows(
            "SELECT m.sender, m.text, m.external_msg_id, m.private, m.payload "
            "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.channel = 'wechat' AND c.external_id = :openid ORDER BY m.id",
            openid=openid,
        )


@pytest.fixture(scope="session")
def crm_db(wx_crm: LiveCrm) -> Iterator[CrmDb]:
    """The live CRM's database."""
    db = CrmDb(wx_crm)
    try:
        yield db
    finally:
        db.engine.dispose()


@pytest.fixture(scope="session")
def service(wx_crm: LiveCrm) -> Iterator[httpx.Client]:
    """The CRM's service API with the service token."""
    client = httpx.Client(
        base_url=f"{wx_crm.url}/api/v1/service",
        headers={"Authorization": f"Bearer {wx_crm.token}"},
        timeout=15,
    )
    yield client
    client.close()


@pytest.fixture(scope="session")
def supervisor(wx_crm: LiveCrm) -> Iterator[httpx.Client]:
    """曹丽华 (KN1031), supervisor of the general desk, logged in."""
    client = httpx.Client(base_url=f"{wx_crm.url}/api/v1/agent", timeout=15)
    response = client.post(
        "/auth/login", json={"employee_no": "KN1031", "password": "demo1234"}
    )
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    yield client
    client.close()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: Playwright's sync API keeps a loop
    running in the main thread of a worker that also ran browser tests."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def redis_url() -> str:
    """The Redis the multi-process tests use."""
    return os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
