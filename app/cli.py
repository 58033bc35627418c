"""The `chatdesk` console command: serve, db upgrade, kb import/export, agent create, eval,
visitor, mail-in."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.db import with_session
from app.demo import demo_banner, seed_demo
from app.preflight import (
    PreflightError,
    count_admins,
    no_admin_hint,
    prepare_database,
    upgrade_database,
)
from app.settings import Environment, Settings, get_settings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    if args.workers > 1 and settings.bus_url.startswith("memory://"):
        # Each worker is its own process: an in-memory bus would split them into islands.
        print("error: --workers > 1 needs a shared bus: set CHATDESK_BUS_URL=redis://...",
              file=sys.stderr)
        return 2
    if args.demo and settings.env is Environment.PRODUCTION:
        print(
            "refusing --demo in production (it creates demo agent and admin accounts)",
            file=sys.stderr,
        )
        return 2
    try:
        prepare_database(settings.database_url, migrate=args.demo)
    except PreflightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    base = f"http://{host}:{port}"
    if args.demo:
        accounts = asyncio.run(seed_demo(settings))
        print(demo_banner(base, accounts), flush=True)
    elif count_admins(settings.database_url) == 0:
        print(no_admin_hint(base), flush=True)
    from app.logs import log_config

    if args.workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Every worker writes its metrics here and /metrics sums them (app/routes/metrics.py).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="chatdesk-metrics-")
    from app.ws.frames import MAX_FRAME_BYTES

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_config=log_config(settings.log_format, settings.log_level.upper()),
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
        # Chat frames are a few hundred bytes: compressing each costs more CPU than it saves
        # bandwidth, and its zlib state costs memory on every idle socket.
        ws_per_message_deflate=False,
        # Refuse an oversized frame before buffering it (close 1009), not after 16 MiB.
        ws_max_size=MAX_FRAME_BYTES,
        # The client IP the limits count: X-Forwarded-For, only from these proxies.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    upgrade_database(get_settings().database_url)
    print("database is at the latest schema")
    return 0


def cmd_kb_import(args: argparse.Namespace) -> int:
    from bot import KBFormatError, load_entries
    from handoff import knowledge

    try:
        entries = load_entries(Path(args.file))
    except (KBFormatError, OSError) as exc:
        print(f"error: {exc}\nthe knowledge base was not changed", file=sys.stderr)
        return 2

    settings = get_settings()
    phrasings = sum(1 + len(e.variants) for e in entries)
    print(f"read {len(entries)} entries ({phrasings} phrasings) from {args.file}", flush=True)
    if not args.no_check:
        asyncio.run(_calibrate(settings, entries))

    async def work(session: Any) -> int:
        return int(await knowledge.replace_all(session=session, entries=entries))

    count = asyncio.run(with_session(settings.database_url, work))
    print(
        f"imported {count} entries; running servers rebuild their index in the background "
        "within seconds (answers continue meanwhile), then train and fine-tune on it"
    )
    return 0


async def _calibrate(settings: Settings, entries: list[Any]) -> None:
    """Encode and calibrate the new knowledge base here first, showing what the bot will do."""
    import time

    from bot import Brain

    started = time.perf_counter()
    print(f"encoding with {settings.model} and calibrating thresholds...", flush=True)
    brain = await Brain.create(
        entries, model=settings.model, thresholds=settings.bot_thresholds(),
        improve=False, fine_tune=False,
    )
    status = brain.status
    thresholds = ", ".join(f"{k} {v:.3f}" for k, v in status["thresholds"].items())
    print(f"  done in {time.perf_counter() - started:.1f} s; thresholds: {thresholds}", flush=True)


def cmd_kb_export(args: argparse.Namespace) -> int:
    from bot import dump_jsonl
    from handoff import knowledge

    async def work(session: Any) -> Any:
        return await knowledge.load_entries(session=session)

    entries = asyncio.run(with_session(get_settings().database_url, work))
    dump_jsonl(entries, Path(args.file))
    print(f"exported {len(entries)} entries to {args.file}")
    return 0


def cmd_agent_create(args: argparse.Namespace) -> int:
    from handoff import agents
    from handoff.errors import Conflict, Invalid

    password = args.password or os.environ.get("CHATDESK_AGENT_PASSWORD") or getpass.getpass()

    async def work(session: Any) -> Any:
        return await agents.create_agent(
            session=session,
            email=args.email,
            name=args.name,
            password=password,
            is_admin=args.admin,
            capacity=args.capacity,
            via="cli",
        )

    try:
        agent = asyncio.run(with_session(get_settings().database_url, work))
    except (Conflict, Invalid) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created agent {agent.id}: {agent.name} <{agent.email}>")
    return 0


def cmd_eval(args: argparse.Namespace, rest: list[str]) -> int:
    from bot.loop import main as eval_main  # the plain eval, or with --learn-from the loop

    return int(eval_main(rest) or 0)


# --- mail-in: e-mail replies to tickets (handoff/mail_in.py) ----------------------------------
def cmd_mail_in(args: argparse.Namespace) -> int:
    import logging.config

    from app.logs import log_config

    settings = get_settings()
    if args.port is not None or args.host:
        update = {"mail_in_port": args.port or settings.mail_in_port, "mail_in_host": args.host}
        settings = settings.model_copy(update={k: v for k, v in update.items() if v})
    try:
        config = settings.mail_in()
        prepare_database(settings.database_url, migrate=False)
    except (ValueError, PreflightError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.config.dictConfig(log_config(settings.log_format, settings.log_level.upper()))
    asyncio.run(_receive_mail(settings, config))
    return 0


async def _receive_mail(settings: Settings, config: Any) -> None:
    """Take e-mail replies until SIGINT/SIGTERM; a Redis bus tells the servers' consoles."""
    import signal

    from app.db import make_engine, make_sessionmaker
    from handoff import mail_in
    from handoff.bus import make_bus
    from handoff.writer import MessageWriter

    engine, bus = make_engine(settings.database_url), make_bus(settings.bus_url)
    await bus.start()
    try:
        async with MessageWriter(engine, bus) as writer:
            server = await mail_in.start(
                config=config, sessions=make_sessionmaker(engine), writer=writer, bus=bus
            )
            serving = asyncio.create_task(mail_in.serve_forever(server))
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(signum, serving.cancel)
            print(f"mail-in: listening on {config.host}:{config.port}", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await serving
    finally:
        await bus.stop()
        await engine.dispose()


# --- privacy: find, export and delete one visitor (handoff/privacy.py) ------------------------
def _privacy(work: Callable[[Any, Any, Settings], Awaitable[Any]]) -> Any:
    """Run `work(session, bus, settings)`; the bus tells running servers (Redis) what changed."""
    from handoff.bus import make_bus

    settings = get_settings()

    async def run() -> Any:
        bus = make_bus(settings.bus_url)
        await bus.start()
        try:
            return await with_session(
                settings.database_url, lambda session: work(session, bus, settings)
            )
        finally:
            await bus.stop()

    return asyncio.run(run())


def cmd_visitor_find(args: argparse.Namespace) -> int:
    from handoff import privacy

    async def work(session: Any, bus: Any, settings: Settings) -> Any:
        return await privacy.find_visitors(session=session, email=args.email)

    for v in _privacy(work):
        print(f"{v.id}\t{v.name or ''}\t{v.email or ''}\t{v.created_at.isoformat()}")
    return 0


def cmd_visitor_export(args: argparse.Namespace) -> int:
    import json

    from handoff import privacy
    from handoff.errors import NotFound

    async def work(session: Any, bus: Any, settings: Settings) -> Any:
        return await privacy.export_visitor(session=session, visitor_id=args.id, agent_id=None)

    try:
        data = _privacy(work)
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def cmd_visitor_delete(args: argparse.Namespace) -> int:
    from handoff import privacy
    from handoff.errors import NotFound

    async def work(session: Any, bus: Any, settings: Settings) -> Any:
        return await privacy.delete_visitor(
            session=session,
            bus=bus,
            visitor_id=args.id,
            agent_id=None,
            routing=settings.routing(),
        )

    try:
        rows = _privacy(work)
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    deleted = ", ".join(f"{n} {table}" for table, n in sorted(rows.items()))
    print(f"deleted visitor {args.id}: {deleted}")
    return 0


def add_visitor_commands(sub: Any) -> None:
    """`chatdesk visitor find|export|delete` (privacy requests)."""
    visitor = sub.add_parser("visitor", help="privacy: find, export or delete one visitor")
    commands = visitor.add_subparsers(dest="visitor", required=True)
    find = commands.add_parser("find", help="visitors with this e-mail (profile or ticket)")
    find.add_argument("email")
    find.set_defaults(func=cmd_visitor_find)
    export = commands.add_parser("export", help="print everything about the visitor as JSON")
    export.add_argument("id", type=int)
    export.set_defaults(func=cmd_visitor_export)
    delete = commands.add_parser("delete", help="delete the visitor and everything about them")
    delete.add_argument("id", type=int)
    delete.set_defaults(func=cmd_visitor_delete)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="migrate, load the demo FAQ if empty, (re)set the demo agent and admin",
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    kb = sub.add_parser("kb", help="knowledge base").add_subparsers(dest="kb", required=True)
    imp = kb.add_parser("import", help="replace the knowledge base from a .jsonl/.csv/.md file")
    imp.add_argument("file")
    imp.add_argument("--no-check", action="store_true",
                     help="skip encoding and calibrating the file here before storing it")
    imp.set_defaults(func=cmd_kb_import)
    exp = kb.add_parser("export", help="write the knowledge base as JSONL")
    exp.add_argument("file")
    exp.set_defaults(func=cmd_kb_export)

    agent = sub.add_parser("agent", help="agents").add_subparsers(dest="agent", required=True)
    create = agent.add_parser("create", help="create an agent account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--password", help="default: $CHATDESK_AGENT_PASSWORD or a prompt")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--capacity", type=int, default=3)
    create.set_defaults(func=cmd_agent_create)

    add_visitor_commands(sub)

    mail = sub.add_parser("mail-in", help="receive e-mail replies to tickets over SMTP")
    mail.add_argument("--host", help="default: $CHATDESK_MAIL_IN_HOST (127.0.0.1)")
    mail.add_argument("--port", type=int, help="default: $CHATDESK_MAIL_IN_PORT, else 25")
    mail.set_defaults(func=cmd_mail_in)

    sub.add_parser(
        "eval",
        help="measure the bot: --kb KB --queries Q [--learn-from T --actions K] [--json]",
        add_help=False,
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["eval"]:
        return cmd_eval(argparse.Namespace(), argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
