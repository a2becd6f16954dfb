"""CRM test fixtures: every test runs on SQLite and on PostgreSQL, in a rolled-back
transaction, against a schema built by ``alembic upgrade head``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crm_backend.core.config import ROOT, Settings, get_settings
from crm_backend.core.db import make_engine
from crm_backend.core.deps import get_session, get_session_factory
from crm_backend.core.errors import CrmError
from crm_backend.core.outbox import discard
from crm_backend.main import create_app
from crm_backend.models import Team
from tests.factories import make_team

SERVICE_TOKEN = "test-service-token"
PG_BASE_URL = os.environ.get(
    "CRM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/crm_test"
)


def alembic_config(url: str) -> Config:
    """An Alembic config pointed at ``url``."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "crm_backend" / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def _pg_url(worker: str) -> str:
    url = make_url(PG_BASE_URL)
    # one database per pytest process, so parallel runs never drop each other's
    name = f"{url.database}_{worker}_{os.getpid()}"
    return url.set(database=name).render_as_string(hide_password=False)


def _admin(url: str, *statements: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement.format(db=target.database)))
    finally:
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory, worker_id) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A freshly migrated database URL of each kind (PostgreSQL is required in CI)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.sqlite3'}"
        command.upgrade(alembic_config(url), "head")
        yield url
        return
    url = _pg_url(worker_id)
    try:
        _admin(
            url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"'
        )
    except OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc.orig}")
    command.upgrade(alembic_config(url), "head")
    yield url
    _admin(url, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """The engine of the migrated test database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    sess = Session(
        bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield sess
    finally:
        sess.close()
        trans.rollback()
        conn.close()


@pytest.fixture()
def settings() -> Settings:
    """Test settings with a known service token; no gateway, no background sweep
    (tests call ``escalations.jobs.sweep`` with their own clock)."""
    return Settings(
        environment="test",
        service_token=SERVICE_TOKEN,
        offer_sweep_enabled=False,
        ticket_sweep_enabled=False,
        notice_sweep_enabled=False,
        gateway_url="",
        redis_url="",
    )


@pytest.fixture()
def client(session: Session, settings: Settings) -> Iterator[TestClient]:
    """A client of the app bound to the test session."""
    app = create_app(settings)

    def _session() -> Iterator[Session]:
        # like core.db.session_scope: a request's writes are undone on error
        savepoint = session.begin_nested()
        try:
            yield session
            session.flush()
        except CrmError as exc:
            if not exc.keep_changes and savepoint.is_active:
                savepoint.rollback()
                discard(session)
            raise
        except Exception:
            if savepoint.is_active:
                savepoint.rollback()
            discard(session)
            raise
        if savepoint.is_active:
            savepoint.commit()

    app.dependency_overrides[get_session] = _session
    # the console websocket opens short sessions of its own: the test's, here
    app.dependency_overrides[get_session_factory] = lambda: contextmanager(_session)
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def service_headers() -> dict[str, str]:
    """Headers of the bot / gateway / action server."""
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@pytest.fixture()
def desk(session: Session) -> Team:
    """The complaints desk."""
    return make_team(
        session, code="complaints", name="投诉处理组", topics=["complaints"]
    )
