"""The per-request session: reads commit statement by statement, writes in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from psycopg.pq import TransactionStatus
from sqlalchemy import event

from tests.fixtures.accounts import make_account
from tests.fixtures.content import post
from tests.fixtures.queries import count_statements


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
