"""The worker's own pool: procrastinate's bookkeeping commits without waiting for the WAL flush,
while the request's connection, on which jobs are deferred, keeps full durability."""

from __future__ import annotations

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from tests.fixtures.database import with_options
from townsquare.app import create_app
from townsquare.config import Settings


async def test_only_the_workers_bookkeeping_skips_the_wal_flush(app: FastAPI) -> None:
    # What procrastinate runs without a connection of ours (fetch, finish, heartbeat) uses this pool.
    shown = await app.state.jobs.app.connector.execute_query_one_async("SHOW synchronous_commit")
    assert shown["synchronous_commit"] == "off"
    async with app.state.database.sessions() as session:
        assert (await session.execute(text("SHOW synchronous_commit"))).scalar_one() == "on"


async def test_the_workers_pool_keeps_the_options_of_the_database_url(settings: Settings) -> None:
    assert settings.database_url is not None
    given = settings.model_copy(update={"database_url": with_options(settings.database_url, "-c lock_timeout=1234")})
    app = create_app(given)
    async with LifespanManager(app):
        shown = await app.state.jobs.app.connector.execute_query_one_async(
            "SELECT current_setting('lock_timeout') AS lock_timeout,"
            " current_setting('synchronous_commit') AS synchronous_commit"
        )
    assert shown == {"lock_timeout": "1234ms", "synchronous_commit": "off"}
