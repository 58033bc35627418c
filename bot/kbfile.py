"""Read and write knowledge-base files: benchmark JSONL, CSV and Markdown FAQ."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from bot.kb import Entry

CSV_VARIANT_SEPARATOR = "|"  # commas are common inside questions, pipes are not
_MD_QUESTION = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_MD_ALSO_ASKED = re.compile(r"^\s*(?:\*\*|__)?also asked:?(?:\*\*|__)?:?\s*(.*)$", re.IGNORECASE)
_MD_LIST_ITEM = re.compile(r"^\s*[-*+]\s+(.*\S)\s*$")


class KBFormatError(ValueError):
    """A knowledge-base file could not be read; the message names file, line and problem."""


def load_entries(path: str | Path) -> list[Entry]:
    """Read entries from a .jsonl, .csv or .md file; raise KBFormatError naming line and problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    readers = {
        ".jsonl": _read_jsonl,
        ".json": _read_jsonl,
        ".csv": _read_csv,
        ".md": _read_markdown,
    }
    reader = readers.get(suffix)
    if reader is None:
        raise KBFormatError(f"{path}:0: unknown file type {suffix!r}; use .jsonl, .csv or .md")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise KBFormatError(f"{path}:0: file not found") from None
    except UnicodeDecodeError as exc:
        raise KBFormatError(f"{path}:0: not UTF-8 text ({exc.reason})") from None
    located = reader(path, text)
    return _validate(path, located)


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


def _validate(path: Path, located: list[tuple[int, Entry]]) -> list[Entry]:
    """Reject blank questions/answers and duplicate ids, naming the offending line."""
    seen: dict[str, int] = {}
    entries: list[Entry] = []
    for line, entry in located:
        if not entry.id.strip():
            raise KBFormatError(f"{path}:{line}: empty id")
        if not entry.question.strip():
            raise KBFormatError(f"{path}:{line}: empty question")
        if not entry.answer.strip():
            raise KBFormatError(f"{path}:{line}: empty answer for question {entry.question!r}")
        if entry.id in seen:
            raise KBFormatError(
                f"{path}:{line}: duplicate id {entry.id!r} (first used on line {seen[entry.id]})"
            )
        seen[entry.id] = line
        entries.append(entry)
    return entries


def _read_jsonl(path: Path, text: str) -> list[tuple[int, Entry]]:
    located: list[tuple[int, Entry]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise KBFormatError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise KBFormatError(f"{path}:{number}: expected a JSON object")
        for field in ("question", "answer"):
            if not isinstance(record.get(field), str):
                raise KBFormatError(f"{path}:{number}: missing or non-text field {field!r}")
        variants = record.get("variants", [])
        if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
            raise KBFormatError(f"{path}:{number}: 'variants' must be a list of strings")
        entry_id = record.get("id", f"faq-{len(located) + 1:03d}")
        if not isinstance(entry_id, str | int):
            raise KBFormatError(f"{path}:{number}: 'id' must be text")
        located.append(
            (number, _entry(str(entry_id), record["question"], record["answer"], variants))
        )
    return located


def _read_csv(path: Path, text: str) -> list[tuple[int, Entry]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = {"question", "answer"} - set(header)
    if missing:
        raise KBFormatError(f"{path}:1: header lacks column(s) {', '.join(sorted(missing))}")
    reader.fieldnames = header
    located: list[tuple[int, Entry]] = []
    try:
        for row in reader:
            number = reader.line_num
            if None in row:
                raise KBFormatError(f"{path}:{number}: more cells than header columns")
            if not any((value or "").strip() for value in row.values()):
                continue
            variants = [v for v in (row.get("variants") or "").split(CSV_VARIANT_SEPARATOR)]
            entry_id = (row.get("id") or "").strip() or f"faq-{len(located) + 1:03d}"
            question = row.get("question") or ""
            answer = row.get("answer") or ""
            located.append((number, _entry(entry_id, question, answer, variants)))
    except csv.Error as exc:
        raise KBFormatError(f"{path}:{reader.line_num}: CSV error ({exc})") from None
    return located


def _read_markdown(path: Path, text: str) -> list[tuple[int, Entry]]:
    located: list[tuple[int, Entry]] = []
    current: tuple[int, str] | None = None
    answer_lines: list[str] = []
    variants: list[str] = []
    in_also_asked = False

    def flush() -> None:
        if current is not None:
            line, question = current
            answer = "\n".join(answer_lines).strip()
            entry_id = f"faq-{len(located) + 1:03d}"
            located.append((line, _entry(entry_id, question, answer, variants)))

    for number, raw in enumerate(text.splitlines(), start=1):
        heading = _MD_QUESTION.match(raw)
        if heading:
            flush()
            if not heading.group(1):
                raise KBFormatError(f"{path}:{number}: '##' heading without a question")
            current, answer_lines, variants, in_also_asked = (
                (number, heading.group(1)),
                [],
                [],
                False,
            )
            continue
        if current is None:
            if raw.strip() and not raw.lstrip().startswith("#"):
                raise KBFormatError(f"{path}:{number}: text before the first '## question' heading")
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
    return located


def _entry(entry_id: str, question: str, answer: str, variants: Iterable[str]) -> Entry:
    cleaned = tuple(v.strip() for v in variants if v.strip())
    return Entry(
        id=entry_id.strip(), question=question.strip(), answer=answer.strip(), variants=cleaned
    )
