"""Shared Rasa fixtures: one fast-trained model per test session, real servers.

The tests run under .venv (Python 3.11); Rasa lives in .venv-rasa (Python 3.10), so
everything here drives Rasa through subprocesses. conftest.py files in tests/e2e and
tests/conversations import these fixtures; the model cache below is module-level, so
the model is trained once per session however many conftests import it.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import yaml

from tests.live_crm import LiveCrm, start_crm
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin"
RASA = RASA_BIN / "rasa"
RASA_PYTHON = RASA_BIN / "python"
# Epoch cap for test training: startup and graph tracing dominate the time, and
# fewer than ~30 DIET epochs leave held-out phrasings near the fallback threshold.
TEST_EPOCHS = 30
TRAIN_TIMEOUT = 900
# loading the model takes long on a busy 2-core machine
READY_TIMEOUT = 300

_models: dict[str, Path] = {}


def rasa_env(**extra: str) -> dict[str, str]:
    """The environment for Rasa subprocesses: quiet, no telemetry, loopback."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        # rasa-sdk's action server binds SANIC_HOST (0.0.0.0 by default).
        SANIC_HOST="127.0.0.1",
        PYTHONWARNINGS="ignore",
    )
    env.update(extra)
    return env


def run_rasa(
    args: Sequence[str | Path | int], *, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``rasa ARGS`` from the repository root and capture its output."""
    return subprocess.run(
        [str(RASA), *map(str, args)],
        cwd=ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tail(text: str, lines: int = 40) -> str:
    """The end of a long output, for assertion messages."""
    return "\n".join(text.splitlines()[-lines:])


def domain_text(response: str) -> str:
    """The first text of a response in the domain (every file under domain/)."""
    for path in sorted((ROOT / "domain").rglob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if response in (part.get("responses") or {}):
            return str(part["responses"][response][0]["text"])
    raise KeyError(response)


def train_test_model(workdir: Path) -> Path:
    """Train (once per session) a model from the real data with fewer epochs."""
    if "model" in _models:
        return _models["model"]
    reuse = os.environ.get("RASA_TEST_MODEL")
    if reuse:  # a developer's shortcut: a model trained from the same data
        _models["model"] = Path(reuse)
        return _models["model"]
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yml"
    subprocess.run(
        [
            str(RASA_PYTHON),
            str(ROOT / "scripts" / "rasa_test_config.py"),
            str(config),
            "--epochs",
            str(TEST_EPOCHS),
        ],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    result = run_rasa(
        [
            "train",
            "--config",
            config,
            "--domain",
            "domain",
            "--data",
            "data",
            "--out",
            workdir / "models",
            "--fixed-model-name",
            "test",
        ],
        timeout=TRAIN_TIMEOUT,
    )
    model = workdir / "models" / "test.tar.gz"
    assert result.returncode == 0 and model.exists(), tail(
        result.stdout + result.stderr
    )
    _models["model"] = model
    return model


@dataclass
class RasaServer:
    """A running Rasa server (REST channel, HTTP API) and its action server."""

    url: str
    token: str
    action_url: str


def _start(
    args: Sequence[str | Path | int], log: IO[Any], **env: str
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(RASA), *map(str, args)],
        cwd=ROOT,
        env=rasa_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        # its own process group, so teardown reaches anything it spawns
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_ready(
    checks: dict[str, tuple[subprocess.Popen[bytes], str, Path]],
) -> None:
    """Poll each URL until it answers 200; fail early when a process dies."""
    deadline = time.monotonic() + READY_TIMEOUT
    pending = dict(checks)
    with httpx.Client(timeout=2.0) as client:
        while pending:
            for name, (process, url, log) in list(pending.items()):
                if process.poll() is not None:
                    log_text = log.read_text(errors="replace")
                    pytest.fail(f"{name} exited early:\n{tail(log_text)}")
                try:
                    if client.get(url).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {name}\n{tail(log.read_text(errors='replace'))}"
                    for name, (_, _, log) in pending.items()
                )
                pytest.fail(f"not ready after {READY_TIMEOUT}s:\n{logs}")
            if pending:
                time.sleep(0.5)


@pytest.fixture(scope="session")
def rasa_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained from config.yml (epochs capped), domain/ and data/."""
    return train_test_model(tmp_path_factory.getbasetemp() / "rasa-model")


@pytest.fixture(scope="session")
def live_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCrm]:
    """One real CRM (PostgreSQL when reachable) with a small demo book."""
    crm = start_crm(tmp_path_factory.mktemp("live-crm"), customers=40)
    try:
        yield crm
    finally:
        crm.stop()


@pytest.fixture(scope="session")
def rasa_server(
    rasa_model: Path, live_crm: LiveCrm, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RasaServer]:
    """`rasa run` and `rasa run actions` (using ``live_crm``) on free loopback
    ports, torn down after."""
    workdir = tmp_path_factory.mktemp("rasa-server")
    action_port, rasa_port = free_port(), free_port()
    action_url = f"http://127.0.0.1:{action_port}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"action_endpoint": {"url": f"{action_url}/webhook"}}),
        encoding="utf-8",
    )
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{rasa_port}"
    action_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    processes: list[subprocess.Popen[bytes]] = []
    with action_log.open("wb") as alog, rasa_log.open("wb") as rlog:
        try:
            actions = _start(
                ["run", "actions", "-p", action_port], alog, **live_crm.env()
            )
            processes.append(actions)
            rasa = _start(
                [
                    "run",
                    "--enable-api",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    rasa_port,
                    "--model",
                    rasa_model,
                    "--endpoints",
                    endpoints,
                    "--credentials",
                    ROOT / "credentials.yml",
                    "--auth-token",
                    token,
                ],
                rlog,
            )
            processes.append(rasa)
            _wait_ready(
                {
                    "action server": (actions, f"{action_url}/health", action_log),
                    "rasa server": (rasa, f"{url}/status?token={token}", rasa_log),
                }
            )
            yield RasaServer(url=url, token=token, action_url=action_url)
        finally:
            for process in reversed(processes):
                _stop(process)


# ---- identity helpers (tests of capability 1) ------------------------------------

CRM_PYTHON = ROOT / ".venv" / "bin" / "python"
_OUTBOX_QUERY = """
import re, sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.connect() as connection:
    body = connection.execute(
        text("SELECT body FROM outbox WHERE customer_id = :c ORDER BY id DESC LIMIT 1"),
        {"c": int(sys.argv[2])},
    ).scalar()
match = re.search(r"验证码为(\\d+)", body or "")
print(match.group(1) if match else "")
"""


def outbox_code(database_url: str, customer_id: int) -> str | None:
    """The latest step-up code the CRM queued for a customer (read from its outbox).

    Runs in the CRM's environment (.venv), which has the database drivers; the
    CRM has no endpoint that reveals codes, on purpose.
    """
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [str(CRM_PYTHON), "-c", _OUTBOX_QUERY, database_url, str(customer_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip() or None
