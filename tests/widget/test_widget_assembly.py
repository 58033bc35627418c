"""The server's joining of widget/ modules into one classic script (app/widget_bundle.py), and
what /widget.js and /static serve. Node (the machine's, as for `make test-widget`) runs the
joined scripts to check they behave as the modules do."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.routes.pages import router
from app.widget_bundle import (
    CONSOLE_JS,
    WIDGET_JS,
    ModuleError,
    join_modules,
    load_bundle,
    module_order,
)

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_node(script: str) -> str:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--input-type=commonjs", "-"], input=script, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def joined(root: Path, entry: str = "main.js") -> str:
    return join_modules(module_order(root / entry, root), root)


@needs_node
def test_joined_modules_behave_like_the_modules(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.js": 'import { greet, PUNCT as bang } from "./lib/greet.js";\n'
                   'import { counter } from "./lib/count.js";\n'
                   'console.log(greet("world") + bang, counter(), counter());\n',
        "lib/greet.js": 'import { counter } from "./count.js";\n'
                        'export const PUNCT = "!";\n'
                        "export function greet(who) { counter(); return `hello ${who}`; }\n"
                        "const hidden = 1; // not exported: stays inside the module\n",
        "lib/count.js": "let n = 0;\nexport function counter() { return ++n; }\n"
                        "export class Unused {}\n",
    })
    script = joined(tmp_path)
    # One module each, dependencies first; the shared one only once.
    assert script.count("// --- lib/count.js ---") == 1
    assert script.index("lib/count.js ---") < script.index("lib/greet.js ---") < script.index(
        "main.js ---"
    )
    assert "const { greet, PUNCT: bang } = __lib_greet;" in script
    assert "return { counter, Unused };" in script
    assert run_node(script).split() == ["hello", "world!", "2", "3"]  # one shared counter
    # A classic script: no module syntax left, nothing leaks into the page's globals.
    assert "\nimport " not in script and "\nexport " not in script
    leaked = run_node(script + "console.log(typeof __lib_count, typeof hidden, typeof n);")
    assert leaked.split()[-3:] == ["undefined", "undefined", "undefined"]


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("export default 1;\n", "only `export const|function|class NAME`"),
        ("export let x = 1;\n", "live binding"),
        ("const a = 1;\nexport { a };\n", "main.js:2"),
        ('import * as lib from "./lib.js";\n', "main.js:1"),
        ('import "./lib.js";\n', "main.js:1"),
        ('import {\n  a,\n} from "./lib.js";\n', "one line"),
        ('import { a } from "lib";\n', "main.js:1"),
        ('import { a } from "../outside.js";\n', "outside"),
        ('import { a } from "./missing.js";\n', "does not exist"),
        ('import { nope } from "./lib.js";\n', "lib.js does not export nope"),
        ('import { a as 1x } from "./lib.js";\n', "cannot import"),
    ],
)
def test_what_cannot_be_joined_the_same_way_is_refused(
    tmp_path: Path, source: str, complaint: str
) -> None:
    root = tmp_path / "widget"
    write(root, {"main.js": source, "lib.js": "export const a = 1;\n"})
    write(tmp_path, {"outside.js": "export const a = 1;\n"})
    with pytest.raises(ModuleError, match=complaint.replace("|", r"\|").replace("*", r"\*")):
        joined(root)


def test_an_import_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.js": 'import { a } from "./a.js";\n',
        "a.js": 'import { b } from "./b.js";\nexport const a = 1;\n',
        "b.js": 'import { a } from "./a.js";\nexport const b = 2;\n',
    })
    with pytest.raises(ModuleError, match=r"import cycle: a\.js -> b\.js -> a\.js"):
        joined(tmp_path)


def test_lines_keep_their_place(tmp_path: Path) -> None:
    source = (
        '// a comment\nimport { a } from "./lib.js";\n\nexport function f() {\n  return a;\n}\n'
    )
    write(tmp_path, {"main.js": source, "lib.js": "export const a = 1;\n"})
    script = joined(tmp_path).splitlines()
    start = script.index("const __main = (() => {") + 1
    assert script[start:start + 6] == [
        "// a comment", "const { a } = __lib;", "", "function f() {", "  return a;", "}",
    ]


def test_a_changed_module_changes_the_bundle(tmp_path: Path) -> None:
    write(tmp_path, {"main.js": 'import { a } from "./lib.js";\n', "lib.js": "export const a = 1;"})
    first = load_bundle(tmp_path / "main.js", tmp_path)
    assert load_bundle(tmp_path / "main.js", tmp_path) is first  # cached while unchanged
    lib = tmp_path / "lib.js"
    lib.write_text("export const a = 22;\n")
    stat = lib.stat()
    os.utime(lib, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = load_bundle(tmp_path / "main.js", tmp_path)
    assert second.etag != first.etag and b"a = 22" in second.body
    assert gzip.decompress(second.gzipped) == second.body


@needs_node
@pytest.mark.parametrize("entry", [WIDGET_JS, CONSOLE_JS], ids=["widget", "console"])
def test_the_real_entry_points_join_and_parse(entry: Path) -> None:
    body = load_bundle(entry).body.decode()
    # Every module's top level runs (a page that already has the bubble stops there); a name
    # declared twice in one scope, or a bad rewrite, would be a SyntaxError here.
    stubs = (
        "globalThis.window = globalThis; window.chatdesk = {version: 'test'};"
        "globalThis.document = {currentScript: null};"
    )
    if entry == WIDGET_JS:
        assert run_node(stubs + body + "console.log('ran');").strip() == "ran"
    else:
        done = subprocess.run(
            [NODE or "node", "--check", "-"], input=body, capture_output=True, text=True,
            timeout=60, check=False,
        )
        assert done.returncode == 0, done.stderr


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://chat.test"
    ) as client:
        yield client


async def test_widget_js_is_the_joined_bubble(http: httpx.AsyncClient) -> None:
    r = await http.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.content == load_bundle(WIDGET_JS).body  # httpx decoded the gzip body
    assert r.text.startswith("/* chatdesk: widget.js and the modules it imports")
    again = await http.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


async def test_static_serves_the_console_script_and_stylesheet_only(
    http: httpx.AsyncClient,
) -> None:
    script = await http.get("/static/console.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "no-cache"
    assert script.content == load_bundle(CONSOLE_JS).body
    assert (await http.get("/static/console.js", headers={
        "If-None-Match": script.headers["etag"]})).status_code == 304
    assert (await http.get("/static/console.css")).headers["content-type"].startswith("text/css")
    for path in ["/static/shared/protocol.js", "/static/console/api.js", "/static/widget.js",
                 "/static/bubble%2Fsession.js", "/static/package.json", "/widget/widget.js"]:
        assert (await http.get(path)).status_code == 404, path
