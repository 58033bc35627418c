"""Joining widget/'s ES modules into the one classic script a page loads, cached per change.

widget/ is plain ES modules, with no build step (`node --test` imports them as they are). A
page loads each entry point (widget/widget.js, widget/console.js) as ONE classic script, joined
here from the entry and the modules it imports, so a customer's `<script src=".../widget.js"
async>` costs one request and runs on any page. The rule, one line at a time:

- `import { a, b as c } from "./x.js";` (one line, a relative path inside widget/, names x.js
  exports) becomes `const { a, b: c } = __x;`, and x.js is emitted before the importer (depth
  first, in import order, each module once);
- `export ` is dropped from `export const|function|class NAME` (at the start of a line), and the
  module ends with `return { NAME, ... };` inside `const __x = (() => { ... })();`;
- the whole is one strict IIFE. Anything else at the start of a line that begins with `import`
  or `export` (`export default`, `export let`, `export { }`, `import *`, a bare import, an import
  spanning lines) and import cycles are refused with the file and line: a module that would
  behave differently once joined never ships. Each module line stays one line of the output.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
WIDGET_JS = WIDGET_DIR / "widget.js"
CONSOLE_JS = WIDGET_DIR / "console.js"
ADMIN_JS = WIDGET_DIR / "admin.js"


# --- joining ES modules into one classic script ----------------------------------------------

IMPORT_RE = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"(\.{1,2}/[^"]+\.js)";?\s*$')
EXPORT_RE = re.compile(r"^export\s+((?:async\s+)?(?:const|function\*?|class)\s+([A-Za-z_$][\w$]*))")
IDENT = r"[A-Za-z_$][\w$]*"
IMPORT_NAME_RE = re.compile(rf"^({IDENT})(?:\s+as\s+({IDENT}))?$")


class ModuleError(ValueError):
    """A module the joiner cannot turn into the same behaviour; names the file and line."""


@dataclass(frozen=True)
class Module:
    """One parsed ES module: what it imports (in order), what it exports, its rewritten lines."""

    path: Path
    stamp: tuple[int, int]
    imports: tuple[tuple[Path, tuple[str, ...]], ...]  # (module, the names taken from it)
    exports: tuple[str, ...]
    lines: tuple[str, ...]


def module_var(path: Path, root: Path) -> str:
    """The bundle's name for a module: widget/bubble/session.js -> __bubble_session."""
    rel = path.relative_to(root).with_suffix("").as_posix()
    return "__" + re.sub(r"[^A-Za-z0-9]", "_", rel)


def parse_module(path: Path, root: Path) -> Module:
    """Read one module and rewrite its import and export lines (the rule in this docstring)."""
    stat = path.stat()
    where = path.relative_to(root).as_posix()
    imports: list[tuple[Path, tuple[str, ...]]] = []
    exports: list[str] = []
    lines: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.match(r"import\b", line):
            m = IMPORT_RE.match(line)
            if not m:
                raise ModuleError(f'{where}:{n}: only `import {{ a }} from "./x.js";`, one line')
            target = (path.parent / m.group(2)).resolve()
            if not target.is_relative_to(root):
                raise ModuleError(f"{where}:{n}: {m.group(2)} is outside {root.name}/")
            if not target.is_file():
                raise ModuleError(f"{where}:{n}: {m.group(2)} does not exist")
            taken, bindings = [], []
            for item in filter(None, (part.strip() for part in m.group(1).split(","))):
                name = IMPORT_NAME_RE.match(item)
                if not name:
                    raise ModuleError(f"{where}:{n}: cannot import {item!r}")
                taken.append(name[1])
                bindings.append(f"{name[1]}: {name[2]}" if name[2] else name[1])
            imports.append((target, tuple(taken)))
            lines.append(f"const {{ {', '.join(bindings)} }} = {module_var(target, root)};")
        elif re.match(r"export\b", line):
            m = EXPORT_RE.match(line)
            if not m:
                raise ModuleError(
                    f"{where}:{n}: only `export const|function|class NAME` (a `let` export "
                    "would be a live binding in a module but a copy once joined)"
                )
            exports.append(m.group(2))
            lines.append(line[m.start(1) :])
        else:
            lines.append(line)
    return Module(
        path=path,
        stamp=(stat.st_mtime_ns, stat.st_size),
        imports=tuple(imports),
        exports=tuple(exports),
        lines=tuple(lines),
    )


