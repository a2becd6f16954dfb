"""Canned replies agents insert into a chat, with variables filled per customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.models.base import Base, utcnow


class CannedReply(Base):
    """A reply template; ``team_id`` None = every team. Variables: ``{customer_name}``,
    ``{agent_name}``, ``{employee_no}``."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("team_id", "shortcut"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(64))
    shortcut: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
