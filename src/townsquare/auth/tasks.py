"""Housekeeping the job worker does for auth: expired login sessions go."""

from __future__ import annotations

import logging

import procrastinate
from procrastinate.job_context import JobContext

from townsquare.auth import service
from townsquare.db.session import Database

logger = logging.getLogger(__name__)

PURGE_EXPIRED_SESSIONS = "auth.purge_expired_sessions"


def register(app: procrastinate.App) -> None:
    async def purge_expired_sessions(context: JobContext, timestamp: int) -> None:
        database: Database = context.additional_context["database"]
        async with database.sessions() as session:
            removed = await service.purge_expired_sessions(session)
            await session.commit()
        if removed:
            logger.info("removed %d expired login sessions", removed)

    task = app.task(name=PURGE_EXPIRED_SESSIONS, pass_context=True, queueing_lock=PURGE_EXPIRED_SESSIONS)(
        purge_expired_sessions
    )
    app.periodic(cron="17 * * * *")(task)  # hourly; one run per tick whatever the number of workers
