"""Keeps the bot's index in step with the stored knowledge base, on every replica."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from handoff import knowledge, miss_actions

log = logging.getLogger(__name__)

KB_POLL_S = 5.0  # how soon a KB change made elsewhere (CLI, another replica) goes live


async def watch_knowledge_base(app: FastAPI) -> None:
    """Rebuild the bot's index whenever the stored knowledge base changes."""
    seen = None
    while True:
        try:
            async with app.state.sessions() as session:
                # The entries, and the out-of-scope examples the misses inbox collects (issue 15).
                current = (
                    await knowledge.fingerprint(session=session),
                    await miss_actions.oos_fingerprint(session=session),
                )
                if seen is not None and current != seen:
                    entries = await knowledge.load_entries(session=session)
                    oos = await miss_actions.oos_texts(session=session)
                    log.info("knowledge base changed: rebuilding with %d entries", len(entries))
                    await app.state.brain.rebuild(entries, oos_examples=oos)
                seen = current
        except Exception:  # noqa: BLE001 - keep answering from the old index and retry
            log.exception("knowledge base watch failed; will retry")
        changed: asyncio.Event = app.state.kb_changed  # set by admin edits on this replica
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), KB_POLL_S)
        changed.clear()
