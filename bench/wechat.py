"""WeChat benchmark: ``make bench-wechat`` or ``.venv/bin/python -m bench.wechat``.

Writes reports/wechat.md and reports/wechat.json with, for 8 and 32 WeChat users
chatting at once (each one waits for the bot's answer, then types the next
message of the script: greeting, an FAQ, a claim enquiry that verifies identity
and runs custom actions against the CRM, thanks):

  passive   the share of turns answered passively within WeChat's 5 seconds
            (the gateway answers at 4.5 s at the latest), and their latency;
  async     turns that missed the window: the time from WeChat's callback until
            the reply reached the customer-service message API;
  storm     every callback sent three times at once (WeChat's retries): turns
            run and replies delivered per message (must be exactly one);
  API only  a gateway whose passive window is 50 ms, so every reply goes
            through the API: the time to the async reply under the same load.

WeChat's side is played with wechatpy's signing and crypto (safe mode); its
token and customer-service API is the local fake of tests/bot/wechat. The stack
(CRM with a fresh demo book, action server, Rasa with ``models/current.tar.gz``
or ``--model``, gateway) is started on free loopback ports and stopped after,
as bench/gateway.py does. Takes 4–8 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import gateway as gateway_bench  # noqa: E402
from bench.gateway import percentile  # noqa: E402
from tests.bot.process import Gateway, start_gateway  # noqa: E402
from tests.bot.wechat.fake_api import FakeWechat, running_fake_wechat  # noqa: E402
from tests.bot.wechat.player import (  # noqa: E402
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    WechatServer,
    new_msg_id,
    new_openid,
    text_xml,
)
from tests.live_crm import LiveCrm, start_crm  # noqa: E402

REPORTS = ROOT / "reports"
WORKDIR = ROOT / "var" / "bench-wechat"
SCRIPT = gateway_bench.SCRIPT
LIMIT = 5.0  # WeChat's passive window
ASYNC_TIMEOUT = 60.0
PAUSE = 0.5  # seconds a customer takes to type the next message


def summary(values: list[float]) -> dict[str, float | int] | None:
    """n, p50, p95 and max in milliseconds (None for nothing)."""
    if not values:
        return None
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 0.50), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "max": round(max(ms), 1),
    }


class Turns:
    """What happened to each turn of one load level."""

    def __init__(self) -> None:
        """Nothing yet."""
        self.passive: list[float] = []  # seconds until the passive answer
        self.late: list[float] = []  # passive, but after 5 s (WeChat gave up)
        self.async_: list[float] = []  # seconds until the API had the reply
        self.lost = 0  # "success" and nothing through the API in time
        self.passive_answers: list[int] = []  # per message: must be 0 or 1
        self.deliveries: list[int] = []  # per message: passive + API messages

    def stats(self) -> dict[str, Any]:
        """The level's figures."""
        total = len(self.passive) + len(self.late) + len(self.async_) + self.lost
        on_time = len(self.passive)
        return {
            "turns": total,
            "passive_within_5s": on_time,
            "passive_share": round(on_time / total, 4) if total else None,
            "passive_latency": summary(self.passive),
            "late_passive": len(self.late),
            "async": len(self.async_),
            "async_latency": summary(self.async_),
            "lost": self.lost,
            "passive_answers_per_message": sorted(set(self.passive_answers)),
            "deliveries_per_message": {
                str(n): self.deliveries.count(n) for n in sorted(set(self.deliveries))
            },
        }


async def api_reply(fake: FakeWechat, openid: str, before: int) -> float | None:
    """Monotonic time the API got a new message for the user (None: never)."""
    deadline = time.monotonic() + ASYNC_TIMEOUT
    while time.monotonic() < deadline:
        with fake.lock:
            sent = [s for s in fake.sent if s.openid == openid]
        if len(sent) > before:
            return sent[before].at
        await asyncio.sleep(0.02)
    return None


