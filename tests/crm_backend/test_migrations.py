"""Migrations are the schema's source of truth: they round-trip and match the models."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from crm_backend.core.db import make_engine
from crm_backend.models import Base
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
