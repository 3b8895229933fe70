"""Prometheus metrics, and `GET /metrics` to scrape them.

Label values are bounded and say nothing about users: route templates (`/posts/{post_id}`, one
`unmatched` for every path no route answers), known methods, status codes, task names, queue
names. Ids, usernames and raw paths never become labels.

One process: the metrics live in prometheus_client's default registry, with the process's own
(CPU, memory, open files). Several processes (`townsquare run --workers N`, or `townsquare
worker` beside the API on one machine): set `PROMETHEUS_MULTIPROC_DIR` to an empty directory,
wiped before each start, that all of them share. Each process then writes its metrics to files
there and whichever process answers a scrape adds them up: counters and histograms are summed;
the gauges below are `livesum`, the sum over the processes still running (a process that stops
removes its files; one that is killed stays counted until the directory is wiped). Process
metrics (CPU, memory) are not shown in that mode.

The job queue's depth and age are read from the database at each scrape, so every process
shows the same numbers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from townsquare.config import Settings
from townsquare.db.session import Database, reads_only
from townsquare.kit.errors import Unauthorized

log = structlog.stdlib.get_logger(__name__)

REQUEST_SECONDS = Histogram(
    "townsquare_http_request_duration_seconds",
    "Time until the response's headers were sent (an event stream counts its opening, not its life); "
    "the _count is the number of requests.",
    ["method", "route", "status"],
)
JOB_SECONDS = Histogram(
    "townsquare_job_duration_seconds",
    "Time a job ran; the _count is the number of jobs run (outcome: succeeded, failed, aborted).",
    ["task", "outcome"],
)
NOTIFICATION_LAG = Histogram(
    "townsquare_notification_lag_seconds",
    "Time from the action (a like, comment, follow) to its notification being stored by the worker "
    "(stage=stored) or heard by an API process with an open stream of its recipient (stage=pushed).",
    ["stage"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
OPEN_STREAMS = Gauge(
    "townsquare_notification_streams_open", "Open notification event streams.", multiprocess_mode="livesum"
)
POOL_SIZE = Gauge(
    "townsquare_db_pool_size",
    "Connections the pool keeps (beyond them, up to max_overflow more).",
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "townsquare_db_pool_checked_out", "Pool connections in use by requests and jobs.", multiprocess_mode="livesum"
)
POOL_OVERFLOW = Gauge(
    "townsquare_db_pool_overflow", "Connections in use beyond the pool's size.", multiprocess_mode="livesum"
)

# A scrape waits this long for the job queue's numbers, then answers without them.
QUEUE_READ_TIMEOUT = 2.0

# Waiting (todo) and running (doing) jobs per queue, and since when the oldest job ready to run
# has waited: since its `scheduled_at` if it had one (a retry), else since it was deferred.
# Finished jobs are never read: the WHERE matches the partial index
# procrastinate_jobs_id_lock_idx_v1, so the cost follows the backlog, not the table; the
# deferral time is one lookup in procrastinate_events by job id, per queue.
_QUEUE_BACKLOG = text("""
WITH pending AS (
    SELECT queue_name, status, count(*) AS jobs,
           min(scheduled_at) FILTER (WHERE status = 'todo' AND scheduled_at <= now()) AS ready_since,
           min(id) FILTER (WHERE status = 'todo' AND scheduled_at IS NULL) AS oldest_unscheduled
    FROM procrastinate_jobs
    WHERE status = ANY (ARRAY['todo', 'doing']::procrastinate_job_status[])
    GROUP BY queue_name, status
)
SELECT queue_name, status, jobs, extract(epoch FROM now() - least(
    ready_since,
    (SELECT min(at) FROM procrastinate_events WHERE job_id = oldest_unscheduled AND type = 'deferred')
)) AS waited
FROM pending
""")

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
@reads_only
async def scrape(request: Request) -> Response:
    """Prometheus metrics: requests, jobs, notifications, the database pool and the job queue."""
    settings: Settings = request.app.state.settings
    token = settings.metrics.token
    if token is not None and not secrets.compare_digest(
        request.headers.get("authorization", "").encode(), f"Bearer {token.get_secret_value()}".encode()
    ):
        raise Unauthorized("/metrics needs its bearer token (TOWNSQUARE_METRICS__TOKEN).")
    queues = {task.queue for task in request.app.state.jobs.app.tasks.values()}
    database: Database = request.app.state.database
    try:
        async with asyncio.timeout(QUEUE_READ_TIMEOUT), database.engine.connect() as connection:
            queue = await queue_backlog(connection, queues)
    except Exception as error:  # the database is down or slow: the rest is worth showing still
        log.warning("job queue metrics unavailable", error=type(error).__name__)
        queue = []
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(_Scrape(_process_metrics(), queue)), media_type=media_type)


async def queue_backlog(connection: AsyncConnection, queues: Iterable[str]) -> list[Metric]:
    """The job queue's depth and age as gauges; zero for known queues with nothing pending."""
    jobs = {(queue, status): 0.0 for queue in queues for status in ("todo", "doing")}
    waited = dict.fromkeys(queues, 0.0)
    for row in await connection.execute(_QUEUE_BACKLOG):
        jobs[row.queue_name, row.status] = float(row.jobs)
        if row.waited is not None:
            waited[row.queue_name] = float(row.waited)
    depth = GaugeMetricFamily(
        "townsquare_job_queue_jobs", "Jobs waiting (status=todo) or running (status=doing).", labels=["queue", "status"]
    )
    for (queue, status), count in sorted(jobs.items()):
        depth.add_metric([queue, status], count)
    age = GaugeMetricFamily(
        "townsquare_job_queue_oldest_waiting_seconds",
        "How long the oldest job ready to run has waited.",
        labels=["queue"],
    )
    for queue, seconds in sorted(waited.items()):
        age.add_metric([queue], seconds)
    return [depth, age]


def watch_pool(engine: AsyncEngine, pool_size: int) -> None:
    """Keep the pool gauges current from the pool's own checkout and checkin events (gauges
    read at scrape time would only ever show the process that answers the scrape)."""
    POOL_SIZE.set(pool_size)
    checked_out = 0

    def checkout(*_: Any) -> None:
        nonlocal checked_out
        checked_out += 1
        POOL_CHECKED_OUT.inc()
        if checked_out > pool_size:
            POOL_OVERFLOW.inc()

    def checkin(*_: Any) -> None:
        nonlocal checked_out
        if checked_out > pool_size:
            POOL_OVERFLOW.dec()
        checked_out -= 1
        POOL_CHECKED_OUT.dec()

    event.listen(engine.sync_engine.pool, "checkout", checkout)
    event.listen(engine.sync_engine.pool, "checkin", checkin)


def forget_this_process() -> None:
    """In multi-process mode, stop counting this exiting process in the live gauges."""
    if _multiprocess_dir() is not None:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def _process_metrics() -> Collector:
    if _multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # reads the files at each scrape
    return registry


class _Scrape:
    """What one scrape shows: the processes' metrics and the job queue as just read."""

    def __init__(self, processes: Collector, queue: list[Metric]) -> None:
        self._processes = processes
        self._queue = queue

    def collect(self) -> Iterator[Metric]:
        yield from self._processes.collect()
        yield from self._queue
