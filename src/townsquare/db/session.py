"""Engine, session factory and the per-request transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from townsquare.config import DatabaseSettings
from townsquare.kit.openapi import answers


def async_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` forms and pick the psycopg 3 driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("DATABASE_URL must point to PostgreSQL")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same database as a plain libpq URL, for psycopg connections made outside SQLAlchemy."""
    return make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


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
                "options": f"-c statement_timeout={settings.statement_timeout_ms}",
                "application_name": "townsquare-api",
            },
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    async def dispose(self) -> None:
        await self.engine.dispose()


@answers(503)
async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises."""
    database: Database = request.app.state.database
    async with database.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function": the commit happens before the response is sent, so a 2xx is never
# answered for work that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
