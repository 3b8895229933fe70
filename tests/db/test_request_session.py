"""The per-request session: a route marked reads_only commits statement by statement, any other\nin one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient
from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.accounts import make_account
from tests.fixtures.content import post
from tests.fixtures.queries import count_statements
from townsquare.config import Settings
from townsquare.db.session import Database, SessionDep, _request_session, is_reads_only, reads_only
from townsquare.kit.hot_routes import flat_routes


@pytest.fixture
def statements(app: FastAPI) -> Iterator[list[tuple[str, TransactionStatus]]]:
    """Each statement the app runs, with the connection's transaction status right after it."""
    seen: list[tuple[str, TransactionStatus]] = []
    engine = app.state.database.engine.sync_engine

    def after(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append((statement.split()[0].upper(), connection.connection.dbapi_connection.info.transaction_status))

    event.listen(engine, "after_cursor_execute", after)
    yield seen
    event.remove(engine, "after_cursor_execute", after)


async def test_reads_open_no_transaction(client: AsyncClient, statements: list[tuple[str, TransactionStatus]]) -> None:
    alice = await make_account(client)
    await post(client, alice, "hello")  # in her own feed; no notification job runs meanwhile
    statements.clear()
    response = await client.get(f"/users/{alice.id}/followers", headers=alice.headers)
    assert response.status_code == 200
    # The token's session, then the page's statements: each its own transaction.
    assert len(statements) >= 2
    assert statements == [("SELECT", TransactionStatus.IDLE)] * len(statements)


async def test_a_hot_read_is_one_round_trip(
    app: FastAPI, client: AsyncClient, statements: list[tuple[str, TransactionStatus]]
) -> None:
    alice = await make_account(client)
    await post(client, alice, "hello")
    statements.clear()
    with count_statements(app.state.database) as sent:
        response = await client.get("/feed", headers=alice.headers)
    assert len(response.json()["items"]) == 1
    # The page, which checks the token's session itself (auth.gate), as a hot read in autocommit
    # mode (tests/db/test_hot.py): nothing through a SQLAlchemy session.
    assert statements == []
    assert [statement.split()[0] for statement in sent] == ["WITH"]


async def test_writes_are_one_transaction(client: AsyncClient, statements: list[tuple[str, TransactionStatus]]) -> None:
    alice = await make_account(client)
    statements.clear()
    await post(client, alice, "hello")
    assert statements
    assert {status for _, status in statements} == {TransactionStatus.INTRANS}


async def test_a_read_can_hold_settings_for_several_statements(
    client: AsyncClient, statements: list[tuple[str, TransactionStatus]]
) -> None:
    # Search sets its plan and typo settings for the transaction (transaction_block).
    statements.clear()
    response = await client.get("/search", params={"q": "anything"})
    assert response.status_code == 200
    assert [kind for kind, _ in statements] == ["BEGIN", "SELECT", "WITH", "SELECT", "COMMIT"]
    assert [status for _, status in statements[:-1]] == [TransactionStatus.INTRANS] * 4
    assert statements[-1][1] == TransactionStatus.IDLE


async def test_connections_keep_one_plan_per_prepared_statement(app: FastAPI) -> None:
    """The API's connections start with plan_cache_mode=force_generic_plan (DatabaseSettings):
    under "auto" the feed's prepared statement was planned again at every page."""
    async with app.state.database.engine.connect() as connection:
        shown = await connection.exec_driver_sql("SHOW plan_cache_mode")
        assert shown.scalar_one() == "force_generic_plan"


def _uses_the_request_session(dependant: Dependant) -> bool:
    return any(sub.call is _request_session or _uses_the_request_session(sub) for sub in dependant.dependencies)


# GET routes that write, and so get a transaction: none today. A GET route that takes a
# session says which it is: `@reads_only`, or listed here.
GETS_THAT_WRITE: set[str] = set()


def test_every_get_route_with_a_session_says_it_only_reads(app: FastAPI) -> None:
    unmarked = {
        route.path
        for route in flat_routes(app.router.routes)
        if isinstance(route, APIRoute)
        and "GET" in (route.methods or ())
        and _uses_the_request_session(route.dependant)
        and not is_reads_only(route.endpoint)
    }
    assert unmarked == GETS_THAT_WRITE
    assert len([r for r in flat_routes(app.router.routes) if is_reads_only(getattr(r, "endpoint", None))]) > 50


async def test_a_get_route_not_marked_reads_only_gets_a_transaction(settings: Settings, database_url: str) -> None:
    """The session follows the route's mark, not the HTTP method."""
    database = Database(database_url, settings.db)
    app = FastAPI()
    app.state.database = database

    async def status(session: AsyncSession) -> dict[str, str]:
        connection = await session.connection()
        await connection.exec_driver_sql("SELECT 1")
        raw = await connection.get_raw_connection()
        return {"status": raw.driver_connection.info.transaction_status.name}  # type: ignore[union-attr]

    @app.get("/reads")
    @reads_only
    async def reads(session: SessionDep) -> dict[str, str]:
        return await status(session)

    @app.get("/writes")
    async def writes(session: SessionDep) -> dict[str, str]:
        return await status(session)

    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            assert (await http.get("/reads")).json() == {"status": "IDLE"}
            assert (await http.get("/writes")).json() == {"status": "INTRANS"}
    finally:
        await database.dispose()
