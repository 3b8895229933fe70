"""A database outage in the log as two lines, not one per failed attempt.

While PostgreSQL is away every part of a process fails on its own: each request's connection
(a 503), the notification listener's retries, the job worker's pool (psycopg_pool warns, with
a multi-line message, at each reconnection attempt). Each failure is counted in
`townsquare_database_errors_total{source}`; the log gets one warning when the first one
happens ("database unreachable") and one when a connection succeeds again ("database
reachable again", with how long and how many failures).
"""

from __future__ import annotations

import logging
import threading
import time

import structlog
from procrastinate.exceptions import ConnectorException
from prometheus_client import Counter
from psycopg import OperationalError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.stdlib.get_logger("townsquare.database")

DATABASE_ERRORS = Counter(
    "townsquare_database_errors",
    "Failed attempts to reach the database, by the part of the process that made them.",
    ["source"],
)


class Outage:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # psycopg_pool's workers log from threads of their own
        self._down_since: float | None = None
        self._failures = 0

    def failed(self, source: str, error: str) -> None:
        DATABASE_ERRORS.labels(source).inc()
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since, self._failures = time.monotonic(), 0
            self._failures += 1
        if first:
            log.warning("database unreachable", source=source, error=error)

    def reachable(self) -> None:
        if self._down_since is None:  # the usual case: no lock
            return
        with self._lock:
            if self._down_since is None:
                return
            seconds, failures = time.monotonic() - self._down_since, self._failures
            self._down_since = None
        log.warning("database reachable again", down_seconds=round(seconds, 1), failures=failures)


OUTAGE = Outage()


class _PoolWarnings(logging.Filter):
    """psycopg_pool's warnings (the job worker's pool) become counted failures."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        OUTAGE.failed("worker-pool", record.getMessage().splitlines()[0][:200])
        return False


_POOL_FILTER = _PoolWarnings()


def connection_failure(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is the database being out of reach."""

    while error is not None:
        if isinstance(error, ConnectorException | OperationalError):
            return True
        error = error.__cause__ or error.__context__
    return False


class ConnectionFailures(logging.Filter):
    """Log records of the job worker's connection failures (procrastinate logs one, with a
    traceback, each time its side tasks lose the database) become counted failures. On the
    log handler, as they come from loggers named at run time."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("procrastinate") or record.exc_info is None:
            return True
        if not connection_failure(record.exc_info[1]):
            return True
        OUTAGE.failed("job-worker", type(record.exc_info[1]).__name__)
        return False


def watch(engine: AsyncEngine) -> None:
    """Count the pool's warnings, and take each new connection of `engine` as the database's
    return."""
    pool_log = logging.getLogger("psycopg.pool")
    if _POOL_FILTER not in pool_log.filters:
        pool_log.addFilter(_POOL_FILTER)
    event.listen(engine.sync_engine, "connect", _connected)


def _connected(*_: object) -> None:
    OUTAGE.reachable()
