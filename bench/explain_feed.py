"""EXPLAIN ANALYZE of the feed query on a generated table of 1.2 million posts.

    .venv/bin/python bench/explain_feed.py postgresql://postgres@127.0.0.1:5432/ts_bench

The database is created if missing, migrated and filled once (10,000 users, 1.2 million
posts, one user following 100 accounts and one following 2,000), then the exact feed
statement the API runs is explained and timed for both users. The full benchmark suite
(`make bench`) is a later piece of work; this script only shows the feed's plan.
"""

from __future__ import annotations

import statistics
import sys
import time

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from townsquare.db.migrate import upgrade
from townsquare.feed.repository import _FEED, feed_params

FILL = """
INSERT INTO user_account (email, username, hashed_password)
SELECT 'u' || g || '@example.com', 'u' || g, 'not-a-hash' FROM generate_series(1, 10000) g;
CREATE TEMP TABLE idarr AS SELECT array_agg(id ORDER BY id) AS a FROM user_account;
INSERT INTO post (id, author_id, content)
SELECT ((g::bigint * 1000) << 16) | (g % 65536), (SELECT a FROM idarr)[1 + (g::bigint * 7919) % 10000],
       'post number ' || g
FROM generate_series(1, 1200000) g;
INSERT INTO follow (follower_id, followed_id) SELECT a[1], a[n] FROM idarr, generate_series(2, 101) n;
INSERT INTO follow (follower_id, followed_id) SELECT a[2], a[n] FROM idarr, generate_series(3, 2002) n;
ANALYZE;
"""


def main(url: str) -> None:
    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))
    upgrade(url)
    statement = _FEED  # psycopg's placeholders already (townsquare.db.hot)
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT count(*) FROM post").fetchone() == (0,):
            print("filling: 10,000 users, 1,200,000 posts ...", flush=True)
            conn.execute(FILL)
            conn.commit()
        viewers = conn.execute(
            "SELECT follower_id, count(*) FROM follow GROUP BY follower_id ORDER BY count(*)"
        ).fetchall()
        for viewer, follows in viewers:
            params = feed_params(viewer, before=None, limit=20)
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params).fetchall()
            print(f"\n=== feed page of 20 for a user following {follows} accounts ===")
            print("\n".join(row[0] for row in plan))
            samples = []
            for _ in range(30):
                start = time.perf_counter()
                conn.execute(statement, params).fetchall()
                samples.append((time.perf_counter() - start) * 1000)
            print(f"median of 30 runs, measured by the client: {statistics.median(samples):.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/ts_bench")
