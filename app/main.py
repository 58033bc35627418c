"""The FastAPI application factory and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse

from app.api import DOMAIN_STATUS, domain_error
from app.api import router as api_router
from app.console_api import router as console_router
from app.db import make_engine, make_sessionmaker
from app.health import router as health_router
from app.kb_api import router as kb_router
from app.security import Tokens
from app.settings import Settings, get_settings
from app.widget_routes import router as widget_router
from app.ws import Hub
from app.ws import router as ws_router
from bot import Brain
from handoff import knowledge
from handoff.bus import make_bus

log = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
KB_POLL_S = 5.0  # how soon a KB change made elsewhere (CLI, another replica) goes live


def thresholds_from(settings: Settings) -> dict[str, float]:
    """Threshold overrides from the settings; calibrated values are used for the rest."""
    overrides = {"answer": settings.answer_threshold, "margin": settings.clarify_margin}
    return {k: v for k, v in overrides.items() if v is not None}


async def _watch_knowledge_base(app: FastAPI) -> None:
    """Rebuild the bot's index whenever the stored knowledge base changes."""
    seen = None
    while True:
        try:
            async with app.state.sessions() as session:
                current = await knowledge.fingerprint(session=session)
                if seen is not None and current != seen:
                    entries = await knowledge.load_entries(session=session)
                    log.info("knowledge base changed: rebuilding with %d entries", len(entries))
                    await app.state.brain.rebuild(entries)
                seen = current
        except Exception:  # noqa: BLE001 - keep answering from the old index and retry
            log.exception("knowledge base watch failed; will retry")
        changed: asyncio.Event = app.state.kb_changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), KB_POLL_S)
        changed.clear()


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(settings.database_url)
    app.state.sessions = make_sessionmaker(engine)
    bus = make_bus(settings.bus_url)
    app.state.bus = bus
    watcher: asyncio.Task[None] | None = None
    sweeper: asyncio.Task[None] | None = None
    try:
        await bus.start()
        async with app.state.sessions() as session:
            entries = await knowledge.load_entries(session=session)
        brain = await Brain.create(
            entries,
            model=settings.model,
            thresholds=thresholds_from(settings),
            improve=settings.bot_improve,
            fine_tune=settings.bot_fine_tune,
        )
        app.state.brain = brain
        async with brain:
            watcher = asyncio.create_task(_watch_knowledge_base(app), name="kb-watch")
            sweeper = asyncio.create_task(
                app.state.hub.sweep_forever(app.state.sessions), name="delivery-sweep"
            )
            try:
                yield
            finally:
                # Graceful: tell every client to reconnect (elsewhere) before we go away.
                await app.state.hub.close_all()
    finally:
        for task in (watcher, sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await bus.stop()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing connects until the lifespan starts."""
    settings = settings or get_settings()
    app = FastAPI(title="chatdesk", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.tokens = Tokens(settings)
    app.state.hub = Hub()
    app.state.kb_changed = asyncio.Event()  # set by admin edits: rebuild without waiting
    app.include_router(health_router)
    for error in DOMAIN_STATUS:
        app.add_exception_handler(error, domain_error)
    app.include_router(api_router)
    app.include_router(kb_router)
    app.include_router(console_router)
    app.include_router(ws_router)
    app.include_router(widget_router)  # /widget.js, and the demo shop at /

    @app.get("/agent", include_in_schema=False)
    async def agent_page() -> FileResponse:
        return FileResponse(WIDGET_DIR / "console.html")

    @app.get("/console", include_in_schema=False)
    async def console_redirect() -> RedirectResponse:
        return RedirectResponse("/agent")

    return app
