"""`townsquare seed`: a small world with exact counters, skewed popularity and a demo login."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import Account, login, make_account
from tests.fixtures.content import all_pages, post
from tests.fixtures.counters import assert_counters_match_rows, assert_post_counters_match_rows
from tests.fixtures.database import fresh_database
from tests.fixtures.processes import refusal
from townsquare.auth.passwords import Passwords
from townsquare.config import Settings
from townsquare.db.ids import ID_EPOCH_MS
from townsquare.db.urls import libpq_url
from townsquare.seed import DatabaseNotEmpty, SeedReport, seed

DEMO_PASSWORD = "demo password for tests"
TABLES = {
    "users": "user_account",
    "follows": "follow",
    "posts": "post",
    "likes": "post_like",
    "comments": "comment",
    "notifications": "notification",
}

# Each notification is what the worker would have made of a row that exists: right recipient,
# right target, the worker's dedupe key, the action's time, and never for acting on oneself.
_STRAY_NOTIFICATIONS = """
SELECT count(*) FROM notification n
WHERE n.actor_id = n.recipient_id OR NOT CASE n.type
    WHEN 'follow' THEN EXISTS (
        SELECT FROM follow f WHERE f.follower_id = n.actor_id AND f.followed_id = n.recipient_id
        AND f.created_at = n.created_at AND n.dedupe_key = 'follow:' || n.actor_id || ':' || n.recipient_id)
    WHEN 'like' THEN EXISTS (
        SELECT FROM post_like l JOIN post p ON p.id = l.post_id
        WHERE l.post_id = n.post_id AND l.user_id = n.actor_id AND p.author_id = n.recipient_id
        AND l.created_at = n.created_at AND n.dedupe_key = 'like:' || n.actor_id || ':' || n.post_id)
    WHEN 'comment' THEN EXISTS (
        SELECT FROM comment c JOIN post p ON p.id = c.post_id
        WHERE c.id = n.comment_id AND c.post_id = n.post_id AND c.author_id = n.actor_id
        AND p.author_id = n.recipient_id AND c.created_at = n.created_at AND n.dedupe_key = 'comment:' || c.id)
END
"""
_NOTIFIABLE_ACTIONS = """
SELECT (SELECT count(*) FROM follow)
     + (SELECT count(*) FROM post_like l JOIN post p ON p.id = l.post_id WHERE l.user_id <> p.author_id)
     + (SELECT count(*) FROM comment c JOIN post p ON p.id = c.post_id WHERE c.author_id <> p.author_id)
"""

# Rows whose id is not the one next_id() would have made at their created_at, or made later.
_ID_TIME_MISMATCHES = """
SELECT count(*) FROM (
    SELECT id, created_at FROM user_account UNION ALL SELECT id, created_at FROM follow
    UNION ALL SELECT id, created_at FROM post UNION ALL SELECT id, created_at FROM post_like
    UNION ALL SELECT id, created_at FROM comment UNION ALL SELECT id, created_at FROM notification
) AS every_row
WHERE (id >> 16) + :epoch <> floor(extract(epoch FROM created_at) * 1000)::bigint
   OR created_at > now() OR id >= (SELECT next_id())
