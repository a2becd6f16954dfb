"""The gateway as a real process (``uvicorn bot.main:app``), for tests and benchmarks.

Standard library and httpx only, so bench/gateway.py can use it outside pytest.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_RASA_TIMEOUT = "1.0"  # the Rasa stand-in's #slow is slower than this


@dataclass
class Gateway:
    """A running gateway process."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """The process's output so far."""
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Terminate and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _is_gateway(answer: httpx.Response) -> bool:
    """Whether /health came from a gateway (not another server on the port)."""
    try:
        return bool(answer.json().get("service") == "gateway")
    except ValueError:
        return False


def start_gateway(
    workdir: Path,
    *,
    crm_url: str,
    token: str,
    rasa_url: str,
    rasa_token: str,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> Gateway:
    """``uvicorn bot.main:app`` on a loopback port; waits until /health answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("REDIS_URL", None)
    env.update(
        CRM_URL=crm_url,
        CRM_SERVICE_TOKEN=token,
        RASA_URL=rasa_url,
        RASA_TOKEN=rasa_token,
        GATEWAY_ENVIRONMENT="test",
        GATEWAY_RASA_TIMEOUT_SECONDS=GATEWAY_RASA_TIMEOUT,
        GATEWAY_CRM_TIMEOUT_SECONDS="3",
        GATEWAY_QUEUE_POLL_SECONDS="0.3",
    )
    env.update(extra_env or {})
    log_path = workdir / f"gateway-{port}.log"
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "uvicorn",
            "bot.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    gateway = Gateway(
        url=f"http://127.0.0.1:{port}", token=token, process=process, log_path=log_path
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited: {gateway.log()}")
        try:
            answer = httpx.get(f"{gateway.url}/health", timeout=1)
            if answer.status_code == 200 and _is_gateway(answer):
                return gateway
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    gateway.stop()
    raise RuntimeError(f"gateway did not come up: {gateway.log()}")
