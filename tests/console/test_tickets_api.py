"""The complaint queue's agent API on a live CRM: the nearest-deadline order, the
names a row shows, the mine / breaching-soon / breached / tier filters, another
team's refusal, and the "tickets" hint a verb pushes to the console."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, update
from websockets.sync.client import connect

from crm_backend.models import Ticket
from crm_backend.models.base import utcnow
from tests.console.support import PASSWORD
from tests.live_crm import LiveCrm

DESK_AGENT = "KN1022"  # 唐慧, 投诉处理组
OTHER_TEAM_AGENT = "KN1032"  # 彭佳, 综合客服组
DESK = "投诉处理组"
# customers outside the documented demo six, so other tests keep their picture
CUSTOMER = 21
OPEN = {"status": ["received", "acknowledged", "investigating"]}


@pytest.fixture(scope="module")
def db(console_crm: LiveCrm) -> Iterator[Engine]:
    """The live CRM's database, to set a ticket's deadlines (controlled data)."""
    engine = create_engine(console_crm.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def agent_client(crm: LiveCrm, employee_no: str) -> httpx.Client:
    """An agent API client logged in as ``employee_no`` (bearer token)."""
    login = httpx.post(
        f"{crm.url}/api/v1/agent/auth/login",
        json={"employee_no": employee_no, "password": PASSWORD},
        timeout=15,
    )
    login.raise_for_status()
    return httpx.Client(
        base_url=f"{crm.url}/api/v1/agent",
        headers={"Authorization": f"Bearer {login.json()['token']}"},
        timeout=15,
    )


def open_ticket(
    crm: LiveCrm,
    db: Engine,
    *,
    ack_in: timedelta,
    resolve_in: timedelta = timedelta(days=10),
    customer_id: int = CUSTOMER,
    description: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A complaint opened as the bot does, then given deadlines ``ack_in`` and
    ``resolve_in`` from now; returns ``{"id", "ticket_no"}``."""
    body = {
        "customer_id": customer_id,
        "category": "billing",
        "description": description or f"同一笔保费被扣了两次 {uuid.uuid4().hex[:6]}",
        "desired_outcome": "退还多扣的保费",
        **fields,
    }
    created = httpx.post(
        f"{crm.url}/api/v1/service/tickets",
        json=body,
        headers={"Authorization": f"Bearer {crm.token}"},
        timeout=15,
    )
    created.raise_for_status()
    ticket_no = created.json()["ticket_no"]
    now = utcnow()
    with db.begin() as conn:
        ticket_id = conn.execute(
            update(Ticket)
            .where(Ticket.ticket_no == ticket_no)
            .values(ack_due_at=now + ack_in, resolve_due_at=now + resolve_in)
            .returning(Ticket.id)
        ).scalar_one()
    return {"id": ticket_id, "ticket_no": ticket_no}


