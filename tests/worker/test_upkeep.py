"""The job table's upkeep: a worker's fetch, planned while the queue was empty, is planned again
once the queue has grown, and the dead rows of a drained queue go even without autovacuum."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from psycopg.rows import TupleRow

from tests.fixtures.database import fresh_database
from townsquare.db.urls import libpq_url
from townsquare.notifications.service import DELIVER
from townsquare.worker import upkeep
from townsquare.worker.queue import RECOVER_STALLED_JOBS, TEND_JOB_TABLE

Connection = psycopg.AsyncConnection[TupleRow]

JOBS = 600  # above upkeep.ROWS_SLACK, and enough for the stale plan to show


@pytest.fixture
async def database(server_url: str) -> AsyncIterator[str]:
    # A database of its own: no in-process worker takes these jobs, and no autovacuum analyzes
    # the table behind the test's back.
    with fresh_database(server_url) as url:
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as connection:
            await connection.execute("ALTER TABLE procrastinate_jobs SET (autovacuum_enabled = false)")
            await connection.execute("ANALYZE procrastinate_jobs")  # the planner's view: an empty queue
        yield libpq_url(url)


async def _queue(connection: Connection, count: int) -> None:
    await connection.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status)"
        " SELECT 'default', 'test', '{}', 'todo' FROM generate_series(1, %s)",
        (count,),
    )
    # The statistics reach the shared figures when this statement ends, not up to a second later.
    await connection.execute("SELECT pg_stat_force_next_flush()")


async def _row(connection: Connection, query: str) -> tuple[Any, ...]:
    row = await (await connection.execute(query)).fetchone()
    assert row is not None
    return row


async def _planned_rows(connection: Connection) -> float:
    return float((await _row(connection, "SELECT reltuples FROM pg_class WHERE relname = 'procrastinate_jobs'"))[0])


async def _rows_scanned_by_a_fetch(worker: Connection) -> int:
    """Rows that one job fetch reads by scanning the whole table (the fetch is rolled back)."""
    # The connection's counts so far go to the shared figures: what remains is this fetch's.
    await worker.execute("SELECT pg_stat_force_next_flush()")
    async with worker.transaction(force_rollback=True):
        assert (await _row(worker, "SELECT id FROM procrastinate_fetch_job_v2(NULL, NULL)"))[0] is not None
        scanned = await _row(
            worker, "SELECT seq_tup_read FROM pg_stat_xact_user_tables WHERE relname = 'procrastinate_jobs'"
        )
    return int(scanned[0])


async def test_a_fetch_planned_on_an_empty_queue_is_planned_again_once_the_queue_grows(database: str) -> None:
    async with (
        await psycopg.AsyncConnection.connect(database, autocommit=True) as worker,
        await psycopg.AsyncConnection.connect(database, autocommit=True) as app,
    ):
        # A worker that started on an empty queue: its connection keeps the plan it made then.
        for _ in range(8):
            await worker.execute("SELECT procrastinate_fetch_job_v2(NULL, NULL)")
        assert await upkeep.tend(app) is None  # nothing has changed yet

        await _queue(app, JOBS)
        # The premise: that plan reads the whole table once per waiting job.
        assert await _rows_scanned_by_a_fetch(worker) >= JOBS * JOBS // 2

        assert await upkeep.tend(app) == "analyze"
        assert await _rows_scanned_by_a_fetch(worker) < JOBS
        assert await _planned_rows(app) == JOBS
        assert await upkeep.tend(app) is None  # done once, not on every look


async def test_a_drained_queue_is_vacuumed_when_its_dead_rows_pile_up(database: str) -> None:
    async with await psycopg.AsyncConnection.connect(database, autocommit=True) as app:
        await _queue(app, upkeep.DEAD_SLACK + 100)
        assert await upkeep.tend(app) == "analyze"
        await app.execute("DELETE FROM procrastinate_jobs")
        await app.execute("SELECT pg_stat_force_next_flush()")

        assert await upkeep.tend(app) == "vacuum"
        figures = await _row(
            app,
            "SELECT n_dead_tup, n_live_tup, last_vacuum IS NOT NULL, last_analyze IS NOT NULL"
            " FROM pg_stat_user_tables WHERE relname = 'procrastinate_jobs'",
        )
        dead, live, vacuumed, analyzed = figures
        # Dead rows an older snapshot elsewhere on the server still sees may stay for now.
        assert (dead < upkeep.DEAD_SLACK, live, vacuumed, analyzed) == (True, 0, True, True)
        assert await upkeep.tend(app) is None


@pytest.mark.parametrize(
    ("planned", "live", "dead", "expected"),
    [
        (0, 0, 0, None),
        (0, upkeep.ROWS_SLACK - 1, 0, None),  # too few to matter
        (0, upkeep.ROWS_SLACK, 0, "analyze"),
        (1_000, 2_499, 0, None),  # grown, but not to twice its size and the slack
        (1_000, 2_500, 0, "analyze"),
        (2_500, 1_000, 0, "analyze"),  # shrunk as much
        (6_000, 0, 0, None),  # drained: the planner keeps the larger figure, never "empty"
        (6_000, upkeep.ROWS_SLACK - 1, 0, None),
        (6_000, upkeep.ROWS_SLACK, 0, "analyze"),
        (1_000, 1_000, upkeep.DEAD_SLACK + 1_999, None),
        (1_000, 1_000, upkeep.DEAD_SLACK + 2_000, "vacuum"),
        (0, 5_000, 20_000, "vacuum"),  # the vacuum analyzes too
    ],
)
def test_what_the_table_needs(planned: int, live: int, dead: int, expected: str | None) -> None:
    assert upkeep.needed(planned=planned, live=live, dead=dead) == expected


async def test_the_worker_tends_its_table_every_few_seconds(app: FastAPI) -> None:
    jobs = app.state.jobs.app
    assert {(periodic.task.name, periodic.cron) for periodic in jobs.periodic_registry.periodic_tasks.values()} >= {
        (TEND_JOB_TABLE, f"* * * * * */{app.state.settings.worker.recover_every_seconds}")
    }
    # Ahead of any backlog: the fetch takes the highest priority first.
    for name in (TEND_JOB_TABLE, RECOVER_STALLED_JOBS):
        assert jobs.tasks[name].priority > jobs.tasks[DELIVER].priority
    async with await psycopg.AsyncConnection.connect(
        libpq_url(app.state.settings.database_url), autocommit=True
    ) as connection:
        await connection.execute("ANALYZE procrastinate_jobs")
        before = await _planned_rows(connection)
        assert before < 100, "earlier tests left jobs behind"  # else the jobs below are no growth
        # Jobs for tomorrow: the in-process worker leaves them alone.
        await connection.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, scheduled_at)"
            " SELECT 'default', 'test', '{}', 'todo', now() + interval '1 day' FROM generate_series(1, %s)",
            (JOBS,),
        )
        await connection.execute("SELECT pg_stat_force_next_flush()")
        try:
            await jobs.tasks[TEND_JOB_TABLE](timestamp=0)  # as a periodic tick runs it
            # The in-process worker's own tick may be the one analyzing (ours then skips the
            # locked table): its figure lands when that ANALYZE commits.
            planned = await _planned_rows(connection)
            for _ in range(100):  # up to 5 s
                if planned >= before + JOBS:
                    break
                await asyncio.sleep(0.05)
                planned = await _planned_rows(connection)
            assert planned >= before + JOBS
        finally:
            await connection.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'test'")
