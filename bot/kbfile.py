"""Read and write knowledge-base files: benchmark JSONL, CSV and Markdown FAQ."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot.kb import Entry

CSV_VARIANT_SEPARATOR = "|"  # commas are common inside questions, pipes are not
_MD_QUESTION = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_MD_ALSO_ASKED = re.compile(r"^\s*(?:\*\*|__)?also asked:?(?:\*\*|__)?:?\s*(.*)$", re.IGNORECASE)
_MD_LIST_ITEM = re.compile(r"^\s*[-*+]\s+(.*\S)\s*$")
_MD_ID = re.compile(r"^\s*<!--\s*id:\s*(\S+)\s*-->\s*$")  # dump_markdown keeps ids this way


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a knowledge-base file, at its line (0: the file as a whole)."""

    line: int
    message: str


@dataclass
class Parsed:
    """A file read as far as it goes: the entries (each with its line) and every problem."""

    entries: list[Entry] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line each entry starts on
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))


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
    readers = {"jsonl": _read_jsonl, "csv": _read_csv, "md": _read_markdown}
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
        record = {
            "id": entry.id,
            "question": entry.question,
            "variants": list(entry.variants),
            "answer": entry.answer,
        }
        path_or_file.write(json.dumps(record, ensure_ascii=False) + "\n")


def dump_csv(entries: Iterable[Entry], handle: IO[str]) -> None:
    """Write entries as CSV (id, question, variants joined by "|", answer)."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["id", "question", "variants", "answer"])
    for e in entries:
        writer.writerow([e.id, e.question, CSV_VARIANT_SEPARATOR.join(e.variants), e.answer])


def dump_markdown(entries: Iterable[Entry], handle: IO[str]) -> None:
    """Write entries as a Markdown FAQ: `## question`, its id as a comment, answer, also asked."""
    handle.write("# FAQ\n")
    for e in entries:
        # An answer line that reads as a heading would start a new entry: indent it by a space.
        answer = "\n".join(" " + x if _MD_QUESTION.match(x) else x for x in e.answer.splitlines())
        handle.write(f"\n## {e.question}\n<!-- id: {e.id} -->\n{answer}\n")
        if e.variants:
            handle.write("\nAlso asked:\n" + "".join(f"- {v}\n" for v in e.variants))


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
    for name in ("question", "answer"):
        if not isinstance(record.get(name), str):
            return f"missing or non-text field {name!r}"
    variants = record.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        return "'variants' must be a list of strings"
    entry_id = record.get("id", default_id)
    if isinstance(entry_id, bool) or not isinstance(entry_id, str | int):
        return "'id' must be text"
    return _entry(str(entry_id), record["question"], record["answer"], variants)


def _read_jsonl(text: str) -> Parsed:
    parsed = Parsed()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        entry = _jsonl_entry(raw, f"faq-{len(parsed.entries) + 1:03d}")
        if isinstance(entry, str):
            parsed.add(number, entry)
        else:
            parsed.entries.append(entry)
            parsed.lines.append(number)
    return parsed


def _read_csv(text: str) -> Parsed:
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error as exc:
        parsed.add(1, f"CSV error ({exc})")
        return parsed
    missing = {"question", "answer"} - set(header)
    if missing:
        parsed.add(1, f"header lacks column(s) {', '.join(sorted(missing))}")
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
            variants = (row.get("variants") or "").split(CSV_VARIANT_SEPARATOR)
            entry_id = (row.get("id") or "").strip() or f"faq-{len(parsed.entries) + 1:03d}"
            entry = _entry(entry_id, row.get("question") or "", row.get("answer") or "", variants)
            parsed.entries.append(entry)
            parsed.lines.append(number)
    except csv.Error as exc:
        # The reader cannot go on past a broken quote: the rest of the file is one problem.
        parsed.add(reader.line_num, f"CSV error ({exc}); the lines after it were not read")
    return parsed


def _read_markdown(text: str) -> Parsed:
    parsed = Parsed()
    current: tuple[int, str] | None = None
    entry_id: str | None = None
    answer_lines: list[str] = []
    variants: list[str] = []
    in_also_asked = False

    def flush() -> None:
        if current is not None:
            line, question = current
            answer = "\n".join(answer_lines).strip()
            given = entry_id or f"faq-{len(parsed.entries) + 1:03d}"
            parsed.entries.append(_entry(given, question, answer, variants))
            parsed.lines.append(line)

    for number, raw in enumerate(text.splitlines(), start=1):
        heading = _MD_QUESTION.match(raw)
        if heading:
            flush()
            current, entry_id, answer_lines, variants, in_also_asked = None, None, [], [], False
            if not heading.group(1):
                parsed.add(number, "'##' heading without a question")
                continue
            current = (number, heading.group(1))
            continue
        if current is None:
            if raw.strip() and not raw.lstrip().startswith("#"):
                parsed.add(number, "text before the first '## question' heading")
            continue
        given = _MD_ID.match(raw)
        if given and entry_id is None and not answer_lines:
            entry_id = given.group(1)
            continue
        also = _MD_ALSO_ASKED.match(raw)
        if also:
            in_also_asked = True
            inline = also.group(1).strip()
            if inline:
                variants.extend(part.strip() for part in inline.split(CSV_VARIANT_SEPARATOR))
            continue
        item = _MD_LIST_ITEM.match(raw)
        if in_also_asked and item:
            variants.append(item.group(1))
            continue
        if in_also_asked and not raw.strip():
            continue
        in_also_asked = False
        answer_lines.append(raw)
    flush()
    return parsed


def _entry(entry_id: str, question: str, answer: str, variants: Iterable[str]) -> Entry:
    cleaned = tuple(v.strip() for v in variants if v.strip())
    return Entry(
        id=entry_id.strip(), question=question.strip(), answer=answer.strip(), variants=cleaned
    )
