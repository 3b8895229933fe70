"""Housekeeping the job worker does for safety: mutes past their end go (the visibility rule
ignores them already; this keeps the table to the mutes that stand)."""

from __future__ import annotations

import procrastinate

from townsquare.safety import service
from townsquare.worker.housekeeping import periodic_purge

PURGE_EXPIRED_MUTES = "safety.purge_expired_mutes"


def register(app: procrastinate.App) -> None:
    periodic_purge(
        app, name=PURGE_EXPIRED_MUTES, cron="41 * * * *", purge=service.purge_expired_mutes, what="expired mutes"
    )
