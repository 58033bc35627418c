"""Read and write knowledge-base files: benchmark JSONL, CSV and Markdown FAQ.

Each format carries an entry's translations (issue 17; the tag names the language):
- JSONL: `"translations": {"cs": {"question": ..., "variants": [...], "answer": ...}}`;
- CSV: the columns `question@cs`, `variants@cs`, `answer@cs` (any of a row's may be empty);
- Markdown: after the entry's answer and "Also asked", a `### cs: question` heading, then
  the translated answer and its own "Also asked" list (the tag in lower case: `### zh-Hant:`).

An entry's team (issue 16: its topic goes to that team's queue first) is JSONL `"team"`, the
CSV column `team` (optional), Markdown `<!-- team: Orders -->` under the question.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from bot.kb import Entry, Translation, normalize_tag
from bot.kbmarkdown import dump_markdown, read_markdown
from bot.kbrecord import (
    CSV_VARIANT_SEPARATOR,
    Parsed,
    Problem,
    add_entry,
    make_entry,
    make_translation,
)

__all__ = ["CSV_VARIANT_SEPARATOR", "KBFormatError", "Parsed", "Problem", "dump_markdown"]
CSV_FIELDS = ("question", "variants", "answer")  # a translation's columns: "question@cs", ...


class KBFormatError(ValueError):
    """A knowledge-base file could not be read; the message names file, line and problem.

    It names every problem found, one per line (the first first), also kept in `problems`.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


# File suffix -> format name; the formats `parse_text` and `dumps` take.
FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".md": "md", ".markdown": "md"}
MAX_PROBLEMS = 200  # a file that is not a KB at all would list every line; this many is plenty


def format_for(name: str) -> str | None:
    """The format a file name's suffix says (`faq.csv` -> "csv"), None if unknown."""
    return FORMATS.get(Path(name).suffix.lower())


