"""`chatdesk serve` as a new user first runs it: without --demo, on a new or a behind database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.db import make_engine
from app.preflight import upgrade_database
from tests import conftest
from tests.conftest import PG_ADMIN_URL, free_port

SERVE_TIMEOUT_S = 120


def serve_env(database_url: str) -> dict[str, str]:
    return dict(os.environ, CHATDESK_DATABASE_URL=database_url, HF_HUB_OFFLINE="1")


async def refused(database_url: str) -> subprocess.CompletedProcess[str]:
    """`chatdesk serve` that must exit by itself (it refuses the database)."""
    cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port())]
    return await asyncio.to_thread(
        subprocess.run, cmd, env=serve_env(database_url), capture_output=True, text=True,
        timeout=SERVE_TIMEOUT_S,
    )


def assert_said_plainly(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    for word in words:
        assert word in done.stderr, done.stderr


async def test_a_fresh_sqlite_file_is_migrated_and_served_and_says_how_to_make_an_admin(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "serve", "--port", str(port),
        env=serve_env(url), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(SERVE_TIMEOUT_S * 4):
                assert proc.returncode is None, "chatdesk serve exited"
                try:
                    if (await http.get("/api/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.25)
            assert (await http.get("/api/health")).status_code == 200
            assert (await http.get("/agent")).status_code == 200
    finally:
        proc.terminate()
        out = (await asyncio.wait_for(proc.communicate(), 30))[0].decode()
    assert "database migrated to schema" in out
    assert "No admin account yet" in out and "chatdesk agent create --admin" in out
    assert "Traceback" not in out


async def test_an_unreachable_database_is_one_clear_line_without_its_password() -> None:
    done = await refused("postgresql+asyncpg://chatdesk:s3cret-pw@127.0.0.1:1/chatdesk")
    assert_said_plainly(done, "cannot open the database", "127.0.0.1:1")
    assert "s3cret-pw" not in done.stderr


async def test_a_database_from_a_newer_chatdesk_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}"
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await engine.dispose()
    assert_said_plainly(await refused(url), "schema 9999", "newer chatdesk")


@pytest.mark.skipif(conftest.test_backend() != "postgresql", reason="a PostgreSQL database behind")
async def test_a_postgresql_database_behind_says_which_command_brings_it_up_to_date() -> None:
    name = f"chatdesk_behind_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        assert_said_plainly(await refused(url), "no schema (an empty database)", "db upgrade")

        from alembic import command

        from app.preflight import alembic_config

        await asyncio.to_thread(command.upgrade, alembic_config(url), "0005")
        assert_said_plainly(await refused(url), "schema 0005", "chatdesk db upgrade")
        await asyncio.to_thread(upgrade_database, url)  # what the message says to run
        engine = make_engine(url)
        async with engine.connect() as conn:
            assert (await conn.scalar(text("SELECT version_num FROM alembic_version"))) != "0005"
        await engine.dispose()
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
