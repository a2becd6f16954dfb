"""Views over conversations: finding a channel user's open conversation without
opening one, the agent named on transcript messages (loaded in bulk), and the
latest-message preview of the console's queue rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from crm_backend.conversations import views
from crm_backend.escalations.views import preview
from crm_backend.models import Conversation, Message
from tests.crm_backend.takeover import (
    AGENT_URL,
    SERVICE_URL,
    bearer,
    escalate,
    make_desk,
)
from tests.factories import make_conversation

FIND = f"{SERVICE_URL}/conversations"


# ---- find without opening -------------------------------------------------------


def test_find_answers_the_open_conversation(client, session, service_headers):
    conversation = make_conversation(session)
    response = client.get(
        FIND,
        params={"channel": "web", "external_id": conversation.external_id},
        headers=service_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == conversation.id and body["status"] == "bot"
    assert body["open_escalation_id"] is None


def test_find_opens_nothing(client, session, service_headers):
    before = session.scalar(select(func.count(Conversation.id)))
    response = client.get(
        FIND, params={"channel": "web", "external_id": "never-said-a-word"},
        headers=service_headers,
    )  # fmt: skip
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_open_conversation"
    assert session.scalar(select(func.count(Conversation.id))) == before


def test_find_ignores_closed_conversations_and_other_channels(
    client, session, service_headers
):
    conversation = make_conversation(session)
    params = {"channel": "wechat", "external_id": conversation.external_id}
    assert client.get(FIND, params=params, headers=service_headers).status_code == 404
    client.post(
        f"{FIND}/{conversation.id}/close", headers=service_headers
    ).raise_for_status()
    params["channel"] = "web"
    assert client.get(FIND, params=params, headers=service_headers).status_code == 404


def test_find_needs_the_token_and_valid_parameters(client, service_headers):
    params = {"channel": "web", "external_id": "x"}
    assert client.get(FIND, params=params).status_code == 401
    bad = {"channel": "fax", "external_id": "x"}
    assert client.get(FIND, params=bad, headers=service_headers).status_code == 422
    empty = {"channel": "web", "external_id": ""}
    assert client.get(FIND, params=empty, headers=service_headers).status_code == 422


# ---- the agent on transcript messages ------------------------------------------


def _chat(client, session, service_headers):  # type: ignore[no-untyped-def]
    """A conversation held by agent 0 who wrote once and left a note."""
    desk = make_desk(session)
    body = escalate(client, service_headers, desk.conversation)
    headers = bearer(client, desk.agents[0])
    client.post(
        f"{AGENT_URL}/escalations/{body['id']}/accept", headers=headers
    ).raise_for_status()
    cid = desk.conversation.id
    for kind, text in (("messages", "您好，我是王芳"), ("notes", "客户情绪稳定")):
        client.post(
            f"{AGENT_URL}/conversations/{cid}/{kind}", json={"text": text},
            headers=headers,
        ).raise_for_status()  # fmt: skip
    return desk, body["id"], headers


def test_service_transcript_names_the_agent(client, session, service_headers):
    desk, _, _ = _chat(client, session, service_headers)
    agent = desk.agents[0]
    items = client.get(
        f"{FIND}/{desk.conversation.id}/messages", headers=service_headers
    ).json()["items"]
    reply = next(m for m in items if m["sender"] == "agent")
    assert reply["agent"]["name"] == "王芳"
    assert reply["agent"]["employee_no"] == agent.employee_no
    assert reply["agent"]["id"] == agent.id == reply["agent_id"]
    assert all(m["agent"] is None for m in items if m["agent_id"] is None)
    assert not any(m["private"] for m in items)


def test_agent_transcript_and_brief_name_the_agent(client, session, service_headers):
    desk, escalation_id, headers = _chat(client, session, service_headers)
    cid = desk.conversation.id
    items = client.get(
        f"{AGENT_URL}/conversations/{cid}/messages", headers=headers
    ).json()["items"]
    note = next(m for m in items if m["private"])
    assert note["agent"]["employee_no"] == desk.agents[0].employee_no
    brief = client.get(f"{AGENT_URL}/escalations/{escalation_id}", headers=headers)
    shown = [m for m in brief.json()["transcript"] if m["sender"] == "agent"]
    assert shown and shown[0]["agent"]["name"] == "王芳"


@contextmanager
def _selects(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def _count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def test_agents_are_loaded_in_one_query(client, session, service_headers):
    desk, _, headers = _chat(client, session, service_headers)
    second = bearer(client, desk.agents[1])
    cid = desk.conversation.id
    # the holder hands over: both agents have written in this conversation
    desk.conversation.assigned_agent_id = desk.agents[1].id
    session.flush()
    client.post(
        f"{AGENT_URL}/conversations/{cid}/messages", json={"text": "我是周婷"},
        headers=second,
    ).raise_for_status()  # fmt: skip
    messages = list(
        session.scalars(
            select(Message).where(Message.conversation_id == cid).order_by(Message.id)
        )
    )
    session.expire_all()  # nothing cached: every agent must come from the query
    with _selects(session) as selects:
        reads = views.message_reads(session, messages)
    assert {r.agent.name for r in reads if r.agent} == {"王芳", "周婷"}
    assert len([s for s in selects if "FROM agents" in s]) == 1


# ---- queue rows: the latest message ----------------------------------------------


def test_preview_is_one_line_of_sixty_characters():
    assert preview("你好\n  请问") == "你好 请问"
    long = "保" * 100
    assert len(preview(long)) == 60 and preview(long).endswith("…")
    assert preview("x" * 60) == "x" * 60


def test_queue_rows_show_the_latest_visible_message(client, session, service_headers):
    desk, _, headers = _chat(client, session, service_headers)
    rows = client.get(f"{AGENT_URL}/escalations", headers=headers).json()["items"]
    row = next(r for r in rows if r["conversation_id"] == desk.conversation.id)
    # the private note came last, but the row shows the last message the customer saw
    assert row["last_message_preview"] == "您好，我是王芳"
    assert row["last_message_sender"] == "agent"
    assert row["last_message_at"] is not None
    text = "<b>我的保单</b> " + "很长的问题" * 20
    client.post(
        f"{SERVICE_URL}/conversations/messages",
        json={"channel": "web", "external_id": desk.conversation.external_id,
              "text": text},
        headers=service_headers,
    ).raise_for_status()  # fmt: skip
    rows = client.get(f"{AGENT_URL}/escalations", headers=headers).json()["items"]
    row = next(r for r in rows if r["conversation_id"] == desk.conversation.id)
    assert row["last_message_preview"] == preview(text)
    assert row["last_message_preview"].startswith("<b>我的保单</b>")
    assert row["last_message_sender"] == "customer"


def test_a_row_without_messages_has_no_preview(client, session, service_headers):
    desk = make_desk(session)
    escalate(client, service_headers, desk.conversation)
    headers = bearer(client, desk.agents[0])
    rows = client.get(
        f"{AGENT_URL}/escalations", params={"scope": "team"}, headers=headers
    ).json()["items"]
    row = next(r for r in rows if r["conversation_id"] == desk.conversation.id)
    assert row["last_message_preview"] is None and row["last_message_at"] is None
