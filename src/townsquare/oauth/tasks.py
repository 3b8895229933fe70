"""Housekeeping the job worker does for OAuth: authorization codes past their ten minutes go."""

from __future__ import annotations

import procrastinate

from townsquare.oauth import service
from townsquare.worker.housekeeping import periodic_purge

PURGE_EXPIRED_CODES = "oauth.purge_expired_codes"


def register(app: procrastinate.App) -> None:
    periodic_purge(app, name=PURGE_EXPIRED_CODES, cron="23 * * * *", purge=service.purge_expired_codes, what="codes")