def load_entries(path: str | Path) -> list[Entry]:
    """Read entries from a .jsonl, .csv or .md file; raise KBFormatError naming every problem."""
    path = Path(path)
    fmt = format_for(path.name)
    if fmt is None:
        raise KBFormatError(
            f"{path}:0: unknown file type {path.suffix.lower()!r}; use .jsonl, .csv or .md"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise KBFormatError(f"{path}:0: file not found") from None
    except UnicodeDecodeError as exc:
        raise KBFormatError(f"{path}:0: not UTF-8 text ({exc.reason})") from None
    parsed = parse_text(text, fmt)
    if parsed.problems:
        message = "\n".join(f"{path}:{p.line}: {p.message}" for p in parsed.problems)
        raise KBFormatError(message, parsed.problems)
    return parsed.entries


def parse_text(text: str, fmt: str) -> Parsed:
    """Read a file's text in a format of FORMATS, collecting every problem instead of stopping.

    Problems come in line order (at most MAX_PROBLEMS, the last saying how many more); an entry
    with a problem is left out of `entries`, so only a file without problems is whole.
    """
    readers = {"jsonl": _read_jsonl, "csv": _read_csv, "md": read_markdown}
    if fmt not in readers:
        raise ValueError(f"unknown knowledge-base format {fmt!r}")
    parsed = readers[fmt](text.removeprefix("\ufeff"))
    checked = _validate(parsed)
    checked.problems.sort(key=lambda p: p.line)
    if len(checked.problems) > MAX_PROBLEMS:
        more = len(checked.problems) - MAX_PROBLEMS + 1
        last = checked.problems[MAX_PROBLEMS - 1].line
        checked.problems[MAX_PROBLEMS - 1 :] = [Problem(last, f"... and {more} more problems")]
    return checked


def oos_sidecar(kb_path: str | Path) -> Path:
    """Where an admin's out-of-scope examples for a KB file live: `faq.jsonl` -> `faq.oos.jsonl`."""
    kb_path = Path(kb_path)
    return kb_path.with_name(kb_path.name.rsplit(".", 1)[0] + ".oos.jsonl")


def load_oos_examples(path: str | Path) -> list[str]:
    """Out-of-scope example questions, one `{"text": ...}` object (or a JSON string) per line."""
    path = Path(path)
    examples: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise KBFormatError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        text = record.get("text") if isinstance(record, dict) else record
        if not isinstance(text, str) or not text.strip():
            raise KBFormatError(f'{path}:{number}: expected {{"text": "..."}}')
        examples.append(text.strip())
    return examples


def dump_jsonl(entries: Iterable[Entry], path_or_file: str | Path | IO[str]) -> None:
    """Write entries in the benchmark JSONL format to a path or an open text file."""
    if isinstance(path_or_file, str | Path):
        with open(path_or_file, "w", encoding="utf-8") as handle:
            dump_jsonl(entries, handle)
        return
    for entry in entries:
        record: dict[str, Any] = {
            "id": entry.id,
            "question": entry.question,
            "variants": list(entry.variants),
            "answer": entry.answer,
        }
        if entry.team:
            record["team"] = entry.team
        if entry.learned:
            record["learned"] = list(entry.learned)  # questions learnt from misses (issue 15)
        if entry.translations:
            record["translations"] = {
                t.lang: {"question": t.question, "variants": list(t.variants), "answer": t.answer}
                for t in entry.translations
            }
        path_or_file.write(json.dumps(record, ensure_ascii=False) + "\n")


def dump_csv(entries: Iterable[Entry], handle: IO[str]) -> None:
    """Write entries as CSV (id, question, variants joined by "|", answer; then per language
    of any translation its question@tag, variants@tag, answer@tag)."""
    entries = list(entries)
    tags = sorted({t.lang for e in entries for t in e.translations})
    teams = any(e.team for e in entries)  # the column only when some entry names a team
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["id", *CSV_FIELDS, *(["team"] if teams else []),
                     *(f"{name}@{tag}" for tag in tags for name in CSV_FIELDS)])
    for e in entries:
        cells = [e.id, e.question, CSV_VARIANT_SEPARATOR.join(e.variants), e.answer]
        if teams:
            cells.append(e.team or "")
        for tag in tags:
            t = next((t for t in e.translations if t.lang == tag), None)
            variants = CSV_VARIANT_SEPARATOR.join(t.variants) if t else ""
            cells += [t.question, variants, t.answer] if t else ["", "", ""]
        writer.writerow(cells)


def dumps(entries: Iterable[Entry], fmt: str) -> str:
    """The entries as the text of a file in `fmt` ("jsonl", "csv" or "md")."""
    writers = {"jsonl": dump_jsonl, "csv": dump_csv, "md": dump_markdown}
    if fmt not in writers:
        raise ValueError(f"unknown knowledge-base format {fmt!r}")
    buffer = io.StringIO()
    writers[fmt](entries, buffer)
    return buffer.getvalue()


def _validate(parsed: Parsed) -> Parsed:
    """Drop (and name) entries with a blank id, question or answer, or a repeated id."""
    seen: dict[str, int] = {}
    kept = Parsed(problems=list(parsed.problems))
    for line, entry in zip(parsed.lines, parsed.entries, strict=True):
        problem = None
        if not entry.id.strip():
            problem = "empty id"
        elif not entry.question.strip():
            problem = "empty question"
        elif not entry.answer.strip():
            problem = f"empty answer for question {entry.question!r}"
        elif entry.id in seen:
            problem = f"duplicate id {entry.id!r} (first used on line {seen[entry.id]})"
        if problem is not None:
            kept.add(line, problem)
            continue
        seen[entry.id] = line
        kept.entries.append(entry)
        kept.lines.append(line)
    return kept


