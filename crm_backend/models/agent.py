"""Teams, named agents, their sessions and the customer ↔ agent assignment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, TimestampMixin, str_enum, utcnow
from crm_backend.models.enums import AgentRole, AgentStatus, Presence


class Team(Base):
    """A desk agents belong to: VIP desk, retention, complaints, general, sales…"""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # topics this desk takes from the queue: "vip", "retention", "complaints", "general"
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)


class Agent(TimestampMixin, Base):
    """A named person who serves customers or supervises those who do."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[AgentRole] = mapped_column(str_enum(AgentRole))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    presence: Mapped[Presence] = mapped_column(
        str_enum(Presence), default=Presence.offline
    )
    presence_changed_at: Mapped[datetime | None]
    capacity: Mapped[int] = mapped_column(default=3)
    status: Mapped[AgentStatus] = mapped_column(
        str_enum(AgentStatus), default=AgentStatus.active
    )
    departed_at: Mapped[datetime | None]
    work_phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str | None] = mapped_column(String(256))


class AgentSession(Base):
    """A login: an opaque token, stored as its SHA-256."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class CustomerAssignment(Base):
    """Who serves a customer, with history; the open row is the current one."""

    __tablename__ = "customer_assignments"
    __table_args__ = (
        Index(
            "uq_customer_assignments_open",
            "customer_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32), default="initial")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
