"""Housekeeping the job worker does for the Mastodon API: Idempotency-Keys older than an hour go."""

from __future__ import annotations

import procrastinate
from procrastinate.job_context import JobContext

from townsquare.db.session import Database
from townsquare.mastodon import idempotency

FORGET_OLD_IDEMPOTENCY_KEYS = "mastodon.forget_old_idempotency_keys"


async def forget_old_idempotency_keys(context: JobContext, timestamp: int) -> None:
    database: Database = context.additional_context["database"]
    async with database.sessions() as session:
        await idempotency.forget_old(session)
        await session.commit()


def register(app: procrastinate.App) -> None:
    task = app.task(name=FORGET_OLD_IDEMPOTENCY_KEYS, pass_context=True, queueing_lock=FORGET_OLD_IDEMPOTENCY_KEYS)(
        forget_old_idempotency_keys
    )
    app.periodic(cron="29 * * * *")(task)  # hourly
