"""Ticket-notice benchmark: ``make bench-notices`` or ``python -m bench.notices``.

Writes reports/notices.md and reports/notices.json with the latency of complaint
notices to a web customer whose chat is open (docs/takeover.md "Ticket notices"):

  request  the HTTP time of the agent's verb (``POST /api/v1/agent/tickets/{id}/
           update`` with a text, after one ``acknowledge``);
  kicked   verb sent → the customer's socket.io client has the notice (the verb
           wakes the CRM's notice job after its commit, which posts the ``notice``
           event to the gateway, which records and emits it to the chat's room);
  sweep    the customer was away when the verb ran (the gateway answered "not
           connected", the notice stays pending), then opens the chat again at a
           random moment of the sweep interval: reconnect → notice received.

It starts a CRM with a fresh demo book (PostgreSQL at CRM_TEST_DATABASE_URL when
a server answers, else SQLite under var/bench-notices/) and a gateway on free
loopback ports and stops them after; no Rasa (notices do not go through it: the
gateway's Rasa URL points at a closed port). The chat is bound to a demo customer
with no other conversation, as a verification would, and a complaint is opened
through the service API as the bot's form does; the agent is 唐慧 (KN1022) of the
complaints desk. Options: ``--updates N`` (default 100), ``--sweeps N`` (default
6). Takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gateway import TIMEOUT, WebCustomer, summary  # noqa: E402
from tests.bot.customer import bind_free_customer  # noqa: E402
from tests.bot.process import Gateway, start_gateway  # noqa: E402
from tests.live_crm import LiveCrm, start_crm  # noqa: E402
from tests.ports import free_port  # noqa: E402

REPORTS = ROOT / "reports"
WORKDIR = ROOT / "var" / "bench-notices"
AGENT = ("KN1022", "demo1234")  # 唐慧, complaints desk
SWEEP_SECONDS = 5.0  # the CRM's default CRM_NOTICE_SWEEP_SECONDS
WAIT = 20.0  # seconds to wait for one notice before giving up


class ReturningCustomer(WebCustomer):
    """A web customer who can open an earlier chat session again."""

    async def resume(self, session_id: str) -> None:
        """Connect and join ``session_id`` (the page reopened with its stored id)."""
        confirmed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.sio.on("session_confirm", lambda data: confirmed.set_result(data))
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=10)
        await self.sio.emit("session_request", {"session_id": session_id})
        self.session_id = (await asyncio.wait_for(confirmed, 10))["session_id"]
        if self.session_id != session_id:
            raise RuntimeError("the gateway did not resume the chat session")


async def notice_with(customer: WebCustomer, marker: str) -> dict[str, Any]:
    """The next system message carrying ``marker`` (other messages skipped)."""
    while True:
        got = await asyncio.wait_for(customer.received.get(), WAIT)
        sender = (got.get("metadata") or {}).get("sender")
        if sender == "system" and marker in str(got.get("text", "")):
            return got


def attempted_at(db: Engine, ticket_id: int) -> Any:
    """When the ticket's latest notice was last tried (None: not yet)."""
    with db.connect() as conn:
        return conn.execute(
            text(
                "SELECT attempted_at FROM ticket_notices WHERE ticket_id = :t "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"t": ticket_id},
        ).scalar_one()


async def until_tried(db: Engine, ticket_id: int) -> None:
    """Wait until the notice job tried (and missed) the latest notice."""
    deadline = time.monotonic() + WAIT
    while await asyncio.to_thread(attempted_at, db, ticket_id) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the notice job never tried the notice")
        await asyncio.sleep(0.05)


async def measure(
    crm: LiveCrm, gateway: Gateway, updates: int, sweeps: int
) -> dict[str, Any]:
    """Kicked delivery to a connected customer, then the sweep after a reconnect."""
    service = httpx.AsyncClient(
        base_url=f"{crm.url}/api/v1/service",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=TIMEOUT,
    )
    agent = httpx.AsyncClient(base_url=f"{crm.url}/api/v1/agent", timeout=TIMEOUT)
    db = create_engine(crm.database_url)
    customer = WebCustomer(gateway.url)
    rng = random.Random(6)
    try:
        await customer.connect()
        # Rasa is absent: the gateway records the message and answers politely
        await customer.turn("你好，我要投诉")
        found = await service.get(
            "/conversations",
            params={"channel": "web", "external_id": customer.session_id},
        )
        found.raise_for_status()
        conversation_id = found.json()["id"]
        customer_id = await asyncio.to_thread(bind_free_customer, db, conversation_id)
        opened = await service.post(
            "/tickets",
            json={
                "customer_id": customer_id,
                "category": "service_attitude",
                "description": "客服电话一直打不通",
                "conversation_id": conversation_id,
                "channel": "web",
            },
        )
        opened.raise_for_status()
        ticket_no = opened.json()["ticket_no"]
        login = await agent.post(
            "/auth/login", json={"employee_no": AGENT[0], "password": AGENT[1]}
        )
        login.raise_for_status()
        agent.headers["Authorization"] = f"Bearer {login.json()['token']}"
        listed = await agent.get("/tickets", params={"limit": 200})
        listed.raise_for_status()
        [ticket_id] = [
            t["id"] for t in listed.json()["items"] if t["ticket_no"] == ticket_no
        ]

        acknowledged = await agent.post(
            f"/tickets/{ticket_id}/acknowledge", json={"note": "专人已在核查"}
        )
        acknowledged.raise_for_status()
        await notice_with(customer, "确认受理：专人已在核查")

        requests, kicked = [], []
        for number in range(updates):
            marker = f"基准进展第 {number + 1} 条"
            started = time.perf_counter()
            response = await agent.post(
                f"/tickets/{ticket_id}/update",
                json={"text": f"{marker}：我们已联系相关部门核实。"},
            )
            requests.append(time.perf_counter() - started)
            response.raise_for_status()
            got = await notice_with(customer, marker)
            kicked.append(got["at"] - started)

        swept, waited = [], []
        for number in range(sweeps):
            await customer.close()
            marker = f"基准离线进展第 {number + 1} 条"
            response = await agent.post(
                f"/tickets/{ticket_id}/update",
                json={"text": f"{marker}：处理结果将尽快告知。"},
            )
            response.raise_for_status()
            await until_tried(db, ticket_id)
            away = rng.uniform(0, SWEEP_SECONDS)
            waited.append(away)
            await asyncio.sleep(away)  # the customer comes back at a random moment
            returning = ReturningCustomer(gateway.url)
            started = time.perf_counter()
            await returning.resume(customer.session_id)
            got = await notice_with(returning, marker)
            swept.append(got["at"] - started)
            customer = returning
        return {
            "ticket_no": ticket_no,
            "requests": requests,
            "kicked": kicked,
            "swept": swept,
            "away": waited,
        }
    finally:
        await customer.close()
        await service.aclose()
        await agent.aclose()
        db.dispose()


