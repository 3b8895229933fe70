"""Per job: its id and task on every line it logs, one `job` line at its end, one measurement.

A procrastinate worker middleware, so it wraps every job of every task. procrastinate's own
start and end lines are left out of the log (`logs.py`): this line replaces them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import Any

import structlog
from procrastinate.exceptions import JobAborted
from procrastinate.job_context import JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker

from townsquare.observability.metrics import JOB_SECONDS

log = structlog.stdlib.get_logger("townsquare.job")


async def observe_job(
    call_next: AsyncCallNext, context: JobContext, worker: Worker, *, quiet_tasks: Collection[str] = ()
) -> Any:
    """`quiet_tasks` (housekeeping every few seconds) log their successes at DEBUG only."""
    job = context.job
    level = logging.DEBUG if job.task_name in quiet_tasks else logging.INFO
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(job_id=job.id, task=job.task_name):
        try:
            result = await call_next()
        except (JobAborted, asyncio.CancelledError):  # the worker is stopping: it runs again later
            _finished(context, "aborted", started, level)
            raise
        except Exception as error:  # with its traceback; retried with backoff until its attempts run out
            _finished(context, "failed", started, logging.ERROR, exc_info=error)
            raise
        _finished(context, "succeeded", started, level)
        return result


def _finished(context: JobContext, outcome: str, started: float, level: int, **exception: Exception) -> None:
    seconds = time.perf_counter() - started
    JOB_SECONDS.labels(context.job.task_name, outcome).observe(seconds)
    log.log(
        level,
        "job",
        outcome=outcome,
        duration_ms=round(seconds * 1000, 2),
        attempt=context.job.attempts + 1,
        **exception,
    )
