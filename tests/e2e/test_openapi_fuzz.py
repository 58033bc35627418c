"""schemathesis against the running server's OpenAPI document, signed in as an admin.

`schemathesis run` (its examples, coverage and fuzzing phases: valid requests, boundary
values, and requests that break the schema) for every operation; the answers must hold no
server error (5xx) and match the documented schema: body, content type and headers. The
statuses a route may answer (401, 404, 409, ...) are not declared route by route, so
`status_code_conformance` is not among the checks. Seeded and bounded (MAX_EXAMPLES).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.conftest import Server
from tests.e2e.test_privacy import admin_token

MAX_EXAMPLES = 15  # per operation and phase: about 40 operations, well within two minutes
SEED = 13  # the same requests every run: a failure here is a change, not bad luck
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
)
# Operations that end the admin's own session would leave the rest of the run signed out.
SPENDS_THE_TOKEN = "logout"
RUN_TIMEOUT_S = 240


async def test_no_server_errors_and_answers_match_the_schema(
    server: Server, tmp_path: Path
) -> None:
    token = await admin_token(server)
    await server.create_agent()  # someone to transfer to, someone in the team list
    st = Path(sys.executable).with_name("schemathesis")
    process = await asyncio.create_subprocess_exec(
        str(st),
        "run",
        f"{server.base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--exclude-path-regex",
        SPENDS_THE_TOKEN,
        "--continue-on-failure",
        "--report-dir",
        str(tmp_path),
        "--workers",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,  # whatever it writes stays out of the work tree
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-20000:]
    assert "No issues found" in report or "passed" in report, report[-4000:]


async def test_values_the_database_cannot_hold_are_a_client_error(server: Server) -> None:
    """What the fuzzers found: ids past INTEGER, NUL and lone surrogates in text were 500s."""
    token = await admin_token(server)
    async with server.http(token) as http:
        for path in (
            f"/api/agent/conversations/{2**31}",
            f"/api/agent/conversations/{2**63}/context",
            f"/api/admin/audit?before_id={2**63}",
            f"/api/admin/visitors/{2**40}/export",
        ):
            assert (await http.get(path)).status_code == 422, path
        for body in (
            '{"email": "ada\\u0000@example.com", "password": "x"}',
            '{"email": "ada\\ud800@example.com", "password": "x"}',
        ):
            headers = {"Content-Type": "application/json"}
            r = await http.post("/api/agent/login", content=body, headers=headers)
            assert r.status_code in (401, 422), (body, r.status_code, r.text)
        r = await http.post(
            "/api/agent/canned", json={"shortcut": "nul", "title": "a\u0000b", "text": "hi"}
        )
        assert r.status_code in (201, 422), r.text  # SQLite keeps a NUL; PostgreSQL cannot