def _jsonl_entry(raw: str, default_id: str) -> Entry | str:
    """One JSONL line's entry, or what is wrong with it."""
    try:
        record: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        return f"invalid JSON ({exc.msg})"
    if not isinstance(record, dict):
        return "expected a JSON object"
    fields = _jsonl_fields(record)
    if isinstance(fields, str):
        return fields
    entry_id = record.get("id", default_id)
    if isinstance(entry_id, bool) or not isinstance(entry_id, str | int):
        return "'id' must be text"
    team = record.get("team")
    if team is not None and not isinstance(team, str):
        return "'team' must be a team's name (text)"
    given = record.get("translations", {})
    if not isinstance(given, dict):
        return "'translations' must be an object: language tag -> {question, variants, answer}"
    translations: list[Translation | str] = []
    for tag, value in given.items():
        inner = _jsonl_fields(value) if isinstance(value, dict) else "expected an object"
        if isinstance(inner, str):
            translations.append(f"translation {tag!r}: {inner}")
        else:
            translations.append(make_translation(tag, *inner))
    learned = record.get("learned", [])
    if not isinstance(learned, list) or not all(isinstance(v, str) for v in learned):
        return "'learned' must be a list of strings"
    made = make_entry(str(entry_id), *fields, translations, team)
    if isinstance(made, str) or not learned:
        return made
    return replace(made, learned=tuple(v.strip() for v in learned if v.strip()))


def _jsonl_fields(record: dict[str, Any]) -> tuple[str, str, list[str]] | str:
    """A record's question, answer and variants, or what is wrong with them."""
    for name in ("question", "answer"):
        if not isinstance(record.get(name), str):
            return f"missing or non-text field {name!r}"
    variants = record.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        return "'variants' must be a list of strings"
    return record["question"], record["answer"], variants


def _read_jsonl(text: str) -> Parsed:
    parsed = Parsed()
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            add_entry(parsed, number, _jsonl_entry(raw, f"faq-{len(parsed.entries) + 1:03d}"))
    return parsed


def _csv_translation_columns(header: list[str]) -> dict[str, dict[str, str]] | str:
    """Tag -> field -> column, from the header's "question@cs" columns (or what is wrong)."""
    out: dict[str, dict[str, str]] = {}
    for column in header:
        if "@" not in column:
            continue
        name, _, tag = column.partition("@")
        lang = normalize_tag(tag)
        if name not in CSV_FIELDS or lang is None:
            return f"column {column!r}: use question@TAG, variants@TAG or answer@TAG (cs, zh-Hans)"
        out.setdefault(lang, {})[name] = column
    return out


def _csv_entry(row: dict[str, str | None], number: int, columns: dict[str, dict[str, str]],
               default_id: str) -> Entry | str:
    def cell(name: str | None) -> str:
        return (row.get(name) or "") if name else ""

    translations = [
        make_translation(tag, cell(named.get("question")), cell(named.get("answer")),
                         cell(named.get("variants")).split(CSV_VARIANT_SEPARATOR))
        for tag, named in columns.items()
        if any(cell(c).strip() for c in named.values())  # all empty: no translation
    ]
    entry_id = cell("id").strip() or default_id
    variants = cell("variants").split(CSV_VARIANT_SEPARATOR)
    return make_entry(entry_id, cell("question"), cell("answer"), variants, translations,
                      cell("team"))


def _read_csv(text: str) -> Parsed:
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        parsed.add(1, f"CSV error ({exc})")
        return parsed
    missing = {"question", "answer"} - set(header)
    columns = _csv_translation_columns(header)
    if missing:
        parsed.add(1, f"header lacks column(s) {', '.join(sorted(missing))}")
    elif isinstance(columns, str):
        parsed.add(1, columns)
    if missing or isinstance(columns, str):
        return parsed  # without the columns no row can be read
    reader.fieldnames = header
    try:
        for row in reader:
            number = reader.line_num
            if None in row:
                parsed.add(number, "more cells than header columns")
                continue
            if not any((value or "").strip() for value in row.values()):
                continue
            default_id = f"faq-{len(parsed.entries) + 1:03d}"
            add_entry(parsed, number, _csv_entry(row, number, columns, default_id))
    except csv.Error as exc:
        # The reader cannot go on past a broken quote: the rest of the file is one problem.
        parsed.add(reader.line_num, f"CSV error ({exc}); the lines after it were not read")
    return parsed


