"""Background jobs that run every few seconds on every replica (sweeps, checks, purges)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(
    seconds: float, name: str, job: Callable[[], Awaitable[object]], *, first_now: bool = False
) -> None:
    """Run `job` every `seconds` until cancelled (first at once with `first_now`); a failure
    (the database restarting, say) is logged and the job runs again next time."""
    if not first_now:
        await asyncio.sleep(seconds)
    while True:
        try:
            await job()
        except Exception:  # noqa: BLE001 - whatever failed may work next time
            log.warning("%s failed; retrying in %.1fs", name, seconds, exc_info=True)
        await asyncio.sleep(seconds)
