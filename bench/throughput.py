"""Throughput benchmark: ``make bench-throughput`` or ``python -m bench.throughput``.

Writes reports/throughput.md and reports/throughput.json: for 1, 8 and 32
concurrent conversations (closed loop: each client sends its next turn as soon as
it has the reply), total turns, p50/p95/mean latency per turn and messages per
second over the measured window (after a warm-up), for two systems in one run:

  stock    a minimal English Rasa REST bot (bench/stock_bot/, copied to
           var/bench-throughput/stock/: WhitespaceTokenizer, CountVectorsFeaturizer,
           DIET, RulePolicy) doing exactly one custom action per turn on its own
           rasa-sdk action server; trained here, cached by the hash of its files;
  project  the whole path: gateway REST shape → CRM → Rasa (``models/current.tar.gz``
           or ``--model``) → action server → CRM → reply, each client running
           bench/gateway.py's script (greeting, FAQ, claim enquiry, phone, ID last 4,
           thanks) with a demo customer, a new conversation per pass.

Each system's stack starts once on free loopback ports (the project's as
bench/gateway.py starts it) and is stopped after, also on Ctrl-C or SIGTERM.
Options: ``--duration S`` per level (30), ``--levels 1,8,32``, ``--model PATH``,
``--systems stock,project``, ``--out DIR`` (reports/).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import gateway as gateway_bench  # noqa: E402
from bench.common import rasa_env  # noqa: E402
from bench.gateway import RASA_BIN, _stop, _wait, summary  # noqa: E402
from bot.messages import NOTICE_CRM_DOWN, NOTICE_RASA_DOWN  # noqa: E402
from crm_backend.demo.catalog import DEMO_CUSTOMERS  # noqa: E402
from tests.bot.process import start_gateway  # noqa: E402
from tests.live_crm import start_crm  # noqa: E402
from tests.ports import free_port  # noqa: E402

REPORTS = ROOT / "reports"
WORKDIR = ROOT / "var" / "bench-throughput"
STOCK = WORKDIR / "stock"
WARM_UP = 5.0  # seconds per level (at most the level's duration) not counted
TIMEOUT = 120.0  # per turn: at 32 clients a queue of slow turns is data, not an error
NOTICES = {NOTICE_CRM_DOWN, NOTICE_RASA_DOWN}
REFERENCE = "about 32 ms p50 and 32–38 messages/s per core"

# ---------------------------------------------------------------- the stock bot

SOURCE = ROOT / "bench" / "stock_bot"  # copied to STOCK, where Rasa runs it
STOCK_SCRIPT = ["hello", "what are your opening hours", "how much does it cost", "bye"]


def stock_model() -> Path:
    """Copy the stock bot to STOCK; train it unless a model of these files exists."""
    files = {
        str(path.relative_to(SOURCE)): path.read_bytes()
        for path in sorted(SOURCE.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    digest = hashlib.sha256()
    shutil.rmtree(STOCK / "data", ignore_errors=True)  # no stale file joins training
    for name, content in files.items():
        (STOCK / name).parent.mkdir(parents=True, exist_ok=True)
        (STOCK / name).write_bytes(content)
        if not name.endswith(
            ".py"
        ):  # the action server's code does not shape the model
            digest.update(name.encode() + b"\0" + content + b"\0")
    model = STOCK / "models" / f"stock-{digest.hexdigest()[:12]}.tar.gz"
    if model.exists():
        print(f"==> stock bot: cached model {model.name}")
        return model
    for old in (STOCK / "models").glob("stock-*.tar.gz"):
        old.unlink()  # a model of older files is never used again
    print("==> stock bot: training (files changed or no model yet)")
    command = [
        str(RASA_BIN), "train", "--quiet", "--config", "config.yml",
        "--domain", "domain.yml", "--data", "data", "--out", "models",
        "--fixed-model-name", model.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    log = STOCK / "train.log"
    with log.open("wb") as out:
        done = subprocess.run(
            command, cwd=STOCK, env=rasa_env(), stdout=out, stderr=out, check=False
        )
    if done.returncode != 0 or not model.exists():
        raise RuntimeError(f"stock training failed:\n{log.read_text()[-3000:]}")
    return model


@contextmanager
def stock_stack(model: Path) -> Iterator[str]:
    """The stock bot's action server and Rasa; yields Rasa's URL."""
    action_port, rasa_port, token = free_port(), free_port(), secrets.token_hex(16)
    endpoints = STOCK / "endpoints.yml"  # not hashed: the port changes every run
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n',
        encoding="utf-8",
    )
    env = {**rasa_env(), "PYTHONPATH": str(STOCK), "SANIC_HOST": "127.0.0.1"}
    commands = {
        "actions": [
            str(RASA_BIN), "run", "actions", "--actions", "stock_actions",
            "-p", str(action_port),
        ],
        "rasa": [
            str(RASA_BIN), "run", "--enable-api", "-i", "127.0.0.1",
            "-p", str(rasa_port), "--model", str(model),
            "--endpoints", str(endpoints), "--credentials", "credentials.yml",
            "--auth-token", token,
        ],
    }  # fmt: skip
    urls = {
        "actions": f"http://127.0.0.1:{action_port}/health",
        "rasa": f"http://127.0.0.1:{rasa_port}/status?token={token}",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            log = STOCK / f"{name}.log"
            process = subprocess.Popen(
                command,
                cwd=STOCK,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,  # _stop kills the whole group (sanic workers)
            )
            processes.append(process)
        for name, process in zip(commands, processes, strict=True):
            _wait(urls[name], process, STOCK / f"{name}.log", 300)
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for process in reversed(processes):
            _stop(process)


# ---------------------------------------------------------------- the load


def project_script(client: int) -> list[str]:
    """bench/gateway.py's script, verified as demo customer ``client`` mod 6."""
    customer = DEMO_CUSTOMERS[client % len(DEMO_CUSTOMERS)]
    ours = {"13800138004": customer.phone, "1861": customer.id_last4}
    return [ours.get(text, text) for text in gateway_bench.SCRIPT]


