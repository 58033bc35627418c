"""The `chatdesk` command as an admin runs it, against the test database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from app.db import make_engine, make_sessionmaker
from handoff import knowledge
from tests.conftest import TEST_KB


async def chatdesk(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CHATDESK_DATABASE_URL=database_url, HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "app.cli", *args]
    return await asyncio.to_thread(
        subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=300
    )


async def stored_ids(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as s:
            return [e.id for e in await knowledge.load_entries(session=s)]
    finally:
        await engine.dispose()


async def test_import_export_and_a_broken_file_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    done = await chatdesk(database_url, "kb", "import", str(TEST_KB), "--no-check")
    assert done.returncode == 0, done.stderr
    assert "imported 8 entries" in done.stdout
    before = await stored_ids(database_url)
    assert len(before) == 8

    broken = tmp_path / "broken.csv"
    broken.write_text("question,answer\nHow do I pay?,By card\n,missing question\n")
    refused = await chatdesk(database_url, "kb", "import", str(broken), "--no-check")
    assert refused.returncode == 2
    assert "broken.csv:3" in refused.stderr and "not changed" in refused.stderr
    assert await stored_ids(database_url) == before

    out = tmp_path / "export.jsonl"
    exported = await chatdesk(database_url, "kb", "export", str(out))
    assert exported.returncode == 0, exported.stderr
    assert len(out.read_text().splitlines()) == 8


async def test_agent_create_refuses_a_duplicate(database_url: str) -> None:
    args = ["agent", "create", "--email", "bo@example.com", "--name", "Bo", "--password",
            "long enough pw"]
    first = await chatdesk(database_url, *args)
    assert first.returncode == 0, first.stderr
    again = await chatdesk(database_url, *args)
    assert again.returncode == 2 and "already exists" in again.stderr
