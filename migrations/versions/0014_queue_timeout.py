"""queue timeout: when a queued visitor was offered a ticket instead of waiting, and a
ticket's promised reply time as the visitor read it (issue 16)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ticket_offered_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promised_when", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("promised_when")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("ticket_offered_at")
