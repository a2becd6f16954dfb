"""The whole takeover stack as real processes, for the browser end-to-end tests.

A CRM on PostgreSQL (when reachable) with a small demo book that posts its events to
the gateway, the rasa-sdk action server (talking to that CRM), a Rasa server with
the session's test model, and the gateway in front of Rasa and the CRM. Rasa's
model load is the slow part, so Rasa starts first and loads while the CRM is
migrated and filled.

The helpers of tests/rasa_fixtures.py, tests/live_crm.py, tests/bot/process.py are
reused; the ``rasa_server`` fixture itself cannot be, because its action server is
bound to the session's ``live_crm`` (which posts no events to any gateway).
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.bot.process import Gateway, start_gateway
from tests.console.support import PASSWORD
from tests.live_crm import LiveCrm, start_crm
from tests.ports import free_port
from tests.rasa_fixtures import ROOT, RasaServer, _start, _stop, _wait_ready

# The gateway waits this long for a Rasa turn (real NLU and actions on 2 cores).
RASA_TURN_SECONDS = "60"


@dataclass
class Stack:
    """Every process of the takeover, and clients of the CRM's two APIs."""

    crm: LiveCrm
    rasa: RasaServer
    gateway: Gateway
    offer_timeout: int
    service: httpx.Client = field(init=False)
    _agents: dict[str, httpx.Client] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The service-token client (what the gateway and actions use)."""
        self.service = httpx.Client(
            base_url=f"{self.crm.url}/api/v1/service",
            headers={"Authorization": f"Bearer {self.crm.token}"},
            timeout=15,
        )

    # ---- the service API ----------------------------------------------------

    def get(self, path: str) -> Any:
        """GET a service-API resource (asserting 200)."""
        response = self.service.get(path)
        assert response.status_code == 200, f"{path}: {response.text}"
        return response.json()

    def conversation_of(self, session_id: str) -> dict[str, Any]:
        """A web chat session's open conversation (as the gateway sees it)."""
        response = self.service.post(
            "/conversations", json={"channel": "web", "external_id": session_id}
        )
        assert response.status_code == 200, response.text
        return self.get(f"/conversations/{response.json()['id']}")

    def escalation(self, escalation_id: int) -> dict[str, Any]:
        """An escalation as the bot sees it (routing, offer, call-back, csat)."""
        return dict(self.get(f"/escalations/{escalation_id}"))

    def transcript(self, conversation_id: int) -> list[dict[str, Any]]:
        """The customer-visible transcript, oldest first."""
        return list(
            self.get(f"/conversations/{conversation_id}/messages?limit=200")["items"]
        )

    def close(self, conversation_id: int) -> None:
        """Close a conversation (and its escalation): agents' load goes back."""
        response = self.service.post(f"/conversations/{conversation_id}/close")
        assert response.status_code == 200, response.text

    def wait_for(
        self, what: str, check: Any, *, timeout: float = 30, every: float = 0.3
    ) -> Any:
        """Poll ``check()`` until it returns something truthy; fail with ``what``."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last!r}")

    # ---- the agent API ------------------------------------------------------

    def agent(self, employee_no: str) -> httpx.Client:
        """An agent logged in through the API (bearer token), cached."""
        if employee_no not in self._agents:
            client = httpx.Client(base_url=f"{self.crm.url}/api/v1/agent", timeout=15)
            response = client.post(
                "/auth/login",
                json={"employee_no": employee_no, "password": PASSWORD},
            )
            assert response.status_code == 200, response.text
            client.headers["Authorization"] = f"Bearer {response.json()['token']}"
            self._agents[employee_no] = client
        return self._agents[employee_no]

    def presence(self, employee_no: str, presence: str) -> None:
        """Set an agent's presence through the agent API (online/away/offline)."""
        response = self.agent(employee_no).post(
            "/me/presence", json={"presence": presence}
        )
        assert response.status_code == 200, response.text
        assert response.json()["presence"] == presence, response.text

    @contextmanager
    def offline(self, *employee_nos: str) -> Iterator[None]:
        """These agents offline for the block, online again after."""
        try:
            for employee_no in employee_nos:
                self.presence(employee_no, "offline")
            yield
        finally:
            for employee_no in employee_nos:
                self.presence(employee_no, "online")

    def shutdown(self) -> None:
        """Close the clients (the processes are stopped by ``running_stack``)."""
        for client in self._agents.values():
            client.close()
        self.service.close()


def _rasa_args(port: int, model: Path, endpoints: Path, token: str) -> list[Any]:
    return [
        "run",
        "--enable-api",
        "-i",
        "127.0.0.1",
        "-p",
        port,
        "--model",
        model,
        "--endpoints",
        endpoints,
        "--credentials",
        ROOT / "credentials.yml",
        "--auth-token",
        token,
    ]


@contextmanager
def running_stack(
    workdir: Path,
    *,
    model: Path,
    offer_timeout: int,
    sweep_seconds: float = 0.5,
    customers: int = 40,
) -> Iterator[Stack]:
    """Start CRM, action server, Rasa and gateway; stop them all afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    gateway_port, action_port, rasa_port = free_port(), free_port(), free_port()
    action_url = f"http://127.0.0.1:{action_port}"
    rasa = RasaServer(
        url=f"http://127.0.0.1:{rasa_port}",
        token=secrets.token_hex(16),
        action_url=action_url,
    )
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"action_endpoint": {"url": f"{action_url}/webhook"}}),
        encoding="utf-8",
    )
    processes: list[subprocess.Popen[bytes]] = []
    crm: LiveCrm | None = None
    gateway: Gateway | None = None
    stack: Stack | None = None
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    with action_log.open("wb") as alog, rasa_log.open("wb") as rlog:
        try:
            # Rasa loads the model (the slow part) while the CRM is prepared.
            rasa_process = _start(
                _rasa_args(rasa_port, model, endpoints, rasa.token), rlog
            )
            processes.append(rasa_process)
            crm = start_crm(
                workdir / "crm",
                customers=customers,
                extra_env={
                    "CRM_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
                    "CRM_OFFER_TIMEOUT_SECONDS": str(offer_timeout),
                    "CRM_OFFER_SWEEP_SECONDS": str(sweep_seconds),
                },
            )
            actions = _start(["run", "actions", "-p", action_port], alog, **crm.env())
            processes.append(actions)
            gateway = start_gateway(
                workdir / "gateway",
                crm_url=crm.url,
                token=crm.token,
                rasa_url=rasa.url,
                rasa_token=rasa.token,
                port=gateway_port,
                extra_env={"GATEWAY_RASA_TIMEOUT_SECONDS": RASA_TURN_SECONDS},
            )
            _wait_ready(
                {
                    "action server": (actions, f"{action_url}/health", action_log),
                    "rasa server": (
                        rasa_process,
                        f"{rasa.url}/status?token={rasa.token}",
                        rasa_log,
                    ),
                }
            )
            stack = Stack(
                crm=crm, rasa=rasa, gateway=gateway, offer_timeout=offer_timeout
            )
            yield stack
        finally:
            if stack is not None:
                stack.shutdown()
            if gateway is not None:
                gateway.stop()
            for process in reversed(processes):
                _stop(process)
            if crm is not None:
                crm.stop()
