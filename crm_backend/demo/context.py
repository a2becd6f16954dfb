"""Shared state of one generator run: randomness, ids, rows waiting to be inserted."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker

from crm_backend.demo.people import PeopleFactory
from crm_backend.models import (
    Beneficiary,
    Claim,
    ClaimEvent,
    Conversation,
    Customer,
    CustomerAssignment,
    CustomerSignal,
    Escalation,
    EscalationEvent,
    Message,
    Payment,
    Policy,
    PremiumBill,
    Ticket,
    TicketEvent,
)
from crm_backend.models.base import Base
from crm_backend.models.enums import (
    BillStatus,
    ClaimStatus,
    EscalationStatus,
    PolicyStatus,
    TicketStatus,
)

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
_UTC_OFFSET = timedelta(hours=8)
Row = dict[str, Any]

# Insert order (parents before children) of the per-customer tables.
BOOK_TABLES: tuple[type[Base], ...] = (
    Customer,
    CustomerAssignment,
    Policy,
    Beneficiary,
    PremiumBill,
    Payment,
    Claim,
    ClaimEvent,
    Conversation,
    Message,
    Ticket,
    TicketEvent,
    Escalation,
    EscalationEvent,
    CustomerSignal,
)


# A live demo escalation offered to an agent who has not accepted it yet (status
# queued, with an offer): not a status of its own.
OFFERED = "offered"


@dataclass(frozen=True)
class Staff:
    """Database ids of the fixed cast, by code / employee number."""

    team_ids: dict[str, int]
    agent_ids: dict[str, int]
    product_ids: dict[str, int]
    # employee numbers of the customer-facing agents, by sales team
    servicing: dict[str, tuple[str, ...]]
    # employee numbers of the online / all active members, by team
    online: dict[str, tuple[str, ...]]
    members: dict[str, tuple[str, ...]]
    online_all: frozenset[str]
    account_managers: frozenset[str]
    names: dict[str, str]
    departed_at: datetime


@dataclass
class Coverage:
    """Statuses still to be produced once, so that even a small book shows them all."""

    policy: list[PolicyStatus] = field(
        default_factory=lambda: [
            PolicyStatus.grace,
            PolicyStatus.lapsed,
            PolicyStatus.surrendered,
            PolicyStatus.matured,
        ]
    )
    unpaid_bill: list[BillStatus] = field(
        default_factory=lambda: [BillStatus.failed, BillStatus.overdue]
    )
    claim: list[ClaimStatus] = field(default_factory=lambda: list(ClaimStatus))
    ticket: list[TicketStatus] = field(default_factory=lambda: list(TicketStatus))
    escalation: list[EscalationStatus | str] = field(
        default_factory=lambda: [
            EscalationStatus.queued,
            OFFERED,
            EscalationStatus.active,
            EscalationStatus.closed,
        ]
    )


class Context:
    """One run: seeded randomness, the "as of" instant, id counters and row buffers."""

    def __init__(
        self,
        *,
        seed: int,
        today: date,
        staff: Staff,
        id_base: dict[str, int],
        ack_hours: int = 24,
        resolve_days: int = 15,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        self.today = today
        # midnight at the start of ``today`` in China: everything generated is before it
        self.as_of = datetime.combine(today, time(0, 0), BUSINESS_TZ).astimezone(UTC)
        self.people = PeopleFactory(self.rng, self.faker, today)
        self.staff = staff
        self.ack_hours = ack_hours
        self.resolve_days = resolve_days
        self._ids = dict(id_base)
        self.rows: dict[str, list[Row]] = {m.__tablename__: [] for m in BOOK_TABLES}
        self.policy_seq = 100  # 1..99 are reserved for the demo customers' policies
        self.claim_seq = 0
        self.ticket_seq = 0
        self.coverage = Coverage()

    # ---- ids and rows -------------------------------------------------------------

    def next_id(self, model: type[Base]) -> int:
        """A fresh primary key for ``model`` (assigned here, so children can refer)."""
        name = model.__tablename__
        self._ids[name] = self._ids.get(name, 0) + 1
        return self._ids[name]

    def add(self, model: type[Base], row: Row) -> Row:
        """Queue ``row`` for insertion into ``model``'s table, with a fresh id."""
        row["id"] = self.next_id(model)
        self.rows[model.__tablename__].append(row)
        return row

    def take_rows(self) -> dict[str, list[Row]]:
        """The queued rows (in insert order), leaving the buffers empty."""
        taken = self.rows
        self.rows = {m.__tablename__: [] for m in BOOK_TABLES}
        return taken

    def last_ids(self) -> dict[str, int]:
        """The last id assigned per table."""
        return dict(self._ids)

    # ---- time -------------------------------------------------------------------

    def at(
        self, day: date, hour: int = 10, minute: int = 0, second: int = 0
    ) -> datetime:
        """A business-local wall-clock time on ``day`` as an aware UTC datetime."""
        # China has kept UTC+8 without daylight saving since 1991: plain arithmetic
        # here is exact for the book's dates and much faster than zoneinfo.
        moment = datetime(
            day.year, day.month, day.day, hour, minute, second, tzinfo=UTC
        )
        return moment - _UTC_OFFSET

    def day_time(
        self, day: date, *, start_hour: int = 8, end_hour: int = 22
    ) -> datetime:
        """A random time during working hours of ``day``."""
        rng = self.rng
        return self.at(
            day,
            rng.randrange(start_hour, end_hour),
            rng.randrange(60),
            rng.randrange(60),
        )

    def ago(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        """The "as of" instant minus a duration."""
        return self.as_of - timedelta(days=days, hours=hours, minutes=minutes)

    def clamp(self, moment: datetime) -> datetime:
        """``moment``, but never after the "as of" instant."""
        return min(moment, self.as_of - timedelta(minutes=1))

    def local_date(self, moment: datetime) -> date:
        """The business-local calendar day of ``moment``."""
        return moment.astimezone(BUSINESS_TZ).date()


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's last day."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has 28 days


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February becomes 28 February)."""
    return add_months(day, 12 * years)


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months
