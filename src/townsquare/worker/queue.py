"""The job queue: procrastinate on the application's own PostgreSQL.

Jobs are deferred on the request's own connection, inside its transaction: a committed action
always has its job and a rolled-back one never does. The worker runs inside the API process by
default, or as any number of `townsquare worker` processes; PostgreSQL hands each job to one
worker (`FOR UPDATE SKIP LOCKED`), and a job whose worker died is handed out again by the
recovery task below. Tasks must therefore be idempotent, which notifications are (a unique
dedupe key).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
import psycopg
from procrastinate.exceptions import ConnectorException, ProcrastinateException
from procrastinate.worker import Worker
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import tasks as auth_tasks
from townsquare.config import WorkerSettings
from townsquare.db.outage import OUTAGE, connection_failure
from townsquare.db.session import Database
from townsquare.db.urls import libpq_url
from townsquare.kit.errors import Unavailable
from townsquare.mastodon import tasks as mastodon_tasks
from townsquare.notifications import tasks as notification_tasks
from townsquare.oauth import tasks as oauth_tasks
from townsquare.observability.jobs import observe_job
from townsquare.safety import tasks as safety_tasks
from townsquare.worker import upkeep

logger = logging.getLogger(__name__)

RECOVER_STALLED_JOBS = "worker.recover_stalled_jobs"
TEND_JOB_TABLE = "worker.tend_job_table"
# The worker's own housekeeping jumps the queue: behind a backlog of thousands of jobs, stalled
# jobs would wait to be recovered, and the job table to be analyzed, until the backlog was gone.
HOUSEKEEPING_PRIORITY = 100
HOUSEKEEPING_TASKS = frozenset({RECOVER_STALLED_JOBS, TEND_JOB_TABLE})


class JobQueue:
    def __init__(self, database_url: str, settings: WorkerSettings) -> None:
        self.settings = settings
        # The worker's own pool, for procrastinate's short queries (fetch, finish, heartbeat,
        # periodic deferral); opened without waiting, so a worker starts (and recovers) while the
        # database is down. Jobs run on the application's pool; deferring uses the request's
        # connection; the LISTEN connection is procrastinate's own.
        # Two round trips less per job (3,000-job drain, median of 6: 121 -> 227 jobs/s): no health
        # check per checkout (`_work` checks the pool after a failure instead), and commits that
        # do not wait for the WAL flush. A crash may lose this pool's last writes, none of which is
        # an application's job: a lost fetch leaves the job todo, a lost finish reruns an
        # idempotent job, a lost periodic tick comes again within seconds.
        conninfo = libpq_url(database_url)
        # Added to the URL's own `options` (a keyword argument would replace them).
        given_options = conninfo_to_dict(conninfo).get("options") or ""
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=4,
            kwargs={
                "connect_timeout": 5,
                "application_name": "townsquare-worker",
                "options": f"{given_options} -c synchronous_commit=off".strip(),
            },
            open=False,
        )
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector())
        self._worker: Worker | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        notification_tasks.register(self.app, settings)
        auth_tasks.register(self.app)
        oauth_tasks.register(self.app)
        safety_tasks.register(self.app)
        mastodon_tasks.register(self.app)
        self._register_recovery()
        self._register_upkeep()

    async def defer(self, session: AsyncSession, task: str, **arguments: Any) -> None:
        """Queue `task` in the session's transaction: the job exists if, and only if, it commits."""
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        try:
            await self.app.configure_task(task, connection=raw.driver_connection).defer_async(**arguments)
        except ConnectorException as error:
            # procrastinate wraps the driver's errors: a lost connection or a statement timeout
            # is the client's cue to retry, like any other database outage.
            if isinstance(error.__cause__, psycopg.OperationalError):
                raise Unavailable() from error
            raise

    def _new_worker(self, database: Database, *, name: str) -> Worker:
        return Worker(
            self.app,
            name=name,
            concurrency=self.settings.concurrency,
            install_signal_handlers=False,
            shutdown_graceful_timeout=self.settings.shutdown_grace_seconds,
            # Done jobs go; failed ones stay for an operator to inspect.
            delete_jobs="successful",
            update_heartbeat_interval=self.settings.heartbeat_seconds,
            stalled_worker_timeout=self.settings.stalled_after_seconds,
            additional_context={"database": database},
            # A log line and a measurement per job; the housekeeping, every few seconds, at DEBUG.
            worker_middleware=[functools.partial(observe_job, quiet_tasks=HOUSEKEEPING_TASKS)],
        )

    async def start_worker(self, database: Database, *, name: str) -> None:
        """Run a worker in the background until `stop_worker`; restarted after any failure."""
        await self._pool.open(wait=False)
        await self.app.open_async(self._pool)
        self._stopping = asyncio.Event()
        self._worker_task = asyncio.create_task(self._work(database, name), name="job-worker")

    async def stop_worker(self) -> None:
        """Let the jobs in hand finish (those still running after the grace period are
        interrupted and retried later), unregister the worker and close its pool. Never raises."""
        task = self._worker_task
        if task is None:
            return
        self._stopping.set()
        # A graceful stop request, which the worker sees whenever it reaches its loop: a
        # cancellation alone can be swallowed while it starts up (a database call in flight).
        if self._worker is not None:
            self._worker.stop()  # type: ignore[no-untyped-call]
        if self._worker is None or self._worker.worker_id is None:
            task.cancel()  # still starting, perhaps waiting for the database
        done, _ = await asyncio.wait({task}, timeout=self.settings.shutdown_grace_seconds + 5)
        if not done:
            logger.warning("the job worker did not stop in time; cancelling it")
            task.cancel()
            await asyncio.wait({task}, timeout=5)
        await self._pool.close()

    async def _work(self, database: Database, name: str) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            # No await between the check above and run() taking the stop request into account.
            self._worker = self._new_worker(database, name=name)
            started = time.monotonic()
            try:
                await self._worker.run()  # type: ignore[no-untyped-call]
            except Exception as error:  # the database restarting, say: start again, later
                if connection_failure(error):
                    OUTAGE.failed("job-worker", type(error).__name__)  # logged once an outage
                else:
                    logger.error("the job worker stopped (%s); restarting it in %.0fs", error, delay)
                # Drop the pool's dead connections now, or each would fail a fresh worker in turn.
                with contextlib.suppress(Exception):
                    await self._pool.check()
            if time.monotonic() - started > 60:
                delay = 1.0  # it had been working: a fresh failure
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            # At most 5 s: once the database is back, jobs flow again within seconds.
            delay = min(delay * 2, 5.0)

    def _register_recovery(self) -> None:
        stalled_after = self.settings.stalled_after_seconds

        async def recover_stalled_jobs(timestamp: int) -> None:
            """Put back in the queue the running jobs of workers that stopped sending heartbeats."""
            manager = self.app.job_manager
            for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
                try:
                    await manager.retry_job(job)
                except ProcrastinateException:  # another worker's recovery got there first
                    continue
                logger.warning("retrying job %s (%s) of a stalled worker", job.id, job.task_name)

        self._housekeeping(RECOVER_STALLED_JOBS, recover_stalled_jobs)

    async def tend_job_table(self) -> upkeep.Upkeep | None:
        """Analyze (or vacuum) the job table if its size has moved far from what the planner
        thinks: see `upkeep`. Says what it did."""
        async with self._pool.connection() as connection:
            await connection.set_autocommit(True)  # VACUUM runs outside a transaction
            try:
                return await upkeep.tend(connection)
            finally:
                if not connection.broken:  # a broken one is discarded by the pool anyway
                    await connection.set_autocommit(False)

    def _register_upkeep(self) -> None:
        async def tend_job_table(timestamp: int) -> None:
            """Keep the job fetch's plan in step with the queue's size."""
            await self.tend_job_table()

        # One at a time (`lock`): a slow VACUUM is never joined by the next tick's.
        self._housekeeping(TEND_JOB_TABLE, tend_job_table, lock=TEND_JOB_TABLE)

    def _housekeeping(self, name: str, function: Callable[[int], Awaitable[None]], *, lock: str | None = None) -> None:
        """Run `function` every `recover_every_seconds`, ahead of any backlog, with at most one
        run waiting (`queueing_lock`) however many workers there are."""
        task = self.app.task(name=name, lock=lock, queueing_lock=name, priority=HOUSEKEEPING_PRIORITY)(function)
        # Six cron fields: the last one is seconds.
        self.app.periodic(cron=f"* * * * * */{self.settings.recover_every_seconds}")(task)
