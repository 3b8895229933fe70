"""Hot reads: one prepared statement on a pooled connection, without SQLAlchemy's execution layer.

The busiest pages (the home feed) are one statement each. Run through a SQLAlchemy session,
a page paid for the session, a greenlet hop per statement, the execution context and the Row
objects: more CPU than PostgreSQL spent on the statement. Here the statement goes straight to
the psycopg connection that SQLAlchemy's pool lends (the same pool, its limits and its
metrics), prepared on that connection (`prepare=True`: psycopg keeps it for the connection's
life), in autocommit mode (one round trip, no BEGIN or COMMIT), and its rows come back as the
query's own NamedTuple.

A lost connection is handled as SQLAlchemy handles one: the connection and every one the pool
opened before it are dropped (the server went away: they are dead too), and the request is
answered 503 by the same handler (SQLAlchemy's own exception for the error, with
`connection_invalidated`). Writes, migrations and everything else stay on SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import psycopg
from psycopg.rows import args_row
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

_NAMED = re.compile(r"(?<![:\w]):(\w+)")

# Who wants to see each statement before it runs (tests count them; the benchmark replays them).
StatementListener = Callable[[str, Mapping[str, Any]], None]
Row = TypeVar("Row")


def statement(sql: str) -> str:
    """`sql` written with SQLAlchemy's `:name` parameters (as the repositories and
    townsquare.visibility write them), in psycopg's `%(name)s` form."""
    if "%" in sql:
        raise ValueError("a hot statement cannot hold a literal %")
    return _NAMED.sub(r"%(\1)s", sql)


class HotReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.listeners: list[StatementListener] = []

    async def rows(self, sql: str, params: Mapping[str, Any], row: Callable[..., Row]) -> list[Row]:
        """The rows of one statement (in `statement()`'s form), each made by `row` (the
        query's NamedTuple) from its columns."""
        for listener in self.listeners:
            listener(sql, params)
        lent = await self._engine.raw_connection()
        connection: psycopg.AsyncConnection[Any] = lent.driver_connection  # type: ignore[assignment]
        try:
            # Between requests the pool keeps its connections out of autocommit, as
            # SQLAlchemy's sessions expect: on for this statement only (setting it sends nothing).
            await connection.set_autocommit(True)
            async with connection.cursor(row_factory=args_row(row)) as cursor:
                await cursor.execute(sql, params, prepare=True)
                return await cursor.fetchall()
        except psycopg.Error as error:
            lost = self._engine.dialect.is_disconnect(error, lent.dbapi_connection, None)  # type: ignore[arg-type]
            if lost:
                # As SQLAlchemy does on a disconnect (Connection._handle_dbapi_exception): drop
                # this connection and every one the pool made before it.
                self._engine.sync_engine.pool._invalidate(lent, error)
            # SQLAlchemy's exception for it, which the error handlers answer (503 if lost).
            raise exc.DBAPIError.instance(sql, params, error, psycopg.Error, connection_invalidated=lost) from error
        finally:
            if lent.is_valid and not connection.broken:
                await connection.set_autocommit(False)
            await greenlet_spawn(lent.close)  # back to the pool (closed, if invalidated)

    async def value(self, sql: str, params: Mapping[str, Any]) -> Any:
        """The one value of a statement that returns one row of one column."""
        ((found,),) = await self.rows(sql, params, lambda *columns: columns)
        return found
