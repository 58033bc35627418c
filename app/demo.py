"""The demo: its FAQ, and a demo agent and demo admin with fresh passwords each `serve --demo`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any

from app.db import with_session
from app.settings import Settings
from handoff.agents import DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL

# The demo accounts get new random passwords on every `serve --demo` (printed): a demo left
# listening on a public address has no password anyone could look up.
DEMO_PASSWORD_BYTES = 12


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    is_admin: bool
    password: str = ""


DEMO_ACCOUNTS = (
    DemoAccount(DEMO_AGENT_EMAIL, "Alex (demo agent)", is_admin=False),
    DemoAccount(DEMO_ADMIN_EMAIL, "Sam (demo admin)", is_admin=True),
)


async def seed_demo(settings: Settings) -> list[DemoAccount]:
    """Load the demo FAQ into an empty knowledge base; (re)set the demo agent and admin.

    Both get a fresh random password each time (returned, to print). An older install's demo
    agent that was an admin becomes an ordinary agent.
    """
    from bot import load_entries
    from handoff import agents, knowledge

    accounts = [
        replace(a, password=secrets.token_urlsafe(DEMO_PASSWORD_BYTES)) for a in DEMO_ACCOUNTS
    ]

    async def work(session: Any) -> None:
        if await knowledge.count_entries(session=session) == 0:
            count = await knowledge.replace_all(
                session=session, entries=load_entries(settings.demo_kb), via="demo"
            )
            print(f"Loaded the demo knowledge base: {count} entries.")
        for a in accounts:
            agent = await agents.find_by_email(session=session, email=a.email)
            if agent is None:
                await agents.create_agent(
                    session=session,
                    email=a.email,
                    name=a.name,
                    password=a.password,
                    is_admin=a.is_admin,
                    via="demo",
                )
            else:
                await agents.reset_account(
                    session=session,
                    agent=agent,
                    password=a.password,
                    is_admin=a.is_admin,
                    via="demo",
                )

    await with_session(settings.database_url, work)
    return accounts


def demo_banner(base: str, accounts: list[DemoAccount]) -> str:
    """What `serve --demo` prints: where to go and how to log in."""
    logins = "".join(
        f"\n    {'admin' if a.is_admin else 'agent'}:  {a.email} / {a.password}" for a in accounts
    )
    return (
        f"\n  Demo page:      {base}/\n  Agent console:  {base}/agent   (log in as one of"
        f" these; new passwords on every start){logins}\n  Admin console:  {base}/admin"
        f"   (as the admin)\n  API docs:       {base}/docs\n"
    )
