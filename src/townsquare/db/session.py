"""Engine, session factory and the per-request transaction."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from townsquare.config import DatabaseSettings
from townsquare.db.hot import HotReads
from townsquare.db.urls import async_url
from townsquare.kit.openapi import answers


class Database:
    def __init__(self, url: str, settings: DatabaseSettings) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout,
            echo=settings.echo,
            # Parameters hold password hashes and private data: keep them out of errors and logs.
            hide_parameters=True,
            connect_args={
                "connect_timeout": settings.connect_timeout,
                # TimeZone=UTC: timestamps come as datetimes in datetime.UTC, which format
                # without a conversion (kit.schemas.format_timestamp); no query depends on it.
                "options": f"-c statement_timeout={settings.statement_timeout_ms}"
                f" -c plan_cache_mode={settings.plan_cache_mode} -c TimeZone=UTC",
                "application_name": "townsquare-api",
            },
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Reads: every statement is its own transaction (as it would see its own snapshot in
        # a READ COMMITTED one anyway), so no BEGIN and COMMIT round trips: a feed page then
        # takes two round trips (the token's session, the page) instead of four. Same pool.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False, autoflush=False
        )
        # The hottest pages' single statements, on the same pool (townsquare.db.hot).
        self.hot = HotReads(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_READS_ONLY = "_townsquare_reads_only"


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route that only reads (put it under the route's decorator): its `SessionDep`
    commits each statement by itself, without BEGIN and COMMIT round trips. Every other
    route's session is one transaction, whatever its HTTP method: a GET that must write is not
    left without one."""
    setattr(endpoint, _READS_ONLY, True)
    return endpoint


def is_reads_only(endpoint: Callable[..., Any] | None) -> bool:
    return bool(getattr(endpoint, _READS_ONLY, False))


@answers(503)
async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back if it
    raises; for a route marked `reads_only`, statements that commit one by one (see
    `transaction_block`)."""
    database: Database = request.app.state.database
    route = request.scope.get("route")
    sessions = database.read_sessions if is_reads_only(getattr(route, "endpoint", None)) else database.sessions
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


BEGIN, COMMIT = text("BEGIN"), text("COMMIT")


@contextlib.asynccontextmanager
async def transaction_block(session: AsyncSession) -> AsyncIterator[None]:
    """Statements that must share one transaction (`SET LOCAL`, `set_config(..., true)`) on a
    read request's session, which otherwise commits each statement by itself. Elsewhere the
    request's transaction already holds them, and this does nothing."""
    connection = (await session.connection()).sync_connection
    if connection is None or connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        yield
        return
    await session.execute(BEGIN)
    yield
    await session.execute(COMMIT)  # on an error, the request's rollback ends it instead


# scope="function": the commit happens before the response is sent, so a 2xx is never
# answered for work that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


def hot_reads_of(app: Any) -> HotReads:
    """The app's hot reads (for a hot route, kit.hot_routes, which has no dependencies)."""
    database: Database = app.state.database
    return database.hot


@answers(503)
async def _hot_reads(request: Request) -> HotReads:
    return hot_reads_of(request.app)


# For routes whose page is one statement (townsquare.db.hot): no session is opened.
HotReadsDep = Annotated[HotReads, Depends(_hot_reads)]
