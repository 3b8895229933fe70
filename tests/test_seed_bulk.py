"""`townsquare seed --size`: benchmark presets, exact and reproducible, with their keys rebuilt."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from httpx import AsyncClient
from psycopg import sql
from sqlalchemy import text

from tests.fixtures.accounts import login, make_account
from tests.fixtures.content import all_pages
from tests.fixtures.counters import assert_counters_match_rows, assert_post_counters_match_rows
from tests.fixtures.database import fresh_database
from tests.fixtures.processes import refusal
from townsquare.cli import parser
from townsquare.config import Settings
from townsquare.db.ids import ID_EPOCH_MS
from townsquare.db.urls import libpq_url
from townsquare.seed import bulk

TINY = bulk.PRESETS["tiny"]
TABLES = {"user_account": TINY.users, "follow": TINY.follows, "post": TINY.posts}
TABLES |= {"post_like": TINY.likes, "comment": TINY.comments, "user_block": TINY.blocks, "user_mute": TINY.mutes}

# Every key, index and foreign key, as the catalog describes it.
_SCHEMA = """
SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1
"""
# Rows whose id is not the one next_id() would have made at their created_at, or made later.
_ID_TIME_MISMATCHES = """
SELECT count(*) FROM (
    SELECT id, created_at FROM user_account UNION ALL SELECT id, created_at FROM follow
    UNION ALL SELECT id, created_at FROM post UNION ALL SELECT id, created_at FROM post_like
    UNION ALL SELECT id, created_at FROM comment
) AS every_row
WHERE (id >> 16) + :epoch <> floor(extract(epoch FROM created_at) * 1000)::bigint
   OR created_at > now() OR id >= (SELECT next_id())
"""
# Actions before what they act on: a follow before either account, a like or comment before its post.
_OUT_OF_ORDER = """
SELECT (SELECT count(*) FROM follow f JOIN user_account a ON a.id = f.follower_id
        JOIN user_account b ON b.id = f.followed_id WHERE f.created_at <= greatest(a.created_at, b.created_at))
     + (SELECT count(*) FROM post_like l JOIN post p ON p.id = l.post_id WHERE l.created_at <= p.created_at)
     + (SELECT count(*) FROM comment c JOIN post p ON p.id = c.post_id WHERE c.created_at <= p.created_at)
     + (SELECT count(*) FROM post p JOIN user_account u ON u.id = p.author_id WHERE p.created_at <= u.created_at)
