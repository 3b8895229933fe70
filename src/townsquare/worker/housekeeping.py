"""Hourly purges of rows past their use (expired sessions, codes, mutes), one task each."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import procrastinate
from procrastinate.job_context import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.session import Database

logger = logging.getLogger(__name__)


def periodic_purge(
    app: procrastinate.App, *, name: str, cron: str, purge: Callable[[AsyncSession], Awaitable[int | None]], what: str
) -> None:
    """Register `purge` (how many rows went, if it counts them) as the periodic task `name`;
    the queueing lock makes one run per tick, whatever the number of workers."""

    async def run(context: JobContext, timestamp: int) -> None:
        database: Database = context.additional_context["database"]
        async with database.sessions() as session:
            removed = await purge(session)
            await session.commit()
        if removed:
            logger.info("removed %d %s", removed, what)

    run.__name__ = name.rpartition(".")[2]
    task = app.task(name=name, pass_context=True, queueing_lock=name)(run)
    app.periodic(cron=cron)(task)
