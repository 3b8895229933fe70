"""The worker's own pool: procrastinate's bookkeeping commits without waiting for the WAL flush,
while the request's connection, on which jobs are deferred, keeps full durability."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text


async def test_only_the_workers_bookkeeping_skips_the_wal_flush(app: FastAPI) -> None:
    # What procrastinate runs without a connection of ours (fetch, finish, heartbeat) uses this pool.
    shown = await app.state.jobs.app.connector.execute_query_one_async("SHOW synchronous_commit")
    assert shown["synchronous_commit"] == "off"
    async with app.state.database.sessions() as session:
        assert (await session.execute(text("SHOW synchronous_commit"))).scalar_one() == "on"