async def run_level(
    url: str, script: Callable[[int], list[str]], clients: int, duration: float
) -> dict[str, Any]:
    """``clients`` closed-loop conversations; stats of turns done in the window."""
    warm_up = min(WARM_UP, duration)
    run = secrets.token_hex(3)
    latencies: list[float] = []
    failed = 0
    begin = time.perf_counter() + warm_up
    end = begin + duration

    async def client(http: httpx.AsyncClient, number: int) -> None:
        nonlocal failed
        conversation = 0
        while True:
            # A new sender per pass: every conversation starts fresh, as a customer's.
            sender = f"tp-{run}-{clients}-{number}-{conversation}"
            for text in script(number):
                if time.perf_counter() >= end:
                    return
                started = time.perf_counter()
                ok = await turn(http, url, sender, text)
                done = time.perf_counter()
                if begin <= done <= end:
                    if ok:
                        latencies.append(done - started)
                    else:
                        failed += 1
            conversation += 1

    limits = httpx.Limits(
        max_connections=clients + 4, max_keepalive_connections=clients
    )
    async with httpx.AsyncClient(limits=limits, timeout=TIMEOUT) as http:
        await asyncio.gather(*(client(http, n) for n in range(clients)))
    stats: dict[str, Any] = {"clients": clients, "turns": len(latencies)}
    if latencies:
        stats.update({k: v for k, v in summary(latencies).items() if k != "n"})
    stats["failed"] = failed
    stats["per_second"] = round(len(latencies) / duration, 1)
    return stats


async def turn(http: httpx.AsyncClient, url: str, sender: str, text: str) -> bool:
    """One REST turn; False when it failed or came back as a polite notice."""
    try:
        response = await http.post(url, json={"sender": sender, "message": text})
        replies = response.json() if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return False
    texts = [reply.get("text") for reply in replies if isinstance(reply, dict)]
    return bool(texts) and not NOTICES.intersection(texts)


def measure(
    url: str, script: Callable[[int], list[str]], args: argparse.Namespace
) -> list[Any]:
    """Every level in turn on one running stack."""
    results = []
    for clients in args.levels:
        print(f"==> {clients} concurrent conversation(s), {args.duration:g} s")
        results.append(asyncio.run(run_level(url, script, clients, args.duration)))
        print(f"    {results[-1]}")
        time.sleep(1)  # let the previous level's after-turn work drain
    return results


def measure_project(args: argparse.Namespace) -> tuple[list[Any], str]:
    """The whole path through the gateway; returns levels and the database kind."""
    gateway_bench.WORKDIR = WORKDIR / "project"  # rasa_stack's endpoints and logs
    gateway_bench.WORKDIR.mkdir(parents=True, exist_ok=True)
    gateway_port = free_port()
    print("==> project: starting the CRM (demo book), actions, Rasa and the gateway")
    crm = start_crm(
        WORKDIR / "project" / "crm",
        customers=200,
        extra_env={"CRM_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}"},
    )
    try:
        with gateway_bench.rasa_stack(args.model, crm) as (rasa_url, rasa_token):
            gateway = start_gateway(
                WORKDIR / "project",
                crm_url=crm.url,
                token=crm.token,
                rasa_url=rasa_url,
                rasa_token=rasa_token,
                port=gateway_port,
                # Queueing at 32 clients is measured as latency, not as notices.
                extra_env={
                    "GATEWAY_RASA_TIMEOUT_SECONDS": "60",
                    "GATEWAY_CRM_TIMEOUT_SECONDS": "60",
                },
            )
            try:
                url = f"{gateway.url}/webhooks/rest/webhook"
                levels = measure(url, project_script, args)
            finally:
                gateway.stop()
    finally:
        crm.stop()
    kind = "PostgreSQL" if crm.database_url.startswith("postgresql") else "SQLite"
    return levels, kind


