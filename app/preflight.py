"""What `chatdesk serve` checks before it listens: the database's schema and the first admin.

- The embedded default (a SQLite file) migrates itself: a new user's first `chatdesk serve`
  just works. Any other database that is behind is left alone (it may be shared, and wants a
  backup first): serve says which command brings it up to date and exits with code 2.
- A database it cannot reach, or one at a schema newer than this chatdesk, is a clear one-line
  error and code 2 too; never a traceback.
- With no admin account yet, serve prints how to create one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.db import make_engine, make_sessionmaker
from handoff.models import Agent

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
UPGRADE_HINT = "chatdesk db upgrade"


class PreflightError(Exception):
    """Why serve cannot start, in words for the operator (printed, then exit code 2)."""


@dataclass(frozen=True)
class Schema:
    current: str | None  # None: an empty database (no alembic_version)
    head: str
    known: bool  # the current revision is one this chatdesk has

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def shown_url(url: str) -> str:
    """The database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def is_embedded(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


async def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def read_schema(url: str) -> Schema:
    """The database's schema revision against this chatdesk's migrations."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    try:
        current = asyncio.run(_revision(url))
    except Exception as exc:  # noqa: BLE001 - any driver's connection error, said plainly
        raise PreflightError(
            f"cannot open the database {shown_url(url)}: {type(exc).__name__}: {exc}"
        ) from exc
    known = current is None or current in {s.revision for s in scripts.walk_revisions()}
    return Schema(current=current, head=str(scripts.get_current_head()), known=known)


async def _count_admins(url: str) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            enabled_admins = (
                select(func.count())
                .select_from(Agent)
                .where(Agent.is_admin.is_(True), Agent.disabled_at.is_(None))
            )
            return int(await session.scalar(enabled_admins) or 0)
    finally:
        await engine.dispose()


def count_admins(url: str) -> int:
    """Enabled admin accounts (on a database at this chatdesk's schema)."""
    return asyncio.run(_count_admins(url))


def check_schema(schema: Schema, url: str) -> None:
    """Raise PreflightError unless the schema is this chatdesk's (or may be migrated here)."""
    if schema.up_to_date:
        return
    where = shown_url(url)
    if not schema.known:
        raise PreflightError(
            f"the database {where} is at schema {schema.current}, which this chatdesk does not"
            f" know (it needs {schema.head}): it was upgraded by a newer chatdesk; run that one"
        )
    at = f"schema {schema.current}" if schema.current else "no schema (an empty database)"
    raise PreflightError(
        f"the database {where} has {at}; this chatdesk needs schema {schema.head}.\n"
        f"Back it up, then bring it up to date with:\n"
        f"    CHATDESK_DATABASE_URL='{where}' {UPGRADE_HINT}\n"
        f"(with the real password in the URL) and start chatdesk again."
    )


def upgrade_database(url: str) -> None:
    """Apply every Alembic migration to the database at `url`."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def prepare_database(url: str, *, migrate: bool) -> None:
    """Bring the embedded SQLite file (or, with --demo, any database) to this chatdesk's
    schema; refuse any other database that is behind, saying why."""
    schema = read_schema(url)
    if schema.up_to_date:
        return
    if schema.known and (migrate or is_embedded(url)):
        upgrade_database(url)
        print(f"database migrated to schema {schema.head} ({shown_url(url)})", flush=True)
        return
    check_schema(schema, url)


def no_admin_hint(base: str) -> str:
    return (
        "\nNo admin account yet. Create the first one with:\n"
        "    chatdesk agent create --admin --email you@example.com --name 'Your Name'\n"
        f"then log in at {base}/agent and open Admin ({base}/admin).\n"
    )
