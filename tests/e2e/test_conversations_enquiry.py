"""Enquiries through the REST channel: real Rasa, action server and CRM.

孙丽 asks for her claim before verifying: nothing personal is said until she has
given her phone and ID digits (with an FAQ asked in the middle of verification),
then the reply names her open claim's number and status as the CRM holds them.

This module runs its own Rasa and action servers (on the session's model) so that
the action server surely talks to this module's CRM.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.live_crm import LiveCrm, start_crm
from tests.rasa_fixtures import (
    RASA,
    ROOT,
    RasaServer,
    _stop,
    _wait_ready,
    free_port,
    rasa_env,
)

pytestmark = pytest.mark.rasa

SUN_LI = ("13800138004", "1861")
CLAIM = re.compile(r"CL\d{13,14}")
POLICY = re.compile(r"P\d{13}")


@pytest.fixture(scope="module")
def enquiry_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCrm]:
    """A live CRM with the demo book for this module."""
    crm = start_crm(Path(tmp_path_factory.mktemp("e2e-enquiry-crm")), customers=30)
    try:
        yield crm
    finally:
        crm.stop()


@pytest.fixture(scope="module")
def enquiry_bot(
    rasa_model: Path, enquiry_crm: LiveCrm, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RasaServer]:
    """`rasa run` and `rasa run actions` whose actions use ``enquiry_crm``."""
    workdir = tmp_path_factory.mktemp("e2e-enquiry-rasa")
    action_port, rasa_port = free_port(), free_port()
    action_url = f"http://127.0.0.1:{action_port}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"action_endpoint": {"url": f"{action_url}/webhook"}}),
        encoding="utf-8",
    )
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{rasa_port}"
    env = rasa_env(**enquiry_crm.env())
    commands = {
        "action server": ["run", "actions", "-p", str(action_port)],
        "rasa server": [
            "run",
            "--enable-api",
            "-i",
            "127.0.0.1",
            "-p",
            str(rasa_port),
            "--model",
            str(rasa_model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "--auth-token",
            token,
        ],
    }
    ready = {
        "action server": f"{action_url}/health",
        "rasa server": f"{url}/status?token={token}",
    }
    processes: list[subprocess.Popen[bytes]] = []
    checks = {}
    try:
        for name, args in commands.items():
            log = workdir / f"{name.split()[0]}.log"
            process = subprocess.Popen(
                [str(RASA), *args],
                cwd=ROOT,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append(process)
            checks[name] = (process, ready[name], log)
        _wait_ready(checks)
        yield RasaServer(url=url, token=token, action_url=action_url)
    finally:
        for process in reversed(processes):
            _stop(process)


def _say(server: RasaServer, sender: str, text: str) -> str:
    response = httpx.post(
        f"{server.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def _api(crm: LiveCrm, path: str) -> Any:
    response = httpx.get(
        f"{crm.url}/api/v1/service{path}",
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _sun_li(crm: LiveCrm) -> int:
    response = httpx.post(
        f"{crm.url}/api/v1/service/identity/verify",
        headers={"Authorization": f"Bearer {crm.token}"},
        json={"method": "phone_id", "phone": SUN_LI[0], "id_last4": SUN_LI[1]},
        timeout=10,
    )
    response.raise_for_status()
    return int(response.json()["customer"]["id"])


def test_claim_status_only_after_verification(
    enquiry_crm: LiveCrm, enquiry_bot: RasaServer
) -> None:
    customer = _sun_li(enquiry_crm)
    claim = next(
        c
        for c in _api(enquiry_crm, f"/customers/{customer}/claims")["items"]
        if c["is_open"]
    )
    sender = f"e2e-enquiry-{uuid.uuid4().hex[:8]}"

    first = _say(enquiry_bot, sender, "我的理赔到哪一步了")
    assert "核实" in first and "手机" in first, first
    assert not CLAIM.search(first) and not POLICY.search(first)
    assert claim["status_label"] not in first

    # an insurance question in the middle of verification is answered, then asked again
    faq = _say(enquiry_bot, sender, "犹豫期一般是多少天啊")
    assert "犹豫期" in faq and "15天" in faq, faq
    assert not CLAIM.search(faq)

    after_phone = _say(enquiry_bot, sender, SUN_LI[0])
    assert "后四位" in after_phone and not CLAIM.search(after_phone), after_phone

    answer = _say(enquiry_bot, sender, SUN_LI[1])
    assert claim["claim_no"] in answer, answer
    assert claim["status_label"] in answer
    assert claim["pending_documents"] in answer


def test_coverage_of_a_product_type_needs_no_verification(
    enquiry_crm: LiveCrm, enquiry_bot: RasaServer
) -> None:
    products = _api(enquiry_crm, "/products?type=accident")["items"]
    sender = f"e2e-coverage-{uuid.uuid4().hex[:8]}"
    reply = _say(enquiry_bot, sender, "你们的意外险都保些什么")
    for product in products:
        assert product["name"] in reply, reply
    assert "核实" not in reply