async def customer(
    wx: WechatServer,
    fake: FakeWechat,
    client: httpx.AsyncClient,
    results: Turns,
    *,
    copies: int,
) -> None:
    """One WeChat user through the script (each callback sent ``copies`` times)."""
    openid = new_openid()
    for text in SCRIPT:
        xml = text_xml(openid, text, new_msg_id())
        before = len(fake.to(openid))
        started = time.monotonic()
        answers = await asyncio.gather(
            *(wx.apost(client, xml, mode="safe") for _ in range(copies))
        )
        passive = [a for a in answers if a.text is not None]
        for answer in passive:
            (results.passive if answer.seconds <= LIMIT else results.late).append(
                answer.seconds
            )
        if not passive:
            got = await api_reply(fake, openid, before)
            if got is None:
                results.lost += 1
            else:
                results.async_.append(got - started)
        await asyncio.sleep(PAUSE)
        results.passive_answers.append(len(passive))
        results.deliveries.append(len(passive) + len(fake.to(openid)) - before)


async def level(
    wx: WechatServer, fake: FakeWechat, users: int, *, copies: int = 1
) -> dict[str, Any]:
    """``users`` WeChat users at once; the level's figures."""
    results = Turns()
    limits = httpx.Limits(max_connections=users * copies + 10)
    async with httpx.AsyncClient(limits=limits) as client:
        started = time.monotonic()
        await asyncio.gather(
            *(customer(wx, fake, client, results, copies=copies) for _ in range(users))
        )
        seconds = time.monotonic() - started
    stats = results.stats()
    stats.update(users=users, copies=copies, seconds=round(seconds, 1))
    return stats


def wechat_gateway(
    crm: LiveCrm, rasa_url: str, rasa_token: str, fake: FakeWechat, passive: float
) -> Gateway:
    """A gateway with WeChat on, pointed at the fake API."""
    return start_gateway(
        WORKDIR,
        crm_url=crm.url,
        token=crm.token,
        rasa_url=rasa_url,
        rasa_token=rasa_token,
        extra_env={
            "WECHAT_TOKEN": TOKEN,
            "WECHAT_APP_ID": APP_ID,
            "WECHAT_APP_SECRET": APP_SECRET,
            "WECHAT_AES_KEY": AES_KEY,
            "WECHAT_API_BASE": fake.url,
            "GATEWAY_WECHAT_PASSIVE_SECONDS": str(passive),
            "GATEWAY_RASA_TIMEOUT_SECONDS": "30",
        },
    )


def measure(crm: LiveCrm, rasa_url: str, token: str, levels: list[int]) -> Any:
    """Every scenario against one stack."""
    data: dict[str, Any] = {"levels": [], "storm": None, "api_only": None}
    with running_fake_wechat(app_id=APP_ID, app_secret=APP_SECRET) as fake:
        gateway = wechat_gateway(crm, rasa_url, token, fake, 4.5)
        try:
            wx = WechatServer(gateway.url)
            print("==> warm-up: 2 users")
            asyncio.run(level(wx, fake, 2))
            for users in levels:
                print(f"==> {users} users × {len(SCRIPT)} turns")
                data["levels"].append(asyncio.run(level(wx, fake, users)))
            print(f"==> retry storm: {levels[0]} users, every callback 3×")
            data["storm"] = asyncio.run(level(wx, fake, levels[0], copies=3))
        finally:
            gateway.stop()
        fast = wechat_gateway(crm, rasa_url, token, fake, 0.05)
        try:
            print(f"==> API only: {levels[0]} users, 50 ms passive window")
            wx = WechatServer(fast.url)
            data["api_only"] = asyncio.run(level(wx, fake, levels[0]))
        finally:
            fast.stop()
        data["token_fetches"] = fake.token_fetches
    return data


def cell(stats: dict[str, Any] | None, key: str) -> str:
    """A latency figure or –."""
    return "–" if not stats else str(stats[key])


