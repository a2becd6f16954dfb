"""Load the reproducible demo book into a database with chunked bulk inserts.

Ids are assigned in Python (after the highest id already present), so that rows can
refer to each other without round trips; PostgreSQL sequences are moved past them at
the end. On PostgreSQL rows go in with ``COPY``, elsewhere with batched INSERTs.
Customers are generated and inserted a chunk at a time, so memory stays bounded at a
million customers (only the set of used ID numbers grows).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.orm import Session

from crm_backend.core.config import Settings, get_settings
from crm_backend.core.security import hash_password
from crm_backend.demo.catalog import (
    AGENTS,
    DEFAULT_SEED,
    DEMO_CUSTOMERS,
    DEMO_PASSWORD,
    DEPARTED_DAYS_AGO,
    SALES_TEAMS,
    TEAMS,
)
from crm_backend.demo.context import BOOK_TABLES, BUSINESS_TZ, Context, Row, Staff
from crm_backend.demo.customers import add_random_customer
from crm_backend.demo.products import PRODUCTS, product_row
from crm_backend.demo.scenarios import SCENARIOS
from crm_backend.models import Agent, Customer, Product, Team
from crm_backend.models.base import Base
from crm_backend.models.enums import AgentRole, AgentStatus, Presence

STAFF_TABLES: tuple[type[Base], ...] = (Team, Agent, Product)
ALL_TABLES = STAFF_TABLES + BOOK_TABLES
INSERT_BATCH = 5000
DEFAULT_CHUNK = 2000
DEFAULT_CUSTOMERS = 3000


class NotEmpty(Exception):
    """The database already holds a book (or the demo catalogue)."""


@dataclass
class Summary:
    """What a run inserted and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    scores: str = "not computed"


def today_in_business_tz() -> date:
    """Today's date at the insurer (the default "as of" day)."""
    return datetime.now(UTC).astimezone(BUSINESS_TZ).date()


def max_ids(session: Session) -> dict[str, int]:
    """The highest id of every table the generator writes."""
    return {
        model.__tablename__: session.scalar(
            select(func.coalesce(func.max(model.__table__.c.id), 0))
        )
        or 0
        for model in ALL_TABLES
    }


def build_staff(
    today: date, id_base: dict[str, int], password_hash: str
) -> tuple[Staff, dict[str, list[Row]]]:
    """The fixed cast (teams, agents, products) as rows, and their ids for the book."""
    as_of = datetime.combine(today, datetime.min.time(), BUSINESS_TZ).astimezone(UTC)
    rows: dict[str, list[Row]] = {m.__tablename__: [] for m in STAFF_TABLES}
    team_ids: dict[str, int] = {}
    for n, team in enumerate(TEAMS, start=1):
        team_ids[team.code] = id_base.get("teams", 0) + n
        rows["teams"].append(
            {
                "id": team_ids[team.code],
                "code": team.code,
                "name": team.name,
                "topics": list(team.topics),
            }
        )
    departed_at = as_of - timedelta(days=DEPARTED_DAYS_AGO, hours=7)
    hired = as_of - timedelta(days=3 * 365)
    agent_ids: dict[str, int] = {}
    for n, spec in enumerate(AGENTS, start=1):
        agent_ids[spec.employee_no] = id_base.get("agents", 0) + n
        changed = departed_at if spec.departed else as_of - timedelta(minutes=5 + 7 * n)
        rows["agents"].append(
            {
                "id": agent_ids[spec.employee_no],
                "employee_no": spec.employee_no,
                "name": spec.name,
                "role": spec.role,
                "team_id": team_ids[spec.team],
                "skills": list(spec.skills),
                "presence": Presence.offline if spec.departed else spec.presence,
                "presence_changed_at": changed,
                "capacity": spec.capacity,
                "status": AgentStatus.departed if spec.departed else AgentStatus.active,
                "departed_at": departed_at if spec.departed else None,
                "work_phone": f"021-3896{1000 + n:04d}",
                "email": f"{spec.employee_no.lower()}@anshun-life.example",
                "password_hash": password_hash,
                "created_at": hired,
                "updated_at": changed,
            }
        )
    product_ids: dict[str, int] = {}
    for n, product in enumerate(PRODUCTS, start=1):
        product_ids[product.code] = id_base.get("products", 0) + n
        rows["products"].append(product_row(product, product_ids[product.code]))
    active = [a for a in AGENTS if not a.departed]
    customer_roles = (AgentRole.sales_agent, AgentRole.account_manager)

    def _members(team: str, only_online: bool = False) -> tuple[str, ...]:
        people = [a for a in active if a.team == team]
        if only_online:
            people = [
                a
                for a in people
                if a.presence == Presence.online and a.role != AgentRole.supervisor
            ]
        people.sort(key=lambda a: (a.role != AgentRole.supervisor, a.employee_no))
        return tuple(a.employee_no for a in people)

    servicing = {
        team: tuple(
            a.employee_no for a in AGENTS if a.team == team and a.role in customer_roles
        )
        for team in (*SALES_TEAMS, "vip")
    }
    staff = Staff(
        team_ids=team_ids,
        agent_ids=agent_ids,
        product_ids=product_ids,
        servicing=servicing,
        online={t.code: _members(t.code, True) for t in TEAMS},
        members={t.code: _members(t.code) for t in TEAMS},
        online_all=frozenset(
            a.employee_no for a in active if a.presence == Presence.online
        ),
        account_managers=frozenset(
            a.employee_no for a in AGENTS if a.role == AgentRole.account_manager
        ),
        names={a.employee_no: a.name for a in AGENTS},
        departed_at=departed_at,
    )
    return staff, rows


