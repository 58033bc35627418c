"""The chaos test, short: three replicas, a few dozen clients, two SIGKILLs and a Redis restart.

The full run is `python -m tests.chaos.harness` (200 visitors, 10 agents, 20,000 messages).
"""

from __future__ import annotations

import socket

import pytest

from tests.chaos.harness import Config, redis_up, run

SHORT = Config(
    visitors=30, agents=4, messages=1200, kills=2, redis_restarts=1, think_s=0.3,
    deadline_s=150,
)


def postgres_up() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


@pytest.mark.timeout(420)
async def test_nothing_lost_duplicated_or_reordered_under_chaos() -> None:
    if not (postgres_up() and redis_up()):
        pytest.skip("needs PostgreSQL and Redis on loopback (see .ci/run)")
    report = await run(SHORT)
    print("\n".join(report.lines))
    assert report.ok, "\n".join(report.lines)
