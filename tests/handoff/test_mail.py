"""Outgoing mail against a real SMTP server (aiosmtpd): STARTTLS verifies the server, and the
password never goes over the wire in clear text unless a test setup explicitly allows it."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError

from app.settings import Environment, Settings
from handoff.mail import MailConfig, send_mail
from tests.conftest import Inbox, free_port

USER, PASSWORD = "chatdesk", "mail-password"


@dataclass(frozen=True)
class Certs:
    ca: Path  # the private CA chatdesk may be told to trust
    cert: Path  # the mail server's certificate, for 127.0.0.1, signed by that CA
    key: Path


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A private CA and a server certificate it signed, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    d = tmp_path_factory.mktemp("certs")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")  # fmt: skip
    return Certs(d / "ca.pem", d / "server.pem", d / "server.key")


@dataclass
class Logins:
    """Every AUTH the server saw: (user, password, over TLS?)."""

    seen: list[tuple[str, str, bool]] = field(default_factory=list)

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any):  # noqa: ANN204
        assert isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        self.seen.append((user, password, session.ssl is not None))
        return AuthResult(success=(user, password) == (USER, PASSWORD))


@contextlib.contextmanager
def mail_server(tls: ssl.SSLContext | None) -> Iterator[tuple[Inbox, Logins, int]]:
    """aiosmtpd on loopback: STARTTLS with `tls` (required), or none and AUTH in the clear."""
    inbox, logins, port = Inbox(asyncio.get_running_loop()), Logins(), free_port()
    options: dict[str, Any] = {"authenticator": logins}
    if tls is not None:
        options |= {"tls_context": tls, "require_starttls": True}
    else:
        options |= {"auth_require_tls": False}  # the worst case: it would take the password
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, logins, port
    finally:
        controller.stop()


def server_tls(certs: Certs) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certs.cert, certs.key)
    return ctx


async def send(config: MailConfig) -> bool:
    return await send_mail(config=config, to="visitor@example.com", subject="Hi", body="Hello")


async def test_starttls_refuses_a_server_it_cannot_verify(certs: Certs) -> None:
    """Before: STARTTLS without verification, so anyone in the path read the mail."""
    with mail_server(server_tls(certs)) as (inbox, logins, port):
        config = MailConfig(host="127.0.0.1", port=port, tls=True, user=USER, password=PASSWORD)
        assert await send(config) is False
    assert inbox.arrived.empty() and logins.seen == [], "no password, no mail to an impostor"


async def test_starttls_with_the_private_ca_logs_in_and_delivers(certs: Certs) -> None:
    with mail_server(server_tls(certs)) as (inbox, logins, port):
        config = MailConfig(
            host="127.0.0.1", port=port, tls=True, ca_file=str(certs.ca), user=USER,
            password=PASSWORD,
        )  # fmt: skip
        assert await send(config) is True
        msg = await inbox.next()
    assert msg["Subject"] == "Hi"
    assert logins.seen == [(USER, PASSWORD, True)]


async def test_no_login_in_clear_text_unless_allowed() -> None:
    with mail_server(None) as (inbox, logins, port):
        plain = MailConfig(host="127.0.0.1", port=port, user=USER, password=PASSWORD)
        assert await send(plain) is False
        assert logins.seen == [] and inbox.arrived.empty(), "the password never left"
        allowed = MailConfig(
            host="127.0.0.1", port=port, user=USER, password=PASSWORD, plain_login=True
        )
        assert await send(allowed) is True
        await inbox.next()
    assert logins.seen == [(USER, PASSWORD, False)]


def test_settings_refuse_a_clear_text_login() -> None:
    with pytest.raises(ValidationError, match="clear text"):
        Settings(smtp_host="mail.example.com", smtp_user=USER)
    dev = Settings(smtp_host="127.0.0.1", smtp_user=USER, smtp_plain_login=True)
    assert dev.mail().plain_login
    with pytest.raises(ValidationError, match="SMTP_TLS"):
        Settings(
            env=Environment.PRODUCTION,
            secret_key="s" * 40,
            allowed_origins=["https://shop.example.com"],
            smtp_host="mail.example.com",
            smtp_user=USER,
            smtp_plain_login=True,
        )
    tls = Settings(smtp_host="mail.example.com", smtp_user=USER, smtp_tls=True)
    assert tls.mail().tls and not tls.mail().plain_login
