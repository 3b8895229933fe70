"""Housekeeping the job worker does for OAuth: authorization codes past their ten minutes go."""

from __future__ import annotations

import procrastinate
from procrastinate.job_context import JobContext

from townsquare.db.session import Database
from townsquare.oauth import service

PURGE_EXPIRED_CODES = "oauth.purge_expired_codes"


async def purge_expired_codes(context: JobContext, timestamp: int) -> None:
    database: Database = context.additional_context["database"]
    async with database.sessions() as session:
        await service.purge_expired_codes(session)
        await session.commit()


def register(app: procrastinate.App) -> None:
    task = app.task(name=PURGE_EXPIRED_CODES, pass_context=True, queueing_lock=PURGE_EXPIRED_CODES)(purge_expired_codes)
    app.periodic(cron="23 * * * *")(task)  # hourly
