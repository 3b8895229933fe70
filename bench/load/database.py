"""The benchmark's database: a loaded template per size and seed, and a fresh copy per run.

The server is DATABASE_URL's (any database on it: the benchmark makes its own there), else an
embedded PostgreSQL of its own in `<data dir>/bench-postgres` (never the one `make run` uses).
A preset is loaded once into `townsquare_bench_<size>_s<seed>`, marked done with a comment on the
database, and reused by later runs. Each run works on `townsquare_bench_<size>_run`, a file copy
of the template made at its start and dropped at its end, so that the writes a run makes (posts,
likes, notifications, login sessions) never reach the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from townsquare.config import AuthSettings
from townsquare.db.migrate import upgrade
from townsquare.db.urls import libpq_url
from townsquare.seed import bulk
from townsquare.worker.queue import HOUSEKEEPING_TASKS

# The worker's periodic jobs (a few seconds apart) are no one's backlog.
HOUSEKEEPING = sorted(HOUSEKEEPING_TASKS)
TABLES = ("user_account", "follow", "post", "post_like", "comment", "notification", "user_block", "user_mute")
SERVER_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "max_connections",
    "synchronous_commit",
    "jit",
    "random_page_cost",
    "autovacuum",
)


@dataclass(frozen=True)
class Server:
    url: str  # the `postgres` database of the server, as a libpq URL
    embedded: bool

    def database(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True)


@dataclass
class Prepared:
    url: str
    name: str
    template: str
    reused: bool
    load_seconds: float | None
    copy_seconds: float
    load_summary: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def server(database_url: str | None, data_dir: Path) -> Iterator[Server]:
    if database_url is not None:
        url = make_url(libpq_url(database_url)).set(database="postgres").render_as_string(hide_password=False)
        yield Server(url, embedded=False)
        return
    from townsquare.db import embedded

    root = data_dir / "bench-postgres"
    print(f"DATABASE_URL is not set: using an embedded PostgreSQL of the benchmark's own in {root}", flush=True)
    with embedded.running(root) as running:
        yield Server(running.url("postgres"), embedded=True)


def prepare(server: Server, *, size: str, seed: int) -> Prepared:
    template = f"townsquare_bench_{size}_s{seed}"
    marker = f"townsquare bench preset size={size} seed={seed}"
    with server.connect() as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
    reused = row is not None and str(row[0] or "").startswith(marker)
    load_seconds, summary = None, None
    if reused:
        print(f"reusing {template} ({row[0] if row else ''})", flush=True)
    else:
        print(f"loading preset {size!r} into {template} (once; later runs reuse it)", flush=True)
        started = time.perf_counter()
        with server.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
        upgrade(server.database(template))
        report = asyncio.run(bulk.load(server.database(template), AuthSettings(), size=size, seed=seed))
        load_seconds, summary = time.perf_counter() - started, report.summary()
        with server.connect() as connection:
            comment = f"{marker}: loaded {time.strftime('%Y-%m-%d %H:%M:%S')} in {load_seconds:.0f} s"
            connection.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(template), sql.Literal(comment))
            )
    upgrade(server.database(template))  # migrations added since the load
    # ... and the rows of tables they added that the presets fill (blocks and mutes).
    asyncio.run(bulk.add_safety(server.database(template), size=size, seed=seed))
    with psycopg.connect(server.database(template), autocommit=True) as connection:
        # Whatever those migrations wrote: statistics, and the visibility map for index-only scans.
        connection.execute("VACUUM (ANALYZE)")
    name = f"townsquare_bench_{size}_run"
    started = time.perf_counter()
    with server.connect() as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        # A file copy: fast, and it leaves the template untouched (and free of our writes).
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template)
        )
        for attempt in range(10):  # the template may still have a closing connection of upgrade()
            try:
                connection.execute(create)
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 9:
                    raise
                time.sleep(0.5)
    copy_seconds = time.perf_counter() - started
    prepared = Prepared(server.database(name), name, template, reused, load_seconds, copy_seconds, summary)
    prepared.facts = facts(prepared.url)
    return prepared


def drop(server: Server, name: str) -> None:
    with server.connect() as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def facts(url: str) -> dict[str, Any]:
    """Row counts, size, and the server's version and settings that matter to the figures."""
    with psycopg.connect(libpq_url(url)) as connection:
        counts = {table: _count(connection, table) for table in TABLES}
        one = connection.execute(
            "SELECT current_setting('server_version'), pg_database_size(current_database()),"
            " (SELECT version_num FROM alembic_version LIMIT 1)"
        ).fetchone()
        assert one is not None
        settings = {
            name: connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
            for name in SERVER_SETTINGS
        }
        following = connection.execute(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY following_count),"
            " percentile_disc(0.99) WITHIN GROUP (ORDER BY following_count), max(following_count),"
            " count(*) FILTER (WHERE following_count >= 2000) FROM user_account"
        ).fetchone()
        assert following is not None
    return {
        "rows": counts,
        "server_version": one[0],
        "database_mib": round(int(one[1]) / 2**20),
        "migration": one[2],
        "server_settings": settings,
        "following": {
            "median": following[0],
            "p99": following[1],
            "max": following[2],
            "users_following_2000_or_more": following[3],
        },
    }


def _count(connection: psycopg.Connection[Any], table: str) -> int:
    row = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def job_states(url: str) -> str:
    """The queue's unfinished jobs by state: a retry waiting out its back-off is `todo` too, so
    a slow worker and failing jobs look alike in a plain count."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT status, attempts > 0, scheduled_at > now(), count(*) FROM procrastinate_jobs"
            " WHERE status IN ('todo', 'doing', 'failed') AND NOT task_name = ANY(%s)"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            (HOUSEKEEPING,),
        ).fetchall()
    return ", ".join(
        f"{count} {status}" + (" after a failed attempt" if retried else "") + (" (not due yet)" if later else "")
        for status, retried, later, count in rows
    )


def wait_for_jobs(url: str, *, timeout: float) -> tuple[int, float]:
    """Wait until the job queue has nothing waiting or running but the worker's own housekeeping:
    how many are left (0 unless the timeout came first), and how long the wait took."""
    started = time.monotonic()
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        while True:
            row = connection.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND NOT task_name = ANY(%s)",
                (HOUSEKEEPING,),
            ).fetchone()
            left = int(row[0]) if row else 0
            waited = time.monotonic() - started
            if left == 0 or waited > timeout:
                return left, waited
            time.sleep(0.5)
