"""EXPLAIN ANALYZE of the hot reads with the visibility rule, on a loaded benchmark database.

    .venv/bin/python bench/explain_visibility.py postgresql://postgres@127.0.0.1:5432/townsquare_bench_large_run

Run it on a database `make bench` loaded (`--keep-database` keeps the run's copy): the preset's
100,000 blocks and 100,000 mutes are there. The viewer is the typical user (following about the
median number of accounts) with the most mutes of accounts they follow, plus a block made here
for the feed and post page to have one; the statements are the ones the app itself runs for
`GET /feed`, `GET /posts/{id}` and `GET /search` (captured at its engine, as the benchmark's
pgbench scripts are), explained with their real parameters. What to look for: the rule's
subqueries as `hashed SubPlan`s (run once each), and index or index-only scans under them.
"""

from __future__ import annotations

import secrets
import statistics
import sys
import time

import psycopg
from load.fixtures import Minter
from load.statements import capture

from townsquare.db.urls import libpq_url

VIEWER = """
SELECT m.muter_id, count(*) AS mutes FROM user_mute m
JOIN user_account u ON u.id = m.muter_id
WHERE u.following_count BETWEEN 30 AND 80
GROUP BY m.muter_id ORDER BY count(*) DESC, m.muter_id LIMIT 1
"""


def main(url: str) -> None:
    secret = secrets.token_urlsafe(48)
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        found = connection.execute(VIEWER).fetchone()
        assert found is not None, "no mutes here: load a preset with `make bench` first"
        viewer_id, mutes = int(found[0]), int(found[1])
        # A post of someone the viewer follows, and a block of one more account.
        post_row = connection.execute(
            "SELECT p.id FROM post p JOIN follow f ON f.followed_id = p.author_id WHERE f.follower_id = %s"
            " ORDER BY p.id DESC LIMIT 1",
            (viewer_id,),
        ).fetchone()
        assert post_row is not None
        connection.execute(
            "INSERT INTO user_block (blocker_id, blocked_id)"
            " SELECT %s, id FROM user_account WHERE id <> %s AND id NOT IN"
            " (SELECT followed_id FROM follow WHERE follower_id = %s) ORDER BY id LIMIT 1 ON CONFLICT DO NOTHING",
            (viewer_id, viewer_id, viewer_id),
        )
        facts = connection.execute(
            "SELECT (SELECT count(*) FROM user_block), (SELECT count(*) FROM user_mute),"
            " (SELECT count(*) FROM user_block WHERE blocker_id = %(v)s OR blocked_id = %(v)s),"
            " (SELECT following_count FROM user_account WHERE id = %(v)s)",
            {"v": viewer_id},
        ).fetchone()
        assert facts is not None
    print(f"blocks {facts[0]:,}, mutes {facts[1]:,}; viewer {viewer_id}: following {facts[3]}, ", end="")
    print(f"{mutes} of them muted, {facts[2]} block(s) either way")
    (viewer,) = Minter(url, secret).viewers([(viewer_id, 0)])
    pages = {
        "feed": "/feed?limit=20",
        "post page": f"/posts/{post_row[0]}",
        "search posts": "/search?type=posts&q=coffee",
        "search users": "/search?type=users&q=ann",
    }
    captured = capture(url, secret, {name: [(path, viewer.token)] for name, path in pages.items()})
    with psycopg.connect(libpq_url(url)) as connection:
        for name, path in pages.items():
            (statements,) = captured[name]
            page = max(statements, key=lambda captured: len(captured.statement))  # not the session check
            with connection.transaction(force_rollback=True):
                for before in statements[: statements.index(page)]:  # the search's settings, in its transaction
                    connection.execute(before.statement, before.parameters)
                plan = connection.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + page.statement, page.parameters)
                print(f"\n=== {name}: GET {path} ===")
                print("\n".join(row[0] for row in plan.fetchall()))
                samples = []
                for _ in range(30):
                    started = time.perf_counter()
                    connection.execute(page.statement, page.parameters).fetchall()
                    samples.append((time.perf_counter() - started) * 1000)
            print(f"median of 30 runs, measured by the client: {statistics.median(samples):.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