def write_report(data: dict[str, Any]) -> None:
    """reports/wechat.md (for people) and reports/wechat.json (for tools)."""
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "wechat.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

    def row(label: str, s: dict[str, Any]) -> str:
        share = "–" if s["passive_share"] is None else f"{s['passive_share']:.1%}"
        p, a = s["passive_latency"], s["async_latency"]
        cells = [
            label,
            str(s["turns"]),
            f"{share} ({s['passive_within_5s']})",
            cell(p, "p50"),
            cell(p, "p95"),
            str(s["async"]),
            cell(a, "p50"),
            cell(a, "p95"),
            cell(a, "max"),
            str(s["late_passive"] + s["lost"]),
        ]
        return "| " + " | ".join(cells) + " |"

    header = [
        "| load | turns | passive ≤ 5 s | passive p50 ms | passive p95 ms"
        " | async | async p50 ms | async p95 ms | async max ms | late or lost |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    storm, api_only = data["storm"], data["api_only"]
    lines = [
        "# WeChat benchmark",
        "",
        f"Run {data['finished_at']} on {data['machine']}; written by"
        " `make bench-wechat` (bench/wechat.py starts and stops the whole stack).",
        "",
        "Load average (1, 5, 15 min) of the machine before the run"
        f" {data['load_average']['before']}, after {data['load_average']['after']}"
        " (other work on the machine shares its cores).",
        "",
        f"Stack: CRM on {data['database']}, Rasa model `{data['model']}`, action"
        " server, gateway (`uvicorn bot.main:app`, one process, no Redis), the fake"
        " WeChat API of tests/bot/wechat; everything on loopback. WeChat's server"
        " is played with wechatpy (safe mode: every callback and passive reply is"
        " AES-encrypted and signed).",
        "",
        f"Each user sends the script {' / '.join(SCRIPT)} (a claim enquiry that"
        " verifies identity and runs custom actions against the CRM), waiting for"
        f" each answer and {PAUSE:.1f} s more before the next message. A turn is"
        " *passive* when the reply came in the callback's answer (the gateway waits"
        " at most 4.5 s), *async* when the answer was `success` and the reply went"
        " through `POST /cgi-bin/message/custom/send` (latency: callback sent →"
        " the API has the message).",
        "",
        "## Passive share under load",
        "",
        *header,
        *(row(f"{s['users']} users", s) for s in data["levels"]),
        "",
        "## Retries and the customer-service API",
        "",
        *header,
        row(f"{storm['users']} users, each callback 3× at once", storm),
        row(f"{api_only['users']} users, every reply via the API", api_only),
        "",
        "Passive answers per message in the retry storm (WeChat must get at most"
        f" one): {storm['passive_answers_per_message']}; messages the customer got"
        " per turn (passive + API; a turn with two long replies needs two),"
        f" storm: {storm['deliveries_per_message']}, one callback each at the same"
        f" load: {data['levels'][0]['deliveries_per_message']}. The API-only row"
        " runs a second gateway whose passive window is 50 ms, so its async latency"
        " is a whole turn plus the API delivery. Access tokens fetched from the fake"
        f" in the whole run: {data['token_fetches']}.",
        "",
    ]
    (REPORTS / "wechat.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    """Start the stack, measure, write the report, stop the stack."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[8, 32])
    parser.add_argument(
        "--model", type=Path, default=ROOT / "models" / "current.tar.gz"
    )
    args = parser.parse_args()
    if not args.model.exists():
        sys.exit(f"no Rasa model at {args.model}: run `make train` first")
    WORKDIR.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    gateway_bench.WORKDIR = WORKDIR  # rasa_stack writes its endpoints and logs here
    print("==> starting the CRM (demo book), the action server and Rasa")
    crm = start_crm(WORKDIR / "crm", customers=200)
    try:
        with gateway_bench.rasa_stack(args.model, crm) as (rasa_url, rasa_token):
            data = measure(crm, rasa_url, rasa_token, args.users)
    finally:
        crm.stop()
    model = args.model.resolve()
    data.update(
        finished_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=f"{platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        load_average={
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        database="PostgreSQL"
        if crm.database_url.startswith("postgresql")
        else "SQLite",
        model=str(model.relative_to(ROOT) if model.is_relative_to(ROOT) else model),
    )
    write_report(data)
    print((REPORTS / "wechat.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