"""


async def _seed(settings: Settings, url: str, **options: Any) -> SeedReport:
    arguments: dict[str, Any] = {"users": 40, "seed": 7, "demo_password": DEMO_PASSWORD, **options}
    return await seed(url, settings.auth, **arguments)


async def _scalar(app: FastAPI, query: str, **params: Any) -> Any:
    async with app.state.database.engine.connect() as connection:
        return (await connection.execute(text(query), params)).scalar_one()


async def _count(app: FastAPI, name: str) -> int:
    async with app.state.database.engine.connect() as connection:
        return int((await connection.execute(sa.select(sa.func.count()).select_from(sa.table(name)))).scalar_one())


async def _demo(client: AsyncClient, username: str = "demo") -> Account:
    tokens = await login(client, username, DEMO_PASSWORD)
    me = (await client.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    return Account(me["id"], username, me["email"], DEMO_PASSWORD, tokens["access_token"], tokens["refresh_token"])


async def test_seed_writes_what_it_reports_with_exact_counters_and_notifications(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    report = await _seed(settings, database_url)
    for field, table in TABLES.items():
        assert await _count(app, table) == getattr(report, field), table
    assert report.users == 40
    assert report.posts > 4 * report.users
    assert report.likes > report.posts
    assert report.comments > 0
    await assert_counters_match_rows(app)
    await assert_post_counters_match_rows(app)
    assert await _scalar(app, _STRAY_NOTIFICATIONS) == 0
    assert report.notifications == await _scalar(app, _NOTIFIABLE_ACTIONS)
    # Ids are time-ordered as next_id() makes them, from each row's time in the past.
    assert await _scalar(app, _ID_TIME_MISMATCHES, epoch=ID_EPOCH_MS) == 0
    # Posts are spread over the past weeks, not stamped all at once.
    days = await _scalar(app, "SELECT extract(epoch FROM max(created_at) - min(created_at)) / 86400 FROM post")
    assert days > 14


async def test_followers_and_likes_are_skewed_towards_a_few(
    app: FastAPI, settings: Settings, database_url: str
) -> None:
    await _seed(settings, database_url, users=120)
    async with app.state.database.engine.connect() as connection:
        followers = list((await connection.execute(text("SELECT followers_count FROM user_account"))).scalars())
        likes = sorted((await connection.execute(text("SELECT like_count FROM post"))).scalars(), reverse=True)
    assert max(followers) >= 4 * statistics.median(followers)
    assert max(followers) > 0.6 * len(followers)  # the star is followed by most people
    # The most liked tenth of the posts has at least half of all likes.
    assert sum(likes[: len(likes) // 10]) >= 0.5 * sum(likes)


def test_make_seed_passes_its_args_on() -> None:
    planned = subprocess.run(
        [shutil.which("make") or "make", "-n", "seed", "ARGS=--append --users 50"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "townsquare seed --append --users 50" in planned


async def test_the_demo_signs_in_to_the_web_client_and_sees_a_full_world(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str
) -> None:
    report = await _seed(settings, database_url)
    assert "http://127.0.0.1:8000" in report.summary()
    signed_in = await client.post(
        "/signin",
        data={"login": "demo", "password": DEMO_PASSWORD},
        headers={"Origin": "http://test", "Sec-Fetch-Site": "same-origin"},
    )
    assert signed_in.status_code == 303
    home = (await client.get("/")).text
    assert home.count('<article class="post"') == 20
    assert "Load more" in home
    assert re.search(r'<span class="n">[1-9][0-9+]*</span>', home)  # unread notifications on the badge
    notifications = (await client.get("/notifications")).text
    assert notifications.count('class="card unread"') >= 1


async def test_demo_logs_in_and_pages_through_a_full_feed(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str
) -> None:
    await _seed(settings, database_url)
    demo = await _demo(client)
    me = (await client.get("/users/me", headers=demo.headers)).json()
    assert me["following_count"] >= 20
    assert me["followers_count"] > 0
    first = (await client.get("/feed", headers=demo.headers)).json()
    assert len(first["items"]) == 20
    # Keyset paging over posts with past times: every post once, newest first.
    ids = await all_pages(client, "/feed", limit=7, headers=demo.headers)
    expected = await _scalar(
        app,
        "SELECT count(*) FROM post WHERE author_id = :me"
        " OR author_id IN (SELECT followed_id FROM follow WHERE follower_id = :me)",
        me=int(demo.id),
    )
    assert len(ids) == len(set(ids)) == expected
    assert ids == sorted(ids, key=int, reverse=True)
    async with app.state.database.engine.connect() as connection:
        times = (await connection.execute(text("SELECT id, created_at FROM post"))).all()
    created = {str(post_id): at for post_id, at in times}
    assert [created[post_id] for post_id in ids] == sorted((created[post_id] for post_id in ids), reverse=True)
    # What the demo posts now comes first.
    new = await post(client, demo, "my first post")
    assert (await client.get("/feed", headers=demo.headers)).json()["items"][0]["id"] == new["id"]
    notifications = (await client.get("/users/me/notifications", headers=demo.headers)).json()["items"]
    assert notifications
    assert {item["type"] for item in notifications} <= {"like", "comment", "follow"}
    assert (await client.get("/users/me/notifications/unread_count", headers=demo.headers)).json()["count"] > 0


async def test_a_database_with_users_is_refused_and_left_as_it_was(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str
) -> None:
    await make_account(client)
    with pytest.raises(DatabaseNotEmpty, match="already has 1 user") as refused:
        await _seed(settings, database_url)
    assert "make seed ARGS=--append" in str(refused.value)  # what to type instead
    for table in TABLES.values():
        expected = 1 if table == "user_account" else 0
        assert await _count(app, table) == expected


async def test_append_adds_a_world_beside_existing_users_and_changes_none_of_them(
    app: FastAPI, client: AsyncClient, settings: Settings, database_url: str
) -> None:
    existing = await make_account(client, "demo")
    before = await _scalar(app, "SELECT to_jsonb(u) FROM user_account u")
    report = await _seed(settings, database_url, append=True)
    assert report.demo_username == "demo2"
    assert await _scalar(app, "SELECT to_jsonb(u) FROM user_account u WHERE id = :id", id=int(existing.id)) == before
    assert await _count(app, "user_account") == 1 + report.users
    await assert_counters_match_rows(app)
    await assert_post_counters_match_rows(app)
    await _demo(client, "demo2")
    await login(client, "demo", existing.password)


async def test_the_same_seed_makes_the_same_world(server_url: str, settings: Settings) -> None:
    with fresh_database(server_url) as first, fresh_database(server_url) as second:
        a = await seed(first, settings.auth, users=30, seed=11)
        b = await seed(second, settings.auth, users=30, seed=11)
        world = _snapshot(first)
        assert world == _snapshot(second)
        assert world["users"]
        # ... but never the same password: it is not derived from the seed.
        assert a.demo_password != b.demo_password
    with fresh_database(server_url) as other:
        await seed(other, settings.auth, users=30, seed=12)
        assert _snapshot(other)["users"] != world["users"]


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The world without ids or absolute times (both depend on when it was seeded)."""
    queries = {
        "users": "SELECT username, email, bio, followers_count, following_count, posts_count FROM user_account",
        "follows": """SELECT a.username, b.username FROM follow
                      JOIN user_account a ON a.id = follower_id JOIN user_account b ON b.id = followed_id""",
        "posts": """SELECT rank() OVER (ORDER BY post.id), username, content, like_count, comment_count
                    FROM post JOIN user_account ON user_account.id = author_id""",
        "likes": """SELECT (SELECT count(*) FROM post older WHERE older.id <= post_id), username FROM post_like
                    JOIN user_account ON user_account.id = user_id""",
        "comments": """SELECT (SELECT count(*) FROM post older WHERE older.id <= post_id), username, content
                       FROM comment JOIN user_account ON user_account.id = author_id""",
        "notifications": """SELECT r.username, a.username, type, read FROM notification
                            JOIN user_account r ON r.id = recipient_id JOIN user_account a ON a.id = actor_id""",
    }
    with psycopg.connect(libpq_url(url)) as connection:
        return {name: sorted(connection.execute(query).fetchall()) for name, query in queries.items()}


def test_townsquare_seed_migrates_seeds_prints_a_working_login_and_refuses_a_second_run(
    server_url: str, settings: Settings
) -> None:
    with fresh_database(server_url, migrated=False) as url:
        env = {**os.environ, "DATABASE_URL": url}
        command = [sys.executable, "-m", "townsquare", "seed", "--users", "20", "--seed", "3"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert "Seeded 20 users" in result.stdout
        printed = re.search(r"username: (\S+)\n\s*password: (\S+)", result.stdout)
        assert printed is not None
        username, password = printed.groups()
        with psycopg.connect(libpq_url(url)) as connection:
            row = connection.execute(
                "SELECT hashed_password FROM user_account WHERE username = %s", (username,)
            ).fetchone()
        assert row is not None
        valid, _ = asyncio.run(Passwords(settings.auth).verify(password, row[0]))
        assert valid
        assert "already has 20 user(s)" in refusal("seed", env=env)


def test_seed_is_refused_in_production() -> None:
    env = {
        **os.environ,
        "TOWNSQUARE_ENVIRONMENT": "production",
        "TOWNSQUARE_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
    }
    assert "production" in refusal("seed", env=env)
