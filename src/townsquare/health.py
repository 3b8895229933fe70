"""Liveness and readiness probes."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from townsquare.db.session import Database, reads_only
from townsquare.kit.errors import problem_docs, problem_response
from townsquare.kit.openapi import DocumentedRoute

router = APIRouter(tags=["health"], route_class=DocumentedRoute)

READINESS_TIMEOUT = 2.0  # seconds: a probe must answer fast, also when the database hangs


@router.get("/healthz")
@reads_only
async def healthz() -> dict[str, str]:
    """The process is up (no database call)."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_docs(503))
@reads_only
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers."""
    database: Database = request.app.state.database
    try:
        async with asyncio.timeout(READINESS_TIMEOUT), database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure at all means "not ready"; the reason goes to the log, not the probe
        return problem_response(503, detail="The database cannot be reached.", headers={"Retry-After": "1"})
    return JSONResponse({"status": "ok"})