_modules: dict[Path, Module] = {}


def _module(path: Path, root: Path) -> Module:
    """parse_module, re-run only when the file's mtime or size changed."""
    stat = path.stat()
    cached = _modules.get(path)
    if cached is not None and cached.stamp == (stat.st_mtime_ns, stat.st_size):
        return cached
    module = _modules[path] = parse_module(path, root)
    return module


def module_order(entry: Path, root: Path = WIDGET_DIR) -> list[Module]:
    """The entry and everything it imports, each module after the modules it imports."""
    root = root.resolve()
    order: list[Module] = []
    done: set[Path] = set()
    visiting: list[Path] = []

    def visit(path: Path) -> None:
        if path in done:
            return
        if path in visiting:
            cycle = [p.relative_to(root).as_posix() for p in visiting[visiting.index(path) :]]
            raise ModuleError("import cycle: " + " -> ".join([*cycle, cycle[0]]))
        visiting.append(path)
        module = _module(path, root)
        for dep, names in module.imports:
            visit(dep)
            # A module would refuse to load; joined, the name would silently be undefined.
            missing = [name for name in names if name not in _module(dep, root).exports]
            if missing:
                where = path.relative_to(root).as_posix()
                dep_name = dep.relative_to(root).as_posix()
                raise ModuleError(f"{where}: {dep_name} does not export {', '.join(missing)}")
        visiting.pop()
        done.add(path)
        order.append(module)

    visit(entry.resolve())
    names = [module_var(m.path, root) for m in order]
    if len(set(names)) != len(names):
        raise ModuleError(f"two modules would share a name in the bundle: {sorted(names)}")
    return order


def join_modules(modules: Iterable[Module], root: Path = WIDGET_DIR) -> str:
    """The modules (from module_order) as one classic script."""
    root = root.resolve()
    modules = list(modules)
    out = [
        f"/* chatdesk: {modules[-1].path.relative_to(root).as_posix()} and the modules it imports,"
        " joined by app/widget_bundle.py (widget/ holds the sources). */",
        "(() => {",
        '"use strict";',
    ]
    for module in modules:
        out.append(f"// --- {module.path.relative_to(root).as_posix()} ---")
        out.append(f"const {module_var(module.path, root)} = (() => {{")
        out.extend(module.lines)
        out.append(f"return {{ {', '.join(module.exports)} }};")
        out.append("})();")
    out.append("})();")
    return "\n".join(out) + "\n"


# --- cached, compressed assets ---------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    """One served body, built once per change, with its gzip form and strong ETags for both."""

    stamp: tuple[tuple[str, int, int], ...]  # (path, mtime_ns, size) of every source file
    body: bytes
    gzipped: bytes
    etag: str
    etag_gz: str


def make_asset(stamp: tuple[tuple[str, int, int], ...], body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Asset(
        stamp=stamp,
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag=f'"{digest}"',
        etag_gz=f'"{digest}-gz"',  # a different representation needs a different strong ETag
    )


_bundles: dict[Path, Asset] = {}


def load_bundle(entry: Path, root: Path = WIDGET_DIR) -> Asset:
    """The joined script for an entry point, rebuilt only when one of its modules changed."""
    root = root.resolve()
    modules = module_order(entry, root)
    stamp = tuple((str(m.path), *m.stamp) for m in modules)
    cached = _bundles.get(entry)
    if cached is not None and cached.stamp == stamp:
        return cached
    asset = _bundles[entry] = make_asset(stamp, join_modules(modules, root).encode())
    return asset
