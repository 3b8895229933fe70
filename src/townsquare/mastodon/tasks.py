"""Housekeeping the job worker does for the Mastodon API: Idempotency-Keys older than an hour go."""

from __future__ import annotations

import procrastinate

from townsquare.mastodon import idempotency
from townsquare.worker.housekeeping import periodic_purge

FORGET_OLD_IDEMPOTENCY_KEYS = "mastodon.forget_old_idempotency_keys"


def register(app: procrastinate.App) -> None:
    periodic_purge(
        app, name=FORGET_OLD_IDEMPOTENCY_KEYS, cron="29 * * * *", purge=idempotency.forget_old, what="idempotency keys"
    )
