"""The agent console page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

WIDGET_DIR = Path(__file__).resolve().parent.parent.parent / "widget"

router = APIRouter(include_in_schema=False)


@router.get("/agent")
async def agent_page() -> FileResponse:
    return FileResponse(WIDGET_DIR / "console.html")


@router.get("/console")
async def console_redirect() -> RedirectResponse:
    return RedirectResponse("/agent")
