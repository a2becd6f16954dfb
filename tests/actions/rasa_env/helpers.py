"""Test helpers for the action tests: a tracker builder and a tiny local CRM."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parents[3]

SUMMARY = {
    "id": 7,
    "customer_no": "C00000007",
    "name": "张*",
    "salutation": "张先生",
    "gender": "male",
    "age": 42,
    "region": "广东",
    "city": "深圳",
    "phone_masked": "138****5678",
    "email_masked": None,
    "id_number_masked": "**************1234",
    "value_tier": "gold",
    "churn_risk": "low",
    "wechat_bound": True,
    "servicing_agent": {
        "id": 3,
        "name": "李娜",
        "employee_no": "E0003",
        "role": "account_manager",
        "role_label": "客户经理",
        "work_phone": "0755-8888",
        "departed": False,
    },
    "added_later": "ignored",
}


def load_domain() -> dict[str, Any]:
    """The project's domain (all of domain/) as the action server receives it."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


def make_tracker(
    slots: dict[str, Any] | None = None, sender_id: str = "conv-1"
) -> Tracker:
    """A tracker with the given slot values and no events."""
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message={},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@dataclass
class FakeCrm:
    """What the fake CRM saw: the Authorization header of every request."""

    url: str
    authorizations: list[str | None] = field(default_factory=list)


def _handler(crm: FakeCrm, slow_seconds: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: Any, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            crm.authorizations.append(self.headers.get("Authorization"))
            prefix = "/api/v1/service/customers/"
            if self.path == "/health":
                self._send(200, {"status": "ok"})
            elif self.path == prefix + "7":
                self._send(200, SUMMARY)
            elif self.path == prefix + "404":
                error = {"code": "not_found", "message": "Customer 404 not found"}
                self._send(404, {"error": error})
            elif self.path == prefix + "401":
                error = {"code": "unauthorized", "message": "A valid token is required"}
                self._send(401, {"error": error})
            elif self.path == prefix + "500":
                self._send(500, None, raw=b"Internal Server Error")
            elif self.path == prefix + "8":
                self._send(200, {"id": 8})
            elif self.path == prefix + "9":
                self._send(200, None, raw=b"<html>proxy page</html>")
            elif self.path == prefix + "10":
                time.sleep(slow_seconds)
                self._send(200, SUMMARY)
            else:
                self._send(404, {"error": {"code": "not_found", "message": "no route"}})

    return Handler


@contextmanager
def fake_crm(slow_seconds: float = 1.0) -> Iterator[FakeCrm]:
    """Serve the fake CRM on a loopback port in a thread for the block's duration."""
    crm = FakeCrm(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(crm, slow_seconds))
    server.daemon_threads = True
    crm.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield crm
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
