"""REST for the reports (issue 15): JSON, or CSV with `?format=csv` or a `.csv` name."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from app.db import SessionDep
from app.security import ReportsReaderDep
from handoff import reports
from handoff.report_figures import make_period, to_csv

DEFAULT_DAYS = 30  # no period given: the last 30 days, today included
CSV_SUFFIX = ".csv"

router = APIRouter(prefix="/api/admin/reports", tags=["reports"])


@router.get("", response_model=None)
async def report_names(reader: ReportsReaderDep) -> dict[str, Any]:
    """The reports there are."""
    return {"reports": list(reports.REPORTS)}


@router.get("/{name}", response_model=None)
async def report(
    name: str,
    request: Request,
    reader: ReportsReaderDep,
    session: SessionDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    as_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response | dict[str, Any]:
    """One report for the days from `from` to `to` (both included; business time zone)."""
    hours = request.app.state.routing.hours.current
    if name.endswith(CSV_SUFFIX):
        name, as_format = name.removesuffix(CSV_SUFFIX), "csv"
    today = datetime.now(hours.timezone).date()
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    scope = reports.Scope(
        period=make_period(first=first, last=last, timezone=hours.timezone),
        hours=hours,
        nps_enabled=request.app.state.settings.nps_question,
    )
    built = await reports.build(session=session, name=name, scope=scope)
    if as_format == "json":
        return built.as_json()
    filename = f"chatdesk-{built.name}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        to_csv(built),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
