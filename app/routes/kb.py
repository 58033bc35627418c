"""Admin REST for the knowledge base: list and search (with usage numbers), create, edit,
delete entries and variants, import and export files, and "try a question".

Every change is committed with its audit event, then the bot is told to rebuild in the
background; answers keep coming from the current index until the new one is swapped in.
Other replicas notice the change through the knowledge-base watcher (app/kb_watch.py).
Admins, or an integration with an API key of scope `kb:manage` (its changes: no agent id in
their audit events; the key's `api_key_used` events say which key and route).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.db import SessionDep
from app.schemas import (
    MAX_VARIANTS,
    EntryIn,
    EntryOut,
    EntryUpdate,
    KBText,
    Orm,
    RowId,
    VariantIn,
    VariantOut,
)
from app.security import KbManagerDep, client_ip
from handoff import kb_admin, knowledge

router = APIRouter(prefix="/api/admin/kb", tags=["knowledge base"])


def _changed(request: Request) -> None:
    request.app.state.kb_changed.set()  # wakes the watcher: rebuild now, not in 5 s


# --- the admin console's schemas (issue 14, knowledge base) ---------------------------------

Format = Literal["jsonl", "csv", "md"]
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv", "md": "text/markdown"}


# Issue 17: an entry's translations, one per language tag.
LangTag = Annotated[str, Field(min_length=2, max_length=35, examples=["cs", "zh-Hant"])]


class TranslationIn(BaseModel):
    question: KBText
    answer: KBText
    variants: Annotated[list[KBText], Field(max_length=MAX_VARIANTS)] = []


class TranslationOut(Orm):
    lang: str
    question: str
    answer: str
    variants: list[VariantOut]


class EntryFullOut(EntryOut):
    """An entry with its translations (issue 17)."""

    translations: list[TranslationOut]


class EntryStatsOut(EntryFullOut):
    """An entry with how it did: bot answers in the last 7 and 30 days, votes in the 30."""

    answered_7d: int
    answered_30d: int
    helpful: int
    unhelpful: int
    helpful_rate: float | None


class KbStatusOut(BaseModel):
    """The index answering now, and the rebuild or background improvement under way."""

    entries: int
    model: str
    language: str  # the entries' own language (CHATDESK_KB_LANGUAGE)
    kb_languages: list[str]  # what the bot reads there besides the model's (issue 17)
    runtime: str
    stage: str
    thresholds: dict[str, float]
    calibration: dict[str, Any]
    oos_examples: int = 0  # out-of-scope questions admins collected (the misses inbox, issue 15)
    building: bool  # a new index is being built after a change
    improving: bool  # a head is trained / the encoder fine-tuned in the background
    rebuilding: bool  # either of the two: answers come from the previous index meanwhile
    progress: str
    built_at: float  # Unix seconds
    calibrated_at: datetime


class ProblemOut(Orm):
    line: int  # 0: the file as a whole
    message: str


class ImportOut(Orm):
    """A checked (and, unless a dry run, applied) file; a 422 carries it with its problems."""

    detail: str
    format: str
    entries: int
    variants: int
    translations: int
    current: int  # entries stored before: an import replaces them all
    applied: bool
    problems: list[ProblemOut]


class TryIn(BaseModel):
    question: KBText


class CandidateOut(BaseModel):
    entry_id: str
    question: str | None
    score: float


class TryOut(Orm):
    """What the bot would do now with a visitor's first question, and why."""

    action: Literal["answer", "clarify", "escalate"]
    reason: str  # confident, below_answer, too_close, scorers_disagree, below_clarify, ...
    why: str
    entry_id: str | None
    answer: str | None
    answer_language: str | None  # a translation's tag when the question's language has one
    confidence: float
    runner_up_gap: float | None
    stage: str
    thresholds: dict[str, float]
    candidates: list[CandidateOut]
    options: list[CandidateOut]


class TooLarge(BaseModel):
    detail: str


# --- routes ----------------------------------------------------------------------------------


