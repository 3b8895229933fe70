"""Housekeeping the job worker does for auth: expired login sessions go."""

from __future__ import annotations

import procrastinate

from townsquare.auth import service
from townsquare.worker.housekeeping import periodic_purge

PURGE_EXPIRED_SESSIONS = "auth.purge_expired_sessions"


def register(app: procrastinate.App) -> None:
    periodic_purge(
        app,
        name=PURGE_EXPIRED_SESSIONS,
        cron="17 * * * *",
        purge=service.purge_expired_sessions,
        what="expired login sessions",
    )
