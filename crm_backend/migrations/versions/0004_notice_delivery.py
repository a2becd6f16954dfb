"""notice delivery: the delivery job's last attempt of each ticket notice

``ticket_notices.attempted_at`` lets the job (``tickets/delivery.py``) try a notice
again no sooner than its interval, across restarts and CRM workers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_backend.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_notices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "attempted_at",
                crm_backend.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_notices", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