def listed(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """The agent's ticket list for ``params`` (open tickets, nearest deadline)."""
    res = client.get("/tickets", params={**OPEN, "sort": "deadline", **params})
    assert res.status_code == 200, res.text
    return list(res.json()["items"])


def _nos(items: list[dict[str, Any]]) -> list[str]:
    return [t["ticket_no"] for t in items]


def test_rows_come_by_nearest_deadline_with_names(
    console_crm: LiveCrm, db: Engine
) -> None:
    later = open_ticket(console_crm, db, ack_in=timedelta(hours=20))
    breached = open_ticket(console_crm, db, ack_in=-timedelta(hours=2))
    soon = open_ticket(console_crm, db, ack_in=timedelta(minutes=30))
    with agent_client(console_crm, DESK_AGENT) as desk:
        body = desk.get("/tickets", params={**OPEN, "sort": "deadline"}).json()
        nos = _nos(body["items"])
        mine = [breached["ticket_no"], soon["ticket_no"], later["ticket_no"]]
        assert [n for n in nos if n in mine] == mine
        assert body["ack_soon_minutes"] == 240
        assert body["resolve_soon_minutes"] == 48 * 60
        row = next(t for t in body["items"] if t["ticket_no"] == soon["ticket_no"])
        profile = desk.get(f"/customers/{CUSTOMER}").json()

    assert row["team_name"] == DESK
    assert row["assignee"] is None
    assert row["next_due_kind"] == "ack"
    assert row["next_due_at"] == row["ack_due_at"]
    assert re.fullmatch(r"1\d{2}\*{4}\d{4}", row["customer_phone_masked"])
    assert row["customer_phone_masked"] != profile["phone"]
    assert row["customer_tier"] == profile["score"]["value_tier"]


def test_breaching_soon_breached_mine_and_tier_filters(
    console_crm: LiveCrm, db: Engine
) -> None:
    soon = open_ticket(console_crm, db, ack_in=timedelta(hours=1))
    breached = open_ticket(console_crm, db, ack_in=-timedelta(minutes=5))
    calm = open_ticket(console_crm, db, ack_in=timedelta(hours=23))
    ours = {soon["ticket_no"], breached["ticket_no"], calm["ticket_no"]}
    with agent_client(console_crm, DESK_AGENT) as desk:
        due_soon = set(_nos(listed(desk, due_soon="true"))) & ours
        overdue = set(_nos(listed(desk, breached="true"))) & ours
        me = desk.get("/me").json()
        assigned = desk.post(
            f"/tickets/{soon['id']}/assign", json={"agent_id": me["id"]}
        )
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["assignee"]["name"] == "唐慧"
        mine = listed(desk, mine="true")
        tier = desk.get(f"/customers/{CUSTOMER}").json()["score"]["value_tier"]
        other = "vip" if tier != "vip" else "basic"
        same_tier = set(_nos(listed(desk, tier=tier))) & ours
        other_tier = set(_nos(listed(desk, tier=other))) & ours

    assert due_soon == {soon["ticket_no"]}
    assert overdue == {breached["ticket_no"]}
    assert soon["ticket_no"] in _nos(mine)
    assert all(t["assignee"]["name"] == "唐慧" for t in mine)
    assert same_tier == ours
    assert other_tier == set()


def test_another_team_cannot_see_or_act(console_crm: LiveCrm, db: Engine) -> None:
    ticket = open_ticket(console_crm, db, ack_in=timedelta(hours=5))
    with agent_client(console_crm, OTHER_TEAM_AGENT) as outsider:
        assert outsider.get(f"/tickets/{ticket['id']}").status_code == 403
        refused = outsider.post(f"/tickets/{ticket['id']}/acknowledge")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        assert ticket["ticket_no"] not in _nos(listed(outsider))
        assert outsider.get("/tickets/stats").status_code == 403
    with agent_client(console_crm, DESK_AGENT) as desk:
        assert desk.get(f"/tickets/{ticket['id']}").json()["status"] == "received"


def test_a_verb_pushes_a_tickets_hint_to_the_desk(
    console_crm: LiveCrm, db: Engine
) -> None:
    ticket = open_ticket(console_crm, db, ack_in=timedelta(hours=5))
    login = httpx.post(
        f"{console_crm.url}/api/v1/agent/auth/login",
        json={"employee_no": DESK_AGENT, "password": PASSWORD},
        timeout=15,
    ).json()
    ws_url = console_crm.url.replace("http://", "ws://") + "/api/v1/agent/ws"
    cookie = {"Cookie": f"crm_session={login['token']}"}
    with connect(ws_url, additional_headers=cookie, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "ready"}
        with agent_client(console_crm, DESK_AGENT) as desk:
            done = desk.post(f"/tickets/{ticket['id']}/acknowledge")
            assert done.status_code == 200, done.text
        while True:
            hint = json.loads(ws.recv(timeout=10))
            if hint["type"] == "tickets" and hint["ticket_id"] == ticket["id"]:
                break
