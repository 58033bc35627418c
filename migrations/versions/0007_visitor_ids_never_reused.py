"""visitor ids are never handed out twice (SQLite AUTOINCREMENT)

A visitor's token names their id. SQLite gives a new row the highest id + 1, so once the
newest visitor was deleted (handoff/privacy.py) the next visitor would get their id, and the
deleted visitor's token would open the newcomer's chat. AUTOINCREMENT never reuses an id.
PostgreSQL sequences never do either: nothing to change there.

The table is rebuilt from what is in the database (so columns added by other migrations are
kept). Its rows are copied aside, the table dropped and created again, the rows put back; the
foreign keys that point at it are checked at the commit, when every row is back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "visitors"


def _rebuild(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for (other,) in bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for fk in bind.exec_driver_sql(f'PRAGMA foreign_key_list("{other}")').mappings():
            # Dropping the table deletes its rows first, which would cascade into `other`.
            if fk["table"] == TABLE and fk["on_delete"] != "NO ACTION":
                raise RuntimeError(f"{other} refers to {TABLE} ON DELETE {fk['on_delete']}")
    old = sa.Table(TABLE, sa.MetaData(), autoload_with=bind)
    new = old.to_metadata(sa.MetaData())
    new.dialect_kwargs["sqlite_autoincrement"] = autoincrement
    columns = ", ".join(f'"{c.name}"' for c in old.columns)
    op.execute("PRAGMA defer_foreign_keys = ON")  # until the commit; it resets itself then
    op.execute(f'CREATE TABLE "_{TABLE}_copy" AS SELECT {columns} FROM "{TABLE}"')
    op.execute(f'DROP TABLE "{TABLE}"')
    new.create(bind)
    op.execute(f'INSERT INTO "{TABLE}" ({columns}) SELECT {columns} FROM "_{TABLE}_copy"')
    op.execute(f'DROP TABLE "_{TABLE}_copy"')


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
