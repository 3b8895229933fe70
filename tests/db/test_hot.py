"""Hot reads (townsquare.db.hot): one prepared statement on a pooled connection, its session
check folded in (auth.gate), and a lost connection handled as SQLAlchemy handles one."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import psycopg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from psycopg.pq import TransactionStatus
from sqlalchemy import exc
from sqlalchemy.util import greenlet_spawn

from tests.fixtures.accounts import make_account
from tests.fixtures.content import follow, post
from townsquare.config import Settings
from townsquare.db.hot import statement
from townsquare.db.session import Database
from townsquare.db.urls import libpq_url


def test_statements_take_sqlalchemys_parameters_in_psycopgs_form() -> None:
    written = "SELECT CAST(:viewer AS bigint), x::text FROM t WHERE a = :a AND b = :b_2"
    assert statement(written) == "SELECT CAST(%(viewer)s AS bigint), x::text FROM t WHERE a = %(a)s AND b = %(b_2)s"
    with pytest.raises(ValueError, match="literal %"):
        statement("SELECT 'a%'")


class Pair(NamedTuple):
    number: int
    word: str


async def test_rows_come_typed_from_one_autocommit_statement(settings: Settings, database_url: str) -> None:
    database = Database(database_url, settings.db.model_copy(update={"pool_size": 1, "max_overflow": 0}))
    try:
        rows = await database.hot.rows(
            statement("SELECT n, 'w' || n FROM generate_series(1, :to) AS n"), {"to": 2}, Pair
        )
        assert rows == [Pair(1, "w1"), Pair(2, "w2")]
        # The pool's one connection, back from the hot read: no transaction left open, out of
        # autocommit again (as SQLAlchemy's sessions expect it), and the statement prepared.
        lent = await database.engine.raw_connection()
        connection: psycopg.AsyncConnection[object] = lent.driver_connection  # type: ignore[assignment]
        assert connection.info.transaction_status is TransactionStatus.IDLE
        assert connection.autocommit is False
        await greenlet_spawn(lent.close)
        async with database.engine.connect() as connection_:
            prepared = await connection_.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements")
            assert prepared.scalar_one() >= 1
        # An error of the statement (not of the connection) is SQLAlchemy's, as for any query.
        with pytest.raises(exc.ProgrammingError):
            await database.hot.rows(statement("SELECT * FROM no_such_table"), {}, Pair)
        assert (await database.hot.rows(statement("SELECT 3, 'x'"), {}, Pair)) == [Pair(3, "x")]
    finally:
        await database.dispose()


async def test_hot_pages_check_the_session_in_their_statement(client: AsyncClient) -> None:
    """The feed, the post page and a user's posts: one statement gated on the token's session.
    Signed out (the token still validly signed, its session gone), a page with rows, an empty
    one and one that names nothing all answer 401, as every other route does."""
    reader, author = await make_account(client), await make_account(client)
    await follow(client, reader, author)
    made = await post(client, author, "hello")
    lonely = await make_account(client)
    pages = {
        "/feed": 200,
        f"/posts/{made['id']}": 200,
        f"/users/{author.id}/posts": 200,
        f"/users/{lonely.id}/posts": 200,  # empty
        "/posts/123456789": 404,
        "/posts/not-an-id": 404,
        "/users/not-an-id/posts": 404,
    }
    for path, status in pages.items():
        answer = await client.get(path, headers=reader.headers)
        assert answer.status_code == status, path
    assert (await client.get(f"/posts/{made['id']}")).json()["content"] == "hello"  # anonymous
    assert (await client.get("/feed", headers=lonely.headers)).json()["items"] == []
    for account in (reader, lonely):
        assert (await client.post("/auth/logout", headers=account.headers)).status_code == 204
    assert (await client.get("/feed", headers=lonely.headers)).status_code == 401  # an empty feed
    for path in pages:
        refused = await client.get(path, headers=reader.headers)
        assert refused.status_code == 401, path
        assert refused.headers["content-type"] == "application/problem+json"


async def test_killed_backends_cost_one_503_and_the_pool_recovers(
    app: FastAPI, client: AsyncClient, database_url: str
) -> None:
    """Every pooled connection killed at once (as a database restart does): the first hot read
    to meet a dead one answers 503 and drops the pool's older connections with it, as
    SQLAlchemy does, so the next requests reconnect instead of each meeting a dead one."""
    reader = await make_account(client)
    await post(client, reader, "mine")
    # Fill the pool: concurrent pages each hold a connection.
    pages = await asyncio.gather(*(client.get("/feed", headers=reader.headers) for _ in range(8)))
    assert {page.status_code for page in pages} == {200}
    assert app.state.database.engine.sync_engine.pool.checkedin() >= 2
    async with await psycopg.AsyncConnection.connect(libpq_url(database_url), autocommit=True) as admin:
        killed = await admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'townsquare-api' AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = await killed.fetchone()
        assert row is not None
        assert row[0] >= 2
    await asyncio.sleep(0.2)
    statuses = [(await client.get("/feed", headers=reader.headers)).status_code for _ in range(10)]
    assert statuses.count(503) <= 1, statuses
    assert statuses[-9:] == [200] * 9, statuses