@router.get("")
async def list_entries(
    admin: KbManagerDep,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="text in id, question,"
                                   " answer or a variant")] = None,
) -> list[EntryStatsOut]:
    """Entries (matching `q`, if given) with their answers of the last 7/30 days and votes."""
    rows = await kb_admin.search_entries(session=session, q=q)
    return [EntryStatsOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/status")
async def kb_status(admin: KbManagerDep, request: Request) -> KbStatusOut:
    """What the bot answers from now: entries, stage, thresholds, rebuild progress."""
    return KbStatusOut.model_validate(request.app.state.brain.status)


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {t: {"schema": {"type": "string"}} for t in MEDIA_TYPES.values()}}},
)
async def export_kb(
    admin: KbManagerDep, session: SessionDep, format: Format = "jsonl"
) -> Response:
    """The whole knowledge base as a file: JSONL (complete), CSV or Markdown."""
    text = await kb_admin.export_file(session=session, fmt=format)
    name = f"chatdesk-kb-{datetime.now(UTC):%Y%m%d}.{format}"
    return Response(
        text,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _upload(request: Request) -> bytes:
    """The request body, refused with a 413 as soon as it passes the import limit."""
    limit = kb_admin.MAX_IMPORT_BYTES
    too_large = HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"the file is larger than the import limit of {limit // (1024 * 1024)} MB",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post(
    "/import",
    response_model=ImportOut,
    responses={
        413: {"model": TooLarge, "description": "the file is over the import limit"},
        422: {"description": "the file has problems (`problems`, each with its line); nothing"
              " was changed"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                 "format": "binary"}}},
        }
    },
)
async def import_kb(
    admin: KbManagerDep,
    session: SessionDep,
    request: Request,
    format: Format | None = None,
    filename: Annotated[str | None, Query(max_length=255)] = None,
    dry_run: bool = False,
) -> Any:
    """Replace the whole knowledge base with a file's entries (the body: the file's bytes).

    The format is `format`, or the `filename`'s suffix. A file with any problem changes
    nothing and is answered 422 with every problem and its line; `dry_run` only checks.
    """
    data = await _upload(request)
    fmt = format or kb_admin.format_of(filename)
    result = await kb_admin.import_file(
        session=session,
        data=data,
        fmt=fmt,
        dry_run=dry_run,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    if result.applied:
        _changed(request)
    out = ImportOut.model_validate(result)
    if result.problems:
        return JSONResponse(out.model_dump(), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return out


@router.post("/try")
async def try_question(body: TryIn, admin: KbManagerDep, request: Request) -> TryOut:
    """What the bot would do with this question now (answer, clarify, escalate) and why.

    Creates no conversation and stores nothing.
    """
    result = await kb_admin.try_question(brain=request.app.state.brain, question=body.question)
    return TryOut.model_validate(result)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_entry(
    body: EntryIn, admin: KbManagerDep, session: SessionDep, request: Request
) -> EntryFullOut:
    row = await knowledge.create_entry(
        session=session,
        entry_id=body.id,
        question=body.question,
        answer=body.answer,
        variants=body.variants,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    _changed(request)
    return EntryFullOut.model_validate(row)


@router.get("/{entry_id}")
async def get_entry(entry_id: str, admin: KbManagerDep, session: SessionDep) -> EntryFullOut:
    row = await knowledge.get_entry(session=session, entry_id=entry_id)
    return EntryFullOut.model_validate(row)


@router.put("/{entry_id}")
async def update_entry(
    entry_id: str, body: EntryUpdate, admin: KbManagerDep, session: SessionDep, request: Request
) -> EntryFullOut:
    row = await knowledge.update_entry(
        session=session,
        entry_id=entry_id,
        question=body.question,
        answer=body.answer,
        variants=body.variants,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    _changed(request)
    return EntryFullOut.model_validate(row)


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_entry(
    entry_id: str, admin: KbManagerDep, session: SessionDep, request: Request
) -> None:
    await knowledge.delete_entry(
        session=session, entry_id=entry_id, actor_id=admin.agent_id, ip=client_ip(request)
    )
    _changed(request)


@router.post("/{entry_id}/variants", status_code=status.HTTP_201_CREATED)
async def add_variant(
    entry_id: str, body: VariantIn, admin: KbManagerDep, session: SessionDep, request: Request
) -> VariantOut:
    variant = await knowledge.add_variant(
        session=session,
        entry_id=entry_id,
        text=body.text,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    _changed(request)
    return VariantOut.model_validate(variant)


@router.delete("/{entry_id}/variants/{variant_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_variant(
    entry_id: str, variant_id: RowId, admin: KbManagerDep, session: SessionDep, request: Request
) -> None:
    await knowledge.delete_variant(
        session=session,
        entry_id=entry_id,
        variant_id=variant_id,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    _changed(request)


@router.put("/{entry_id}/translations/{lang}")
async def set_translation(
    entry_id: str,
    lang: LangTag,
    body: TranslationIn,
    admin: KbManagerDep,
    session: SessionDep,
    request: Request,
) -> TranslationOut:
    """Add or replace the entry's question, variants and answer in `lang` (a tag: cs, zh-Hant)."""
    row = await knowledge.set_translation(
        session=session,
        entry_id=entry_id,
        lang=lang,
        question=body.question,
        answer=body.answer,
        variants=body.variants,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    _changed(request)
    return TranslationOut.model_validate(row)


@router.delete("/{entry_id}/translations/{lang}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_translation(
    entry_id: str, lang: LangTag, admin: KbManagerDep, session: SessionDep, request: Request
) -> None:
    await knowledge.delete_translation(
        session=session,
        entry_id=entry_id,
        lang=lang,
        actor_id=admin.agent_id,
        ip=client_ip(request),
    )
    _changed(request)
