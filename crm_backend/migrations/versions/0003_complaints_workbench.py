"""complaints workbench: escalation, named verbs, remedy, customer notices

Tickets gain ``escalated_to_id`` (the supervisor the breach job raised the ticket
to, once) and ``escalated_at``; the named verbs' times (``customer_updated_at``,
``info_requested_at``, ``proposed_at``), the ``proposal`` and the resolution's
``remedy``, ``refund_fen`` and ``remedy_reason``. ``ticket_notices`` is new: what
the customer is owed about each visible step, until delivered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_backend.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, crm_backend.models.base.UTCDateTime(timezone=True), nullable=True
    )


def upgrade() -> None:
    op.create_table(
        "ticket_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            crm_backend.models.base.UTCDateTime(timezone=True),
            nullable=False,
        ),
        _when("delivered_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_ticket_notices_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_notices_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_notices")),
    )
    with op.batch_alter_table("ticket_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_notices_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_notices_ticket_id"), ["ticket_id"], unique=False
        )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in ("customer_updated_at", "info_requested_at", "proposed_at"):
            batch_op.add_column(_when(name))
        batch_op.add_column(sa.Column("proposal", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "remedy",
                sa.Enum(
                    "refund",
                    "correction",
                    "apology",
                    "rejected",
                    name="ticketremedy",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("refund_fen", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("remedy_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("escalated_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "escalated_at",
                crm_backend.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_tickets_escalated_to_id"), ["escalated_to_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_escalated_to_id_agents"),
            "agents",
            ["escalated_to_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_escalated_to_id_agents"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tickets_escalated_to_id"))
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("escalated_to_id")
        for name in (
            "remedy_reason",
            "refund_fen",
            "remedy",
            "proposal",
            "proposed_at",
            "info_requested_at",
            "customer_updated_at",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("ticket_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_notices_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_notices_customer_id"))
    op.drop_table("ticket_notices")