# ---------------------------------------------------------------- report


def shown(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def write_report(data: dict[str, Any], out: Path) -> Path:
    """throughput.md (for people) and throughput.json (for tools) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "throughput.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    systems = [s for s in ("stock", "project") if s in data["systems"]]
    names = {"stock": "stock bot", "project": "whole path"}
    head = ["concurrent"]
    for system in systems:
        head += [f"{names[system]} {c}" for c in ("turns", "p50 ms", "p95 ms")]
        head += [f"{names[system]} {c}" for c in ("mean ms", "msg/s (per core)")]
    lines = [
        "# Throughput benchmark",
        "",
        f"Run {data['finished_at']} on {data['machine']} (load average"
        f" {data['load_average']} at the start); written by `make bench-throughput`"
        " (bench/throughput.py, which starts and stops each stack itself).",
        "",
        f"Closed loop: each of N clients sends its next turn as soon as it has the"
        f" reply, no think time; {data['duration_s']:g} s measured per level after"
        f" {data['warm_up_s']:g} s of warm-up; a turn counts when its reply arrives"
        " inside the window. Latency is per turn (request → every reply of the turn);"
        f" per core = msg/s ÷ {data['cores']} cores.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for index, clients in enumerate(data["levels"]):
        cells = [str(clients)]
        for system in systems:
            level = data["systems"][system][index]
            turns = str(level["turns"])
            if level["failed"]:
                turns += f" (+{level['failed']} failed)"
            per_core = round(level["per_second"] / data["cores"], 1)
            cells += [turns, *(str(level.get(q, "–")) for q in ("p50", "p95", "mean"))]
            cells.append(f"{level['per_second']} ({per_core})")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f'PRODUCT.md\'s reference for the stock bot is "{REFERENCE}".']
    if "stock" in systems:
        lines += [
            "",
            "Stock bot: a minimal English Rasa REST bot (WhitespaceTokenizer,"
            " CountVectorsFeaturizer, DIETClassifier, RulePolicy; 4 intents, one rule"
            " each calling one custom action that returns a short text) on its own"
            f" rasa-sdk action server; model `{data['stock_model']}`; script:"
            f" {' / '.join(STOCK_SCRIPT)}.",
        ]
    if "project" in systems:
        lines += [
            "",
            "Whole path: the gateway's REST shape (`POST /webhooks/rest/webhook`) → CRM"
            " (record, status) → Rasa → action server → CRM → reply recorded; CRM on"
            f" {data['database']}, model `{data['model']}`; script:"
            f" {' / '.join(gateway_bench.SCRIPT)} (phone and ID last 4 of demo"
            " customer N mod 6); the gateway's Rasa and CRM timeouts raised to 60 s so"
            " queueing shows as latency. A failed turn is an HTTP error, an empty"
            " answer or a polite notice.",
        ]
    lines.append("")
    (out / "throughput.md").write_text("\n".join(lines), encoding="utf-8")
    return out / "throughput.md"


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # unwind through every finally: stacks stop


def main() -> None:
    """Measure the chosen systems at every level, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument(
        "--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32]
    )
    parser.add_argument(
        "--model", type=Path, default=ROOT / "models" / "current.tar.gz"
    )
    parser.add_argument(
        "--systems", type=lambda s: s.split(","), default=["stock", "project"]
    )
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args()
    if unknown := set(args.systems) - {"stock", "project"}:
        sys.exit(f"unknown system(s): {', '.join(sorted(unknown))}")
    if "project" in args.systems and not args.model.exists():
        sys.exit(f"no Rasa model at {args.model}: run `make train` first")
    signal.signal(signal.SIGTERM, _terminate)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        "cores": os.cpu_count() or 1,
        "load_average": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "levels": args.levels,
        "duration_s": args.duration,
        "warm_up_s": min(WARM_UP, args.duration),
        "reference_stock": REFERENCE,
        "systems": {},
    }
    if "stock" in args.systems:
        model = stock_model()
        data["stock_model"] = shown(model)
        print("==> stock bot: starting its action server and Rasa")
        with stock_stack(model) as rasa_url:
            url = f"{rasa_url}/webhooks/rest/webhook"
            data["systems"]["stock"] = measure(url, lambda _: STOCK_SCRIPT, args)
    if "project" in args.systems:
        data["model"] = shown(args.model)
        data["systems"]["project"], data["database"] = measure_project(args)
    data["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(write_report(data, args.out).read_text(encoding="utf-8"))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: every process this run started was stopped")
