"""A local stand-in for WeChat's server API: ``GET /cgi-bin/token`` and
``POST /cgi-bin/message/custom/send``, on a real loopback HTTP server.

It answers the way WeChat does (``errcode``/``errmsg``), records every message
it accepted, rejects unknown (40001) and expired (42001) tokens, and can be told
to be busy (-1) or to refuse a user whose 48-hour window closed (45015).
Standard library only, so bench/wechat.py can use it outside pytest.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Sent:
    """One customer-service message WeChat accepted."""

    openid: str
    content: str
    at: float
    raw_utf8: bool  # the body carried UTF-8 text, not \\uXXXX escapes


@dataclass
class FakeWechat:
    """The fake's state; tests read ``sent`` and steer the next answers."""

    url: str
    app_id: str
    app_secret: str
    token_delay: float = 0.0  # seconds /cgi-bin/token takes (refresh races)
    sent: list[Sent] = field(default_factory=list)
    token_fetches: int = 0
    refused: list[tuple[str, int]] = field(default_factory=list)
    busy: int = 0  # the next N sends answer -1 (system busy)
    window_closed: set[str] = field(default_factory=set)
    _valid: set[str] = field(default_factory=set)
    _expired: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_tokens(self) -> None:
        """Every token issued so far expires (the next send answers 42001)."""
        with self.lock:
            self._expired |= self._valid
            self._valid.clear()

    def to(self, openid: str) -> list[str]:
        """The texts sent to one user, in order."""
        with self.lock:
            return [s.content for s in self.sent if s.openid == openid]

    def wait_for(self, openid: str, count: int = 1, timeout: float = 15.0) -> list[str]:
        """At least ``count`` texts sent to the user (waits up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.to(openid)
            if len(texts) >= count:
                return texts
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) expected, got {self.to(openid)}")

    def wait_text(self, openid: str, part: str, timeout: float = 15.0) -> str:
        """The first text sent to the user that contains ``part`` (waits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [text for text in self.to(openid) if part in text]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"nothing with {part!r} in {self.to(openid)}")

    def issue(self) -> str:
        """A new token (called by the handler)."""
        token = f"T{secrets.token_hex(12)}"
        with self.lock:
            self.token_fetches += 1
            self._valid.add(token)
        return token

    def check(self, token: str) -> int:
        """0 for a valid token, else WeChat's error code."""
        with self.lock:
            if token in self._valid:
                return 0
            return 42001 if token in self._expired else 40001


class Server(ThreadingHTTPServer):
    """A threading server with a listen backlog for load (the default is 5)."""

    daemon_threads = True
    request_queue_size = 256


def _handler(fake: FakeWechat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)  # WeChat answers errors with HTTP 200 too
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != "/cgi-bin/token":
                return self._reply({"errcode": 40066, "errmsg": "invalid url"})
            if query.get("grant_type") != "client_credential":
                return self._reply({"errcode": 40002, "errmsg": "invalid grant_type"})
            if query.get("appid") != fake.app_id:
                return self._reply({"errcode": 40013, "errmsg": "invalid appid"})
            if query.get("secret") != fake.app_secret:
                return self._reply({"errcode": 40125, "errmsg": "invalid appsecret"})
            if fake.token_delay:
                time.sleep(fake.token_delay)
            self._reply({"access_token": fake.issue(), "expires_in": 7200})

        def do_POST(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path != "/cgi-bin/message/custom/send":
                return self._reply({"errcode": 40066, "errmsg": "invalid url"})
            code = fake.check(query.get("access_token", ""))
            if code:
                with fake.lock:
                    fake.refused.append(("token", code))
                return self._reply({"errcode": code, "errmsg": "invalid credential"})
            try:
                body = json.loads(raw.decode("utf-8"))
                openid = str(body["touser"])
                content = str(body["text"]["content"])
            except (ValueError, KeyError, TypeError):
                return self._reply({"errcode": 44002, "errmsg": "empty post data"})
            with fake.lock:
                if fake.busy > 0:
                    fake.busy -= 1
                    fake.refused.append((openid, -1))
                    return self._reply({"errcode": -1, "errmsg": "system error"})
                if openid in fake.window_closed:
                    fake.refused.append((openid, 45015))
                    return self._reply(
                        {"errcode": 45015, "errmsg": "response out of time limit"}
                    )
                fake.sent.append(
                    Sent(
                        openid=openid,
                        content=content,
                        at=time.monotonic(),
                        raw_utf8=b"\\u" not in raw,
                    )
                )
            self._reply({"errcode": 0, "errmsg": "ok"})

    return Handler


@contextmanager
def running_fake_wechat(
    *, app_id: str = "wx-test-app", app_secret: str = "test-secret", port: int = 0
) -> Iterator[FakeWechat]:
    """The fake on a free loopback port (``port`` 0), stopped after."""
    server = Server(("127.0.0.1", port), BaseHTTPRequestHandler)
    fake = FakeWechat(
        url=f"http://127.0.0.1:{server.server_address[1]}",
        app_id=app_id,
        app_secret=app_secret,
    )
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
