"""A real CRM process for action and end-to-end tests (stdlib only: it is imported
from both environments, .venv on Python 3.11 and .venv-rasa on Python 3.10).

The CRM runs from .venv on a migrated database holding a small demo book: the six
documented demo customers come first, so tests can use their credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
CRM_PYTHON = ROOT / ".venv" / "bin" / "python"
SERVICE_TOKEN = "e2e-service-token"
PG_ADMIN_URL = os.environ.get(
    "CRM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/crm_test"
)


def _pg(verb: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CRM_PYTHON), str(ROOT / "scripts" / "pg_database.py"), verb, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _postgres_url() -> str | None:
    """A new PostgreSQL database for this run, or None when no server answers."""
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    url = f"{base}/crm_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    result = _pg("create", url)
    if result.returncode != 0:
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL is required in CI: {result.stderr[-500:]}")
        return None
    return url


@dataclass
class LiveCrm:
    """A running CRM: where it is and how to stop it."""

    url: str
    token: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _pg: bool = field(default=False)

    def env(self) -> dict[str, str]:
        """What an action server (or test) needs to reach this CRM."""
        return {"CRM_URL": self.url, "CRM_SERVICE_TOKEN": self.token}

    def stop(self) -> None:
        """Stop the server and drop its PostgreSQL database."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self._pg:
            _pg("drop", self.database_url)

    def log(self) -> str:
        """The server's output so far (for assertion messages)."""
        return self.log_path.read_text(errors="replace")[-4000:]


def start_crm(
    workdir: Path,
    *,
    customers: int = 60,
    postgres: bool = True,
    extra_env: dict[str, str] | None = None,
) -> LiveCrm:
    """Migrate a database, load a small demo book, start uvicorn; wait until up."""
    workdir.mkdir(parents=True, exist_ok=True)
    pg_url = _postgres_url() if postgres else None
    database_url = pg_url or f"sqlite:///{workdir / 'crm.sqlite3'}"
    env = dict(os.environ)
    env.update(
        CRM_DATABASE_URL=database_url,
        CRM_SERVICE_TOKEN=SERVICE_TOKEN,
        CRM_ENVIRONMENT="test",
    )
    env.update(extra_env or {})
    env.pop("PYTHONPATH", None)
    subprocess.run(
        [str(CRM_PYTHON), "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
        capture_output=True,
    )
    subprocess.run(
        [str(CRM_PYTHON), "-m", "crm_backend.demo", "--customers", str(customers)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    port = free_port()
    log_path = workdir / "crm.log"
    process = subprocess.Popen(
        [
            str(CRM_PYTHON),
            "-m",
            "uvicorn",
            "crm_backend.main:app",
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
    crm = LiveCrm(
        url=f"http://127.0.0.1:{port}",
        token=SERVICE_TOKEN,
        database_url=database_url,
        process=process,
        log_path=log_path,
        _pg=pg_url is not None,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"CRM exited: {crm.log()}")
        try:
            with urllib.request.urlopen(f"{crm.url}/health", timeout=2) as answer:
                body = json.loads(answer.read() or b"{}")
            if body.get("service") != "crm":
                crm.stop()
                raise RuntimeError(f"another server answers on {crm.url}: {body}")
            return crm
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    crm.stop()
    raise RuntimeError(f"CRM did not come up: {crm.log()}")


if __name__ == "__main__":  # manual use: python tests/live_crm.py /tmp/crm
    live = start_crm(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/live-crm"))
    print(live.url, live.database_url, flush=True)
    try:
        live.process.wait()
    finally:
        live.stop()
