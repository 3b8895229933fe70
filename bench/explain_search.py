"""EXPLAIN ANALYZE of the search queries on 100,000 users and 1.2 million posts.

    .venv/bin/python bench/explain_search.py postgresql://postgres@127.0.0.1:5432/ts_search

The database is created if missing, migrated and filled once: 100,000 users with made-up
names and bios, and 1.2 million posts of 6..20 words drawn from a 5,000-word vocabulary with a
Zipf-like skew (a few words are in many posts, most in few), plus a handful of real English
sentences. Then the exact statements the API runs are explained and timed for a rare word, a
common word, a phrase with an exclusion, and for user searches (exact, prefix, typo, bio).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.config import DatabaseSettings
from townsquare.db.migrate import upgrade
from townsquare.db.session import Database
from townsquare.db.urls import libpq_url
from townsquare.search import repository

# Run one by one (autocommit). The posts' GIN index is built after the load, not row by row.
FILL = [
    """CREATE TEMP TABLE syllable AS SELECT unnest(ARRAY['ka','lo','mi','ne','ru','ta','vo','shi','pa',
       'den','mar','tel','qui','zo','bra','len','dor','fi','gu','han']) AS s""",
    """CREATE TEMP TABLE vocabulary AS
       SELECT row_number() OVER () AS n, word FROM (
         SELECT a.s || b.s || c.s AS word FROM syllable a, syllable b, syllable c
         ORDER BY md5(a.s || b.s || c.s) LIMIT 5000
       ) AS chosen""",
    "CREATE UNIQUE INDEX ON vocabulary (n)",
    """INSERT INTO user_account (email, username, hashed_password, bio)
       SELECT 'u' || g || '@example.com',
              (SELECT word FROM vocabulary WHERE n = 1 + (g * 7919) % 5000) || '_' || g,
              'not-a-hash',
              (SELECT string_agg(word, ' ') FROM vocabulary WHERE n IN (
                   SELECT 1 + floor(5000 * power(random(), 3))::int FROM generate_series(1, 3 + g % 5)))
       FROM generate_series(1, 100000) g""",
    "CREATE TEMP TABLE author AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM user_account",
    "CREATE UNIQUE INDEX ON author (n)",
    "DROP INDEX ix_post_search_vector",
    """INSERT INTO post (id, author_id, content)
       SELECT ((g::bigint * 1000) << 16) | (g % 65536),
              (SELECT id FROM author WHERE n = 1 + (g::bigint * 7919) % 100000),
              (SELECT string_agg(word, ' ') FROM (
                   SELECT word FROM vocabulary
                   JOIN (SELECT 1 + floor(5000 * power(random(), 3))::int AS n
                         FROM generate_series(1, 6 + g % 15)) AS pick USING (n)) AS words)
       FROM generate_series(1, 1200000) g""",
    """INSERT INTO post (author_id, content)
       SELECT (SELECT id FROM author WHERE n = 1), sentence FROM unnest(ARRAY[
           'I was running in the rain', 'run forest run', 'Runners run; a running run',
           'cold rain falls on the city', 'the cat sat on the mat']) AS sentence""",
    "CREATE INDEX ix_post_search_vector ON post USING gin (search_vector)",
    "VACUUM ANALYZE",
]


def ensure_filled(url: str) -> None:
    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(libpq_url(server), autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
    upgrade(url)
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        count = connection.execute("SELECT count(*) FROM post").fetchone()
        if count is not None and count[0] > 1_000_000:
            return
        print("filling: 100,000 users and 1.2 million posts (a few minutes) ...", flush=True)
        started = time.perf_counter()
        for statement in FILL:
            connection.execute(statement)
        print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)


async def explain(session: AsyncSession, label: str, statement: str, params: dict[str, object]) -> None:
    plan = (await session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + statement), params)).scalars().all()
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        await session.execute(text(statement), params)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"\n=== {label}: median {statistics.median(timings):.1f} ms over 15 runs (client-side)")
    print("\n".join(plan))


async def main(url: str) -> None:
    database = Database(url, DatabaseSettings(statement_timeout_ms=0))
    async with database.sessions() as session:
        stats = "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM post')"
        common = (await session.execute(text(f"{stats} ORDER BY ndoc DESC LIMIT 1"))).scalar_one()
        middling = (await session.execute(text(f"{stats} ORDER BY abs(ndoc - 12000) LIMIT 1"))).scalar_one()
        for label, q in [
            ("posts, a rare word", "running"),
            (f"posts, a word in about 1% of posts ({middling})", str(middling)),
            (f"posts, the most common word ({common})", str(common)),
            ("posts, a phrase and an exclusion", '"cold rain" -city'),
        ]:
            # The API's statement, its values written in (the planner sees the same constants).
            terms = await repository.prepare(session, q)
            statement = repository.posts_statement(len(terms or ()), viewer=False, paging=False)
            params = repository.posts_params(q, terms=terms, viewer_id=None, after=None, limit=21)
            compiled = statement.params(params).compile(
                dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
                compile_kwargs={"literal_binds": True},
            )
            await explain(session, label, str(compiled), {})
        pick = text("SELECT username FROM user_account ORDER BY id LIMIT 1 OFFSET 5000")
        name = (await session.execute(pick)).scalar_one()
        for label, q in [
            ("users, an exact username", name),
            ("users, a prefix", name[:4]),
            ("users, a typo", name[:2] + name[3] + name[2] + name[4:]),
            ("users, a bio word", str(common)),
        ]:
            await repository.prepare(session, q)  # as the service does: custom plans, typo threshold
            params = repository.users_params(q, viewer_id=None, after=None, limit=21)
            await explain(session, f"{label} ({q})", str(repository.USERS.text), params)
    await database.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    ensure_filled(sys.argv[1])
    asyncio.run(main(sys.argv[1]))
