"""Engine and session factory; the request's session commits, services only flush."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from crm_backend.core.config import get_settings
from crm_backend.core.errors import CrmError


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT;
            # take it over (SQLAlchemy's documented recipe) so that nested
            # transactions and rollbacks behave as on PostgreSQL.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE takes the write lock up front and waits for it (busy
            # timeout). A deferred BEGIN that later upgrades to a write fails at
            # once with "database is locked" when another writer got there first.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """The process-wide session factory."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def session_scope() -> Iterator[Session]:
    """A request-scoped session: commit on success, roll back on error (unless the
    error says its changes must be kept)."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except CrmError as exc:
        session.commit() if exc.keep_changes else session.rollback()
        raise
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
