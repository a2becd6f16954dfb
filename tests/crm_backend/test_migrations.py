"""Migrations are the schema's source of truth: they round-trip and match the models."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crm_backend.core.db import make_engine
from crm_backend.models import Base, Escalation
from crm_backend.models.enums import EscalationStatus
from tests.crm_backend.conftest import _admin, _pg_url, alembic_config


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path, worker_id) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database of each kind, private to this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    url = make_url(_pg_url(worker_id))
    url = url.set(database=f"{url.database}_mig").render_as_string(hide_password=False)
    try:
        _admin(
            url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"'
        )
    except Exception as exc:  # pragma: no cover - only without a server
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield url
    _admin(url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_db: str) -> None:
    cfg = alembic_config(empty_db)
    command.upgrade(cfg, "head")
    assert _tables(empty_db) == set(Base.metadata.tables)
    command.downgrade(cfg, "base")
    assert _tables(empty_db) == set()
    command.upgrade(cfg, "head")
    assert _tables(empty_db) == set(Base.metadata.tables)


def test_autogenerate_finds_no_drift(empty_db: str) -> None:
    command.upgrade(alembic_config(empty_db), "head")
    engine = make_engine(empty_db)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_0002_moves_existing_escalations_over(empty_db: str) -> None:
    """Rows written under 0001 get a queue rank, and ``assigned`` becomes an offer."""
    cfg = alembic_config(empty_db)
    command.upgrade(cfg, "0001")
    engine = make_engine(empty_db)
    queued_at = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as conn:
            conn.execute(
                tables.tables["agents"].insert(),
                {
                    "id": 1,
                    "employee_no": "KN9001",
                    "name": "王芳",
                    "role": "service_agent",
                    "skills": [],
                    "presence": "online",
                    "capacity": 3,
                    "status": "active",
                    "created_at": queued_at.replace(tzinfo=None),
                    "updated_at": queued_at.replace(tzinfo=None),
                },
            )
            conn.execute(
                tables.tables["conversations"].insert(),
                {
                    "id": 1,
                    "channel": "web",
                    "external_id": "old",
                    "status": "queued",
                    "verification_level": "none",
                    "started_at": queued_at.replace(tzinfo=None),
                    "last_message_at": queued_at.replace(tzinfo=None),
                },
            )
            conn.execute(
                tables.tables["escalations"].insert(),
                {
                    "id": 1,
                    "conversation_id": 1,
                    "trigger": "customer_request",
                    "reason": "转人工",
                    "topic": "general",
                    "priority": 30,
                    "priority_reasons": [],
                    "slots": {},
                    "status": "assigned",
                    "assigned_agent_id": 1,
                    "queued_at": queued_at.replace(tzinfo=None),
                    "assigned_at": queued_at.replace(tzinfo=None),
                },
            )
        command.upgrade(cfg, "head")
        with Session(engine) as session:
            escalation = session.get(Escalation, 1)
            assert escalation is not None
            assert escalation.status == EscalationStatus.queued
            assert escalation.offered_agent_id == 1
            assert escalation.assigned_agent_id is None
            assert escalation.rank_at == queued_at - timedelta(minutes=30)
        command.downgrade(cfg, "0001")
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, assigned_agent_id FROM escalations")
            )
            assert row.one() == ("assigned", 1)
    finally:
        engine.dispose()
