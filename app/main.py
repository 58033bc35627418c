"""The FastAPI application factory and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import replace

from fastapi import FastAPI

from app.db import make_engine, make_read_sessionmaker, make_sessionmaker, read_only
from app.errors import install_error_handlers
from app.headers import SecurityHeaders
from app.kb_watch import watch_knowledge_base
from app.limits import Limiter
from app.logs import RequestIds
from app.routes import (
    agents_admin,
    audit,
    auth,
    canned,
    conversations,
    health,
    kb,
    metrics,
    pages,
    privacy,
    profile,
    team,
    tickets,
)
from app.routes.api_keys_admin import router as api_keys_router
from app.routes.canned_admin import router as canned_admin_router
from app.routes.integration_messages import router as messages_router
from app.routes.kb_teams import router as kb_teams_router
from app.routes.misses_admin import router as misses_router
from app.routes.reports import router as reports_router
from app.routes.settings_admin import router as settings_router
from app.routes.teams_admin import agent_router as teams_agent_router
from app.routes.teams_admin import router as teams_router
from app.routes.webhooks_admin import router as webhooks_router
from app.security import ApiKeyUsage, make_tokens
from app.settings import Settings, get_settings
from app.ws import add_websockets
from app.ws.hub import Hub
from bot import Brain
from handoff import (
    knowledge,
    mail_in,
    miss_actions,
    queue_timeout,
    service_settings,
    sla_sweep,
    team_routing,
    webhooks,
)
from handoff.bus import make_bus
from handoff.privacy import purge_forever
from handoff.reroute import reroute_forever
from handoff.routing import drain_queue
from handoff.visitor_reader import VisitorReader
from handoff.webhook_delivery import DeliveryWorker
from handoff.writer import MessageWriter


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Database, bus, bot and message writer up; the KB watcher and the sweep run until shutdown."""
    settings: Settings = app.state.settings
    engine = make_engine(settings.database_url)
    app.state.sessions = make_sessionmaker(engine)
    app.state.read_sessions = make_read_sessionmaker(engine)
    bus = make_bus(settings.bus_url)
    app.state.bus = bus
    app.state.limiter = Limiter.create(
        policies=settings.limit_policies(), bus_url=settings.bus_url, enabled=settings.rate_limits
    )
    background: list[asyncio.Task[None]] = []
    try:
        await bus.start()
        app.state.tokens = await make_tokens(settings, app.state.sessions)
        async with app.state.read_sessions() as session:  # the admin's saved settings, if any
            await service_settings.refresh(session=session, current=app.state.service_settings)
            await webhooks.refresh(session=session)  # who wants which events, in this process
        async with app.state.sessions() as session:
            entries = await knowledge.load_entries(session=session)
            oos = await miss_actions.oos_texts(session=session)  # the misses inbox's (issue 15)
        brain = await Brain.create(
            entries,
            oos_examples=oos,
            model=settings.model,
            thresholds=settings.bot_thresholds(),
            improve=settings.bot_improve,
            fine_tune=settings.bot_fine_tune,
            language=settings.kb_language,
        )
        app.state.brain = brain
        async with (
            brain,
            MessageWriter(engine, bus) as writer,
            VisitorReader(read_only(engine)) as reader,
        ):
            app.state.writer, app.state.visitor_reader = writer, reader
            background.append(asyncio.create_task(watch_knowledge_base(app), name="kb-watch"))
            follow = service_settings.follow_forever(
                sessions=app.state.read_sessions, bus=bus, current=app.state.service_settings
            )
            background.append(asyncio.create_task(follow, name="settings-follow"))
            hooks = webhooks.follow_forever(sessions=app.state.read_sessions, bus=bus)
            background.append(asyncio.create_task(hooks, name="webhooks-follow"))
            deliver = DeliveryWorker(
                sessions=app.state.sessions,
                read_sessions=app.state.read_sessions,
                config=settings.webhooks(),
            )
            background.append(asyncio.create_task(deliver.run_forever(), name="webhooks"))
            background.append(
                asyncio.create_task(
                    app.state.hub.sweep_forever(app.state.read_sessions), name="delivery-sweep"
                )
            )
            timeouts = queue_timeout.sweep_forever(  # issue 16: nobody waits forever
                sessions=app.state.sessions,
                read_sessions=app.state.read_sessions,
                bus=bus,
                routing=app.state.routing,
                timeouts=settings.queue_timeouts(),
            )
            background.append(asyncio.create_task(timeouts, name="queue-timeouts"))
            fallback = team_routing.fallback_forever(
                sessions=app.state.sessions,
                fallback_s=settings.team_fallback_s,
                drain=lambda session: drain_queue(
                    session=session, bus=bus, routing=app.state.routing
                ),
            )
            background.append(asyncio.create_task(fallback, name="team-fallback"))
            ended = app.state.hub.end_logins_forever(bus, app.state.read_sessions)
            background.append(asyncio.create_task(ended, name="logins-ended"))
            rerouting = reroute_forever(
                sessions=app.state.sessions,
                read_sessions=app.state.read_sessions,
                bus=bus,
                routing=app.state.routing,
                config=settings.reroute(),
            )
            background.append(asyncio.create_task(rerouting, name="reroute"))
            if settings.mail_in_port is not None:  # e-mail replies (handoff/mail_in.py)
                smtp = await mail_in.start(
                    config=settings.mail_in(), sessions=app.state.sessions, writer=writer, bus=bus
                )
                background.append(asyncio.create_task(mail_in.serve_forever(smtp), name="mail-in"))
            if app.state.sla.any:  # SLA clocks and breaches (handoff/sla_sweep.py)
                clocks = sla_sweep.sweep_forever(
                    sessions=app.state.sessions,
                    read_sessions=app.state.read_sessions,
                    bus=bus,
                    hours=app.state.routing.hours,
                    targets=app.state.sla,
                    every_s=settings.sla_sweep_s,
                )
                background.append(asyncio.create_task(clocks, name="sla-sweep"))
            if settings.retention_days is not None:
                purge = purge_forever(
                    sessions=app.state.sessions, bus=bus, retention_days=settings.retention_days
                )
                background.append(asyncio.create_task(purge, name="retention-purge"))
            # What startup built lives as long as the process (modules, the bot's index, the
            # compiled SQL): out of the collector's sight, so a full collection no longer walks
            # ~250,000 objects (~110 ms with the event loop stopped) while visitors wait.
            gc.freeze()
            try:
                yield
            finally:
                # Graceful: tell every client to reconnect (elsewhere) before we go away.
                await app.state.hub.close_all()
                gc.unfreeze()  # collectable again once this app is gone (tests start many)
    finally:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await bus.stop()
        await app.state.limiter.close()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing connects until the lifespan starts."""
    settings = settings or get_settings()
    docs = settings.serve_docs()  # off by default in production: the API is no public map
    app = FastAPI(
        title="chatdesk",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ApiKeyUsage)  # every call made with an API key is audited (issue 18)
    app.add_middleware(RequestIds)  # outermost: every log line of a request carries its id
    app.state.settings = settings
    # Password checks at once (handoff/logins.py): a login flood waits here, not the sockets.
    app.state.login_slots = asyncio.Semaphore(settings.login_hash_concurrency)
    # The environment's business hours until an admin saves others (handoff/service_settings.py):
    # routing holds the one LiveHours object that is kept current on every replica.
    app.state.service_settings = service_settings.Current(settings.hours())
    app.state.routing = replace(settings.routing(), hours=app.state.service_settings.hours)
    app.state.hub = Hub()
    app.state.sla = settings.sla_targets()  # the SLA clocks' targets (handoff/sla.py)
    app.state.kb_changed = asyncio.Event()  # set by admin edits: rebuild without waiting
    install_error_handlers(app)
    routes = (
        health, auth, conversations, tickets, canned, team, kb, audit, privacy, metrics, pages
    )
    for module in routes:
        app.include_router(module.router)
    app.include_router(settings_router)
    add_websockets(app)
    app.include_router(agents_admin.router)
    app.include_router(profile.router)
    app.include_router(api_keys_router)  # issue 18, API keys
    app.include_router(messages_router)
    app.include_router(webhooks_router)
    app.include_router(canned_admin_router)  # issue 15, canned replies that earn automation
    app.include_router(teams_router)  # issue 16, teams
    app.include_router(teams_agent_router)
    app.include_router(kb_teams_router)
    app.include_router(reports_router)  # issue 15, reports
    app.include_router(misses_router)  # issue 15, the misses inbox
    return app