# ---------------------------------------------------------------- report


def write_report(data: dict[str, Any]) -> None:
    """reports/notices.md (for people) and reports/notices.json (for tools)."""
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "notices.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

    def row(label: str, s: dict[str, Any]) -> str:
        cells = [label, *(str(s[key]) for key in ("n", "p50", "p95", "mean", "max"))]
        return "| " + " | ".join(cells) + " |"

    lines = [
        "# Ticket-notice benchmark",
        "",
        f"Run {data['finished_at']} on {data['machine']}; written by"
        " `make bench-notices` (bench/notices.py, which starts and stops the CRM and"
        " the gateway itself).",
        "",
        f"Stack: CRM on {data['database']} with a fresh demo book (200 customers),"
        " gateway (`uvicorn bot.main:app`, one process), no Rasa; everything on"
        f" loopback. Notice sweep interval: {data['sweep_seconds']:g} s (the default"
        " `CRM_NOTICE_SWEEP_SECONDS`).",
        "",
        "A web customer's chat is bound to a demo customer and a complaint is opened"
        " for them; 唐慧 (KN1022, complaints desk) acknowledges it once, then sends"
        " updates with a text (`POST /api/v1/agent/tickets/{id}/update`) one after"
        " the other while the chat is open.",
        "",
        "| measure | n | p50 ms | p95 ms | mean ms | max ms |",
        "|---|---|---|---|---|---|",
        row("verb request alone (HTTP answer)", data["request"]),
        row("verb sent → customer has the notice", data["kicked"]),
        row("reconnect → pending notice (sweep)", data["sweep"]),
        "",
        "Verb → customer: the CRM commits the ticket event and its notice, wakes its"
        " notice job, which claims the notice, posts the `notice` event to the"
        " gateway's `/internal/events`, and the gateway records it as a system"
        " message and emits `bot_uttered` to the chat's room (the notice may reach"
        " the customer before the verb's HTTP answer does).",
        "",
        "Sweep: the customer closed the chat before the verb; the job's immediate"
        " try was answered `not_connected` and the notice stayed pending. The"
        " customer reopened the chat (same session id) at a random moment"
        f" {data['away_ms']['min']}–{data['away_ms']['max']} ms after that try;"
        " the next pass of the job (one try per notice per interval) delivered it."
        " The wait is bounded by the interval: at most one interval after the"
        " reconnect, plus a pass.",
        "",
    ]
    (REPORTS / "notices.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    """Start the CRM and the gateway, measure, write the report, stop them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--sweeps", type=int, default=6)
    args = parser.parse_args()
    WORKDIR.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]  # the machine may be shared with other jobs
    gateway_port = free_port()
    print("==> starting the CRM (demo book) and the gateway (no Rasa)")
    crm = start_crm(
        WORKDIR / "crm",
        customers=200,
        extra_env={
            "CRM_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}",
            "CRM_NOTICE_SWEEP_SECONDS": f"{SWEEP_SECONDS:g}",
        },
    )
    try:
        gateway = start_gateway(
            WORKDIR,
            crm_url=crm.url,
            token=crm.token,
            rasa_url=f"http://127.0.0.1:{free_port()}",  # nothing listens
            rasa_token="none",
            port=gateway_port,
        )
        try:
            print(f"==> {args.updates} updates, {args.sweeps} reconnects")
            results = asyncio.run(measure(crm, gateway, args.updates, args.sweeps))
        finally:
            gateway.stop()
    finally:
        crm.stop()
    data: dict[str, Any] = {
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}, 1-minute load {load:.1f} at the start",
        "database": "PostgreSQL"
        if crm.database_url.startswith("postgresql")
        else "SQLite",
        "sweep_seconds": SWEEP_SECONDS,
        "updates": args.updates,
        "request": summary(results["requests"]),
        "kicked": summary(results["kicked"]),
        "sweep": summary(results["swept"]),
        "sweep_samples_ms": [
            {"reconnected_after_try": round(a * 1000), "received": round(s * 1000)}
            for a, s in zip(results["away"], results["swept"], strict=True)
        ],
        "away_ms": {
            "min": round(min(results["away"]) * 1000),
            "max": round(max(results["away"]) * 1000),
        },
    }
    write_report(data)
    print((REPORTS / "notices.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