def iter_book(
    ctx: Context,
    customers: int,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[dict[str, list[Row]]]:
    """The book's rows, ``chunk_size`` customers at a time (pure: no database)."""
    for demo in DEMO_CUSTOMERS:
        ctx.people.reserve(phone=demo.phone, id_number=demo.id_number)
    for index in range(customers):
        if index < len(SCENARIOS):
            SCENARIOS[index](ctx)
        else:
            add_random_customer(ctx, index)
        if (index + 1) % chunk_size == 0:
            yield ctx.take_rows()
    rows = ctx.take_rows()
    if any(rows.values()):
        yield rows


def _copy_rows(session: Session, table: Table, rows: list[Row]) -> None:
    """PostgreSQL ``COPY … FROM STDIN``: several times faster than INSERTs."""
    import psycopg  # only needed (and only installed) with PostgreSQL
    from psycopg.types.json import Json

    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    dbapi = session.connection().connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    with (
        dbapi.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    Json(row[c]) if c in json_columns and row[c] is not None else row[c]
                    for c in columns
                ]
            )


def insert_rows(
    session: Session, rows: dict[str, list[Row]], counts: dict[str, int]
) -> None:
    """Bulk-insert ``rows`` table by table (parents first): COPY or batched INSERTs."""
    copy = session.get_bind().dialect.name == "postgresql"
    for name, table_rows in rows.items():
        table = Base.metadata.tables[name]
        if copy and table_rows:
            _copy_rows(session, table, table_rows)
        else:
            for start in range(0, len(table_rows), INSERT_BATCH):
                batch = table_rows[start : start + INSERT_BATCH]
                session.execute(insert(table), batch)
        counts[name] = counts.get(name, 0) + len(table_rows)


def reset_sequences(session: Session) -> None:
    """Move PostgreSQL's id sequences past the ids assigned in Python."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in ALL_TABLES:
        name = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


def ensure_empty(session: Session) -> None:
    """Refuse to load into a database that already has customers or the catalogue."""
    customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    if customers:
        raise NotEmpty(f"the database already has {customers} customers")
    codes = [t.code for t in TEAMS]
    if session.scalar(
        select(func.count()).select_from(Team).where(Team.code.in_(codes))
    ):
        raise NotEmpty("the demo teams already exist")


def seed_canned_replies(session: Session) -> int:
    """The standard canned replies (those missing), for every team that exists.

    Data, not schema: it runs on any migrated database, so an existing book gets
    them too (``python -m crm_backend.demo --if-empty`` seeds them when it skips).
    """
    # imported here: the conversations domain imports half the CRM
    from crm_backend.conversations.canned import seed

    return seed(session)


def recompute_scores(session: Session, *, now: datetime, settings: Settings) -> str:
    """Value and churn scores for every customer, as of the book's "as of" instant."""
    # imported here: the analytics service imports half the CRM, the CLI needs little
    from crm_backend.analytics.service import recompute_all

    scored = recompute_all(session, now=now, settings=settings)
    return f"computed for {scored:,} customers"


def generate(
    session: Session,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    settings: Settings | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    scores: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Load the demo book into ``session``'s database (flushes, never commits)."""
    started = time.perf_counter()
    settings = settings or get_settings()
    today = today or today_in_business_tz()
    ensure_empty(session)
    id_base = max_ids(session)
    staff, staff_rows = build_staff(today, id_base, hash_password(DEMO_PASSWORD))
    summary = Summary()
    insert_rows(session, staff_rows, summary.counts)
    summary.counts["canned_replies"] = seed_canned_replies(session)
    ctx = Context(
        seed=seed,
        today=today,
        staff=staff,
        id_base=id_base,
        ack_hours=settings.ticket_ack_hours,
        resolve_days=settings.ticket_resolve_days,
    )
    done = 0
    for rows in iter_book(ctx, customers, chunk_size):
        insert_rows(session, rows, summary.counts)
        done = min(customers, done + chunk_size)
        if progress:
            progress(done, customers)
    reset_sequences(session)
    session.flush()
    if scores:
        summary.scores = recompute_scores(session, now=ctx.as_of, settings=settings)
        session.flush()
    summary.seconds = time.perf_counter() - started
    return summary
