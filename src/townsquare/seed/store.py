"""Writing the demo world: one transaction, COPY per table, counters exact from the start."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from townsquare.auth.passwords import Passwords
from townsquare.config import AuthSettings
from townsquare.db.urls import libpq_url
from townsquare.seed import world as demo_world
from townsquare.seed.world import World, moment


class DatabaseNotEmpty(Exception):
    def __init__(self, users: int) -> None:
        super().__init__(
            f"the database already has {users} user(s); seeding is for an empty database. "
            "Add the demo world beside them with --append (`make seed ARGS=--append`; existing rows "
            "are never changed), "
            "or point DATABASE_URL at a new database"
        )


@dataclass(frozen=True)
class SeedReport:
    users: int
    follows: int
    posts: int
    likes: int
    comments: int
    notifications: int
    demo_username: str
    demo_password: str
    seed: int
    seconds: float

    def summary(self) -> str:
        return (
            f"Seeded {self.users:,} users, {self.follows:,} follows, {self.posts:,} posts, {self.likes:,} likes, "
            f"{self.comments:,} comments and {self.notifications:,} notifications "
            f"in {self.seconds:.1f} s (--seed {self.seed}).\n"
            "Sign in as the demo account at http://127.0.0.1:8000 (the web client; or POST /auth/login,\n"
            "or Authorize in /docs):\n"
            f"  username: {self.demo_username}\n"
            f"  password: {self.demo_password}\n"
            "The other accounts have a random password nobody knows."
        )


async def seed(
    url: str,
    auth: AuthSettings,
    *,
    users: int = 200,
    seed: int = 1,
    days: int = 28,
    demo_password: str | None = None,
    append: bool = False,
) -> SeedReport:
    """Write a demo world of `users` accounts; refuse a database with users unless `append`.

    The demo password is random unless given: never derived from `seed`, never a constant.
    Passwords are hashed twice in all: the demo's, and one unknown password whose hash every
    other account shares (argon2id costs tens of ms each; nobody logs in as them)."""
    started = time.perf_counter()
    demo_password = demo_password or secrets.token_urlsafe(12)
    passwords = Passwords(auth)
    demo_hash, shared_hash = await asyncio.gather(
        passwords.hash(demo_password), passwords.hash(secrets.token_urlsafe(32))
    )
    async with await psycopg.AsyncConnection.connect(libpq_url(url)) as connection:
        async with connection.transaction():
            # Registrations wait until the seed commits; reads and likes go on meanwhile.
            await connection.execute("LOCK TABLE user_account IN SHARE ROW EXCLUSIVE MODE")
            taken = await _taken_names(connection, append=append)
            now_ms, sequence = await _clock(connection)
            made = demo_world.build(
                users=users,
                seed=seed,
                now_ms=now_ms,
                days=days,
                ids=demo_world.IdMaker(sequence),
                taken=taken.__contains__,
            )
            await _write(connection, made, demo_hash=demo_hash, shared_hash=shared_hash)
        # Fresh statistics: the planner should not take the new tables for empty ones.
        await connection.execute("ANALYZE user_account, follow, post, post_like, comment, notification")
    return SeedReport(
        users=len(made.users),
        follows=len(made.follows),
        posts=len(made.posts),
        likes=len(made.likes),
        comments=len(made.comments),
        notifications=len(made.notifications),
        demo_username=made.demo.username,
        demo_password=demo_password,
        seed=seed,
        seconds=time.perf_counter() - started,
    )


async def _taken_names(connection: psycopg.AsyncConnection[TupleRow], *, append: bool) -> set[str]:
    """Lower-case usernames, and the local parts of @example.com emails, already in use."""
    row = await (await connection.execute("SELECT count(*) FROM user_account")).fetchone()
    existing = int(row[0]) if row else 0
    if existing and not append:
        raise DatabaseNotEmpty(existing)
    if not existing:
        return set()
    cursor = await connection.execute(
        """
        SELECT lower(username) FROM user_account
        UNION
        SELECT split_part(lower(email), '@', 1) FROM user_account WHERE lower(email) LIKE '%@example.com'
        """
    )
    return {name for (name,) in await cursor.fetchall()}


async def _clock(connection: psycopg.AsyncConnection[TupleRow]) -> tuple[int, int]:
    """The database's time (ids must never be ahead of next_id()) and a start in its id sequence."""
    cursor = await connection.execute(
        "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint, nextval('id_sequence')"
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def _write(
    connection: psycopg.AsyncConnection[TupleRow], made: World, *, demo_hash: str, shared_hash: str
) -> None:
    cursor = connection.cursor()
    users = (
        "user_account (id, email, username, hashed_password, bio, created_at, updated_at,"
        " followers_count, following_count, posts_count)"
    )
    async with cursor.copy(f"COPY {users} FROM STDIN") as copy:
        for user in made.users:
            hashed = demo_hash if user is made.demo else shared_hash
            at = moment(user.at)
            row = (user.id, user.email, user.username, hashed, user.bio, at, at)
            await copy.write_row((*row, user.followers_count, user.following_count, user.posts_count))
    async with cursor.copy("COPY follow (id, follower_id, followed_id, created_at) FROM STDIN") as copy:
        for follow in made.follows:
            await copy.write_row((follow.id, follow.follower.id, follow.followed.id, moment(follow.at)))
    posts = "post (id, author_id, content, created_at, updated_at, like_count, comment_count)"
    async with cursor.copy(f"COPY {posts} FROM STDIN") as copy:
        for post in made.posts:
            at = moment(post.at)
            await copy.write_row((post.id, post.author.id, post.content, at, at, post.like_count, post.comment_count))
    async with cursor.copy("COPY post_like (id, post_id, user_id, created_at) FROM STDIN") as copy:
        for like in made.likes:
            await copy.write_row((like.id, like.post.id, like.user.id, moment(like.at)))
    async with cursor.copy("COPY comment (id, post_id, author_id, content, created_at) FROM STDIN") as copy:
        for comment in made.comments:
            await copy.write_row((comment.id, comment.post.id, comment.author.id, comment.content, moment(comment.at)))
    notifications = "notification (id, recipient_id, actor_id, type, post_id, comment_id, dedupe_key, read, created_at)"
    async with cursor.copy(f"COPY {notifications} FROM STDIN") as copy:
        for note in made.notifications:
            post_id = note.post.id if note.post else None
            comment_id = note.comment.id if note.comment else None
            people = (note.id, note.recipient.id, note.actor.id, note.type, post_id, comment_id)
            await copy.write_row((*people, note.dedupe_key, note.read, moment(note.at)))
