"""The worker's side of notifications: the job that `service.announce` queues."""

from __future__ import annotations

from datetime import UTC, datetime

import procrastinate
from procrastinate.job_context import JobContext

from townsquare.config import WorkerSettings
from townsquare.db.session import Database
from townsquare.notifications import service
from townsquare.observability.metrics import NOTIFICATION_LAG


def register(app: procrastinate.App, settings: WorkerSettings) -> None:
    async def deliver(context: JobContext, *, type: str, actor_id: int, target_id: int, at: str) -> None:
        database: Database = context.additional_context["database"]
        action_at = datetime.fromisoformat(at)
        async with database.sessions() as session:
            made = await service.deliver(session, type=type, actor_id=actor_id, target_id=target_id, at=action_at)
            await session.commit()
        if made is not None:
            NOTIFICATION_LAG.labels("stored").observe((datetime.now(UTC) - action_at).total_seconds())

    # A failure (the database restarting, a deadlock) retries after 2, 4, 8 ... seconds.
    retry = procrastinate.RetryStrategy(max_attempts=settings.max_attempts, exponential_wait=2)
    app.task(name=service.DELIVER, pass_context=True, retry=retry)(deliver)