"""
# A fingerprint of each table: every column but the (salted) password hash, in id order.
_FINGERPRINTS = {
    "user_account": "id, email, username, bio, created_at, followers_count, following_count, posts_count",
    "follow": "id, follower_id, followed_id, created_at",
    "post": "id, author_id, content, created_at, like_count, comment_count",
    "post_like": "id, post_id, user_id, created_at",
    "comment": "id, post_id, author_id, content, created_at",
    "user_block": "blocker_id, blocked_id",
    "user_mute": "muter_id, muted_id, notifications",
}


def _quiet(line: str) -> None:
    pass


async def _load(settings: Settings, url: str, **options: Any) -> bulk.BulkReport:
    return await bulk.load(url, settings.auth, **{"size": "tiny", "progress": _quiet, **options})


async def _scalar(app: FastAPI, query: str, **params: Any) -> Any:
    async with app.state.database.engine.connect() as connection:
        return (await connection.execute(text(query), params)).scalar_one()


async def _column(app: FastAPI, query: str, **params: Any) -> list[Any]:
    async with app.state.database.engine.connect() as connection:
        return list((await connection.execute(text(query), params)).scalars())


def _fingerprint(url: str) -> dict[str, str]:
    with psycopg.connect(libpq_url(url)) as connection:
        fingerprints = {}
        for table, columns in _FINGERPRINTS.items():
            query = sql.SQL("SELECT md5(string_agg(({})::text, ',' ORDER BY id)) FROM {}").format(
                sql.SQL(", ").join(map(sql.Identifier, columns.split(", "))), sql.Identifier(table)
            )
            row = connection.execute(query)
            fingerprints[table] = str(row.fetchone())
        return fingerprints


async def test_a_preset_loads_exactly_its_rows_with_exact_counters_and_every_key_back(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    schema = await _column(app, _SCHEMA)
    report = await _load(settings, database_url)
    for table, rows in TABLES.items():
        assert report.rows(table) == rows, table
        async with app.state.database.engine.connect() as connection:
            count = sa.select(sa.func.count()).select_from(sa.table(table))
            assert (await connection.execute(count)).scalar_one() == rows, table
    await assert_counters_match_rows(app)
    await assert_post_counters_match_rows(app)
    # Keys, unique constraints, indexes and foreign keys were set aside and are back as they were,
    # so there are no duplicate follows or likes, no dangling references, no self-follows.
    assert await _column(app, _SCHEMA) == schema
    assert (
        await _scalar(app, "SELECT count(*) FROM post_like l JOIN post p ON p.id = post_id WHERE user_id = author_id")
        == 0
    )
    # Blocks stand between accounts with no follow between them; mutes are of followed accounts.
    follow_across_a_block = """
        SELECT count(*) FROM user_block b JOIN follow f
        ON (f.follower_id, f.followed_id) IN ((b.blocker_id, b.blocked_id), (b.blocked_id, b.blocker_id))"""
    assert await _scalar(app, follow_across_a_block) == 0
    unfollowed_mutes = """SELECT count(*) FROM user_mute m WHERE NOT EXISTS
        (SELECT FROM follow WHERE follower_id = m.muter_id AND followed_id = m.muted_id)"""
    assert await _scalar(app, unfollowed_mutes) == 0
    # The planner has statistics.
    assert await _scalar(app, "SELECT count(*) FROM pg_stats WHERE tablename = 'follow'") > 0
    assert await _scalar(app, "SELECT count(*) FROM pg_stats WHERE tablename = 'user_mute'") > 0


async def test_ids_are_made_from_past_times_as_next_id_makes_them(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    await _load(settings, database_url)
    assert await _scalar(app, _ID_TIME_MISMATCHES, epoch=ID_EPOCH_MS) == 0
    assert await _scalar(app, _OUT_OF_ORDER) == 0
    days = await _scalar(app, "SELECT extract(epoch FROM max(created_at) - min(created_at)) / 86400 FROM post")
    assert days > 0.9 * TINY.days


async def test_followers_are_heavy_tailed_and_following_is_spread(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    report = await _load(settings, database_url)
    followers = await _column(app, "SELECT followers_count FROM user_account")
    following = await _column(app, "SELECT following_count FROM user_account")
    assert report.followers.max == max(followers)
    assert report.following.max == max(following)
    assert max(followers) >= 10 * statistics.median(followers)
    assert max(followers) > TINY.users // 2  # a star followed by most people
    assert max(following) >= 4 * statistics.median(following)  # and someone following a great many
    assert statistics.median(following) >= 10
    # Likes go mostly to a few posts.
    likes = sorted(await _column(app, "SELECT like_count FROM post"), reverse=True)
    assert sum(likes[: len(likes) // 10]) >= 0.5 * sum(likes)


async def test_the_bench_password_logs_in_and_the_feed_pages_through_everything_newest_first(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str
) -> None:
    await _load(settings, database_url)
    username, user_id = (
        await _column(
            app,
            "SELECT array[username, id::text] FROM user_account ORDER BY abs(following_count - 40), id LIMIT 1",
        )
    )[0]
    tokens = await login(client, username, bulk.BENCH_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    ids = await all_pages(client, "/feed", limit=100, headers=headers)
    expected = await _column(
        app,
        "SELECT id::text FROM post WHERE author_id = :me"
        " OR author_id IN (SELECT followed_id FROM follow WHERE follower_id = :me) ORDER BY id DESC",
        me=int(user_id),
    )
    assert len(expected) > 100
    assert ids == expected
    # What they post now comes first: every loaded id is below what next_id() makes.
    new = await client.post("/posts", headers=headers, json={"content": "fresh off the press"})
    assert (await client.get("/feed", headers=headers)).json()["items"][0]["id"] == new.json()["id"]


async def test_a_load_driver_can_mint_access_tokens_instead_of_logging_in(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str
) -> None:
    await _load(settings, database_url)
    user_id = await _scalar(app, "SELECT id FROM user_account ORDER BY id LIMIT 1 OFFSET 7")
    async with app.state.database.engine.begin() as connection:
        insert = text("INSERT INTO refresh_session (user_id, expires_at) VALUES (:user, :expires) RETURNING id")
        expires = datetime.now(UTC) + timedelta(hours=1)
        session_id = (await connection.execute(insert, {"user": user_id, "expires": expires})).scalar_one()
    token = app.state.tokens.issue(user_id=user_id, session_id=session_id)
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(user_id)


async def test_a_database_with_users_is_refused_and_left_as_it_was(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str
) -> None:
    await make_account(client)
    schema = await _column(app, _SCHEMA)
    with pytest.raises(bulk.BulkDatabaseNotEmpty, match="already has 1 user"):
        await _load(settings, database_url)
    assert await _scalar(app, "SELECT count(*) FROM user_account") == 1
    assert await _column(app, _SCHEMA) == schema


async def test_the_same_seed_makes_the_same_rows(server_url: str, settings: Settings) -> None:
    minute = 60_000
    now = int(time.time() * 1000) // minute * minute - minute
    with fresh_database(server_url) as first, fresh_database(server_url) as second:
        await _load(settings, first, seed=5, now_ms=now)
        await _load(settings, second, seed=5, now_ms=now)
        fingerprint = _fingerprint(first)
        assert fingerprint == _fingerprint(second)
    with fresh_database(server_url) as other:
        await _load(settings, other, seed=6, now_ms=now)
        different = _fingerprint(other)
    assert all(different[table] != fingerprint[table] for table in _FINGERPRINTS)


def test_townsquare_seed_size_migrates_loads_and_refuses_a_second_run(server_url: str) -> None:
    with fresh_database(server_url, migrated=False) as url:
        env = {**os.environ, "DATABASE_URL": url}
        command = [sys.executable, "-m", "townsquare", "seed", "--size", "tiny", "--seed", "3"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert "Loaded preset 'tiny' (--seed 3)" in result.stdout
        assert "follow: 25,000 rows" in result.stdout
        assert "already has 500 user(s)" in refusal("seed", "--size", "tiny", env=env)


def test_the_cli_offers_the_presets() -> None:
    for size in bulk.PRESETS:
        assert parser().parse_args(["seed", "--size", size]).size == size
    with pytest.raises(SystemExit):
        parser().parse_args(["seed", "--size", "huge"])
