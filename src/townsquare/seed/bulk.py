"""Benchmark data: `townsquare seed --size small|large`, millions of rows in a few minutes.

A preset fills an empty, migrated database with users, follows, posts, likes and comments, every
counter exact. Rows are made in Python, one seeded `random.Random` stream per table, and sent with
binary COPY while the server stores the previous chunk; keys and indexes are set aside during the
load and rebuilt once at the end (`fastload.py`), all in one transaction.

- **Shape.** Who gets followed follows a Zipf law over a random ranking of the accounts, so a few
  accounts are followed by most people (50k+ of 100k in `large`) and most by a handful; how many
  accounts someone follows is log-normal (tens to a few hundred), and one account in a thousand
  follows thousands. Posts are spread over the past `days`, more of them lately, written mostly by
  the active few; likes and comments go to posts in proportion to their author's followers times
  a log-normal luck, likers are drawn with a log-normal appetite, no one likes a post twice or
  their own. No notifications: the benchmarks do not need them (the demo seed makes them).
- **Time and ids.** Everyone joined before the window; every follow comes after both accounts
  joined, every like and comment after its post. Each row's id is made from its time exactly as
  `next_id()` makes ids (milliseconds since 2026-01-01 << 16 | 16 low bits), so the feed, which
  pages by id, shows the past in order. Every time is before `now`, the database's clock at the
  start, so whatever the app makes afterwards has a larger id and sorts newest. Ids are unique
  without remembering them: the low bits count rows within a block of 65,536 and a row's time
  is moved up by under `SPREAD` ms so that it identifies the block.
- **Determinism.** The same seed makes the same rows. Times count back from `now`, truncated to
  the minute: two loads with the same seed differ only by the minutes between them (all times
  and ids shifted alike); given the same `now_ms`, they are identical.
- **Logging in.** Every account has the password `BENCH_PASSWORD`, under one argon2id hash made
  once. A load driver that needs many users should not log them all in (argon2id is slow on
  purpose): it inserts `refresh_session` rows (user_id, expires_at) and mints access tokens for
  them with `TokenIssuer(settings.auth, settings.jwt_secret).issue(user_id=..., session_id=...)`.
"""

from __future__ import annotations

import bisect
import random
import statistics
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

import psycopg

from townsquare.auth.passwords import Passwords
from townsquare.config import AuthSettings
from townsquare.db.ids import ID_EPOCH_MS
from townsquare.db.urls import libpq_url
from townsquare.seed import words
from townsquare.seed.fastload import (
    COPY_HEADER,
    COPY_TRAILER,
    Connection,
    Progress,
    emptied_without_keys,
    text_field,
    timestamp,
)
from townsquare.seed.store import DatabaseNotEmpty

# Known on purpose: benchmark accounts only, and `townsquare seed` refuses production.
BENCH_PASSWORD = "townsquare-bench"  # noqa: S105

SECOND = 1000
DAY = 86_400 * SECOND
# Users joined over this long before the window of posts (never before the id epoch).
JOINED_OVER = 180 * DAY
# Zipf exponent of how often an account is followed (by its rank).
FOLLOW_SKEW = 1.0
# Log-normal sigma of how many accounts someone follows.
FOLLOWING_SIGMA = 1.0
# One account in this many follows 2,000..5,000 others (at most half the accounts).
HEAVY_FOLLOWER_EVERY = 1000
HEAVY_FOLLOWING = (2000, 5000)
# Block size of the low id bits; a row's time moves up by under SPREAD ms to name its block.
BLOCK = 65_536
SPREAD = 250
# Rows per COPY chunk.
CHUNK = 20_000


@dataclass(frozen=True)
class Preset:
    users: int
    follows: int
    posts: int
    likes: int
    comments: int
    # Blocks between accounts that do not follow each other, and mutes of followed accounts.
    blocks: int = 0
    mutes: int = 0
    days: int = 28


PRESETS = {
    # For tests and a quick look.
    "tiny": Preset(users=500, follows=25_000, posts=5_000, likes=10_000, comments=2_500, blocks=500, mutes=500),
    "small": Preset(
        users=10_000, follows=500_000, posts=100_000, likes=200_000, comments=50_000, blocks=10_000, mutes=10_000
    ),
    "large": Preset(
        users=100_000,
        follows=5_000_000,
        posts=1_000_000,
        likes=2_000_000,
        comments=500_000,
        blocks=100_000,
        mutes=100_000,
    ),
}


class BulkDatabaseNotEmpty(DatabaseNotEmpty):
    def __init__(self, users: int) -> None:
        Exception.__init__(
            self,
            f"the database already has {users} user(s); a benchmark preset loads an empty database only: "
            "point DATABASE_URL at a new one",
        )


@dataclass(frozen=True)
class TableLoad:
    table: str
    rows: int
    seconds: float


@dataclass(frozen=True)
class Spread:
    """How a per-user count is distributed."""

    median: float
    p99: int
    max: int

    @classmethod
    def of(cls, counts: list[int]) -> Spread:
        ordered = sorted(counts)
        return cls(statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))], ordered[-1])

    def __str__(self) -> str:
        return f"median {self.median:g}, p99 {self.p99:,}, max {self.max:,}"


@dataclass(frozen=True)
class BulkReport:
    size: str
    seed: int
    now_ms: int
    tables: tuple[TableLoad, ...]
    rebuild_seconds: float
    analyze_seconds: float
    seconds: float
    followers: Spread
    following: Spread
    database_bytes: int

    def rows(self, table: str) -> int:
        return next(load.rows for load in self.tables if load.table == table)

    def summary(self) -> str:
        lines = [f"Loaded preset {self.size!r} (--seed {self.seed}) in {self.seconds:.0f} s:"]
        lines += [
            f"  {load.table:<13}{load.rows:>11,} rows {load.seconds:7.1f} s {load.rows / load.seconds:>10,.0f} rows/s"
            for load in self.tables
        ]
        lines += [
            f"  keys and indexes rebuilt in {self.rebuild_seconds:.1f} s, VACUUM ANALYZE {self.analyze_seconds:.1f} s",
            f"  followers per user: {self.followers}",
            f"  following per user: {self.following}",
            f"  database size: {self.database_bytes / 2**20:,.0f} MiB",
            f"Every account's password is {BENCH_PASSWORD!r}.",
        ]
        return "\n".join(lines)


async def load(
    url: str,
    auth: AuthSettings,
    *,
    size: str = "small",
    seed: int = 1,
    now_ms: int | None = None,
    progress: Progress = lambda line: print(line, flush=True),
) -> BulkReport:
    """Fill the empty database at `url` with the preset `size`; refuse one that has users.

    Times count back from `now_ms` (default: the database's clock, truncated to the minute),
    which must not be in the database's future."""
    preset = PRESETS[size]
    started = time.perf_counter()
    shared_hash = await Passwords(auth).hash(BENCH_PASSWORD)
    async with await psycopg.AsyncConnection.connect(libpq_url(url)) as connection:
        async with connection.transaction():
            await _prepare(connection)
            clock = await _clock(connection)
            now = clock - clock % (60 * SECOND) if now_ms is None else now_ms
            if now > clock:
                raise ValueError("now_ms is in the database's future: new rows would sort before the loaded ones")
            progress(f"Loading preset {size!r} (--seed {seed}): {_describe(preset)}")
            world = BulkWorld(preset, seed, now)
            # post_term is filled by post's trigger as the posts arrive (migration 0006).
            tables = ("user_account", "follow", "post", "post_like", "comment", "post_term")
            async with emptied_without_keys(connection, tables, progress):
                loads = [
                    await _copy(connection, "follow", FOLLOW_COLUMNS, world.follows(), preset.follows, progress),
                    await _copy(connection, "post", POST_COLUMNS, world.posts(), preset.posts, progress),
                    await _copy(connection, "post_like", LIKE_COLUMNS, world.likes(), preset.likes, progress),
                    await _copy(connection, "comment", COMMENT_COLUMNS, world.comments(), preset.comments, progress),
                    # Last: the counters are known once every row that they count is made.
                    await _copy(
                        connection, "user_account", USER_COLUMNS, world.users(shared_hash), preset.users, progress
                    ),
                ]
                progress("Rebuilding keys, indexes and foreign keys (those over 0.5 s shown):")
                rebuilding = time.perf_counter()
            rebuild_seconds = time.perf_counter() - rebuilding
        await connection.set_autocommit(True)
        loads += await load_safety(connection, preset, seed, progress)
        analyzing = time.perf_counter()
        # Statistics for the planner, and the visibility map for index-only scans.
        await connection.execute(
            "VACUUM (ANALYZE) user_account, follow, post, post_like, comment, post_term, user_block, user_mute"
        )
        analyze_seconds = time.perf_counter() - analyzing
        row = await (await connection.execute("SELECT pg_database_size(current_database())")).fetchone()
    report = BulkReport(
        size=size,
        seed=seed,
        now_ms=now,
        tables=tuple(loads),
        rebuild_seconds=rebuild_seconds,
        analyze_seconds=analyze_seconds,
        seconds=time.perf_counter() - started,
        followers=Spread.of(world.followers),
        following=Spread.of(world.following),
        database_bytes=int(row[0]) if row else 0,
    )
    progress(report.summary())
    return report


def _describe(preset: Preset) -> str:
    return (
        f"{preset.users:,} users, {preset.follows:,} follows, {preset.posts:,} posts, "
        f"{preset.likes:,} likes, {preset.comments:,} comments over {preset.days} days, "
        f"{preset.blocks:,} blocks, {preset.mutes:,} mutes"
    )


# Blocks: random pairs (drawn by PostgreSQL's random(), seeded) of accounts with no follow
# between them either way, as a block leaves them. Three times the pairs wanted are drawn, for
# the ones that do follow (a tenth of all pairs in the tiny preset), pick themselves or repeat.
_BLOCKS = """
WITH ids AS (SELECT array_agg(id ORDER BY id) AS id, count(*)::int AS n FROM user_account),
pairs AS (
    SELECT ids.id[1 + floor(random() * ids.n)::int] AS blocker, ids.id[1 + floor(random() * ids.n)::int] AS blocked
    FROM ids, generate_series(1, %(draws)s)
)
INSERT INTO user_block (blocker_id, blocked_id)
SELECT blocker, blocked FROM (SELECT DISTINCT blocker, blocked FROM pairs WHERE blocker <> blocked) AS distinct_pairs
WHERE NOT EXISTS (SELECT FROM follow WHERE follower_id = blocker AND followed_id = blocked)
  AND NOT EXISTS (SELECT FROM follow WHERE follower_id = blocked AND followed_id = blocker)
ORDER BY blocker, blocked
LIMIT %(wanted)s
"""
# Mutes: of accounts the muter follows (what people mute), a sample of the follows; most also
# silence notifications, a fifth end in a week.
_MUTES = """
INSERT INTO user_mute (muter_id, muted_id, notifications, expires_at)
SELECT follower_id, followed_id, random() < 0.7, CASE WHEN random() < 0.2 THEN now() + interval '7 days' END
FROM follow TABLESAMPLE BERNOULLI (%(percent)s) REPEATABLE (%(seed)s)
LIMIT %(wanted)s
"""


async def load_safety(connection: Connection, preset: Preset, seed: int, progress: Progress) -> list[TableLoad]:
    """The preset's blocks and mutes, into a loaded database that has none (also one loaded
    before they were part of the presets); nothing if it has some."""
    found = await (
        await connection.execute("SELECT EXISTS (SELECT FROM user_block UNION ALL SELECT FROM user_mute)")
    ).fetchone()
    if found is None or found[0] or not (preset.blocks or preset.mutes):
        return []
    loads = []
    await connection.execute("SELECT setseed(%s)", (seed / (seed + 1),))
    for table, statement, params in (
        ("user_block", _BLOCKS, {"draws": preset.blocks * 3, "wanted": preset.blocks}),
        (
            "user_mute",
            _MUTES,
            {"percent": min(100, 105 * preset.mutes / preset.follows), "seed": seed, "wanted": preset.mutes},
        ),
    ):
        started = time.perf_counter()
        rows = (await connection.execute(statement, params)).rowcount
        loads.append(TableLoad(table, rows, time.perf_counter() - started))
        progress(f"  {table}: {rows:,} rows in {loads[-1].seconds:.1f} s")
    return loads


async def add_safety(url: str, *, size: str, seed: int, progress: Progress = print) -> list[TableLoad]:
    """`load_safety` for a database loaded by an earlier version (the benchmark's templates)."""
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as connection:
        return await load_safety(connection, PRESETS[size], seed, progress)


async def _prepare(connection: Connection) -> None:
    # Nobody registers meanwhile; the keys are dropped and rebuilt in this transaction anyway.
    await connection.execute(
        "LOCK TABLE user_account, follow, post, post_like, comment, post_term IN ACCESS EXCLUSIVE MODE"
    )
    row = await (await connection.execute("SELECT count(*) FROM user_account")).fetchone()
    if row and row[0]:
        raise BulkDatabaseNotEmpty(int(row[0]))
    # Index builds sort in memory, foreign keys are checked with hash joins; a long load is fine.
    await connection.execute("SET LOCAL maintenance_work_mem = '512MB'")
    await connection.execute("SET LOCAL work_mem = '256MB'")
    await connection.execute("SET LOCAL statement_timeout = 0")


async def _clock(connection: Connection) -> int:
    row = await (
        await connection.execute("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint")
    ).fetchone()
    assert row is not None
    return int(row[0])


async def _copy(
    connection: Connection,
    table: str,
    columns: str,
    chunks: Iterator[tuple[bytes, int]],
    expected: int,
    progress: Progress,
) -> TableLoad:
    started = last = time.perf_counter()
    rows = 0
    statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT binary, FREEZE)"
    async with connection.cursor().copy(statement) as copy:
        await copy.write(COPY_HEADER)
        for chunk, count in chunks:
            await copy.write(chunk)
            rows += count
            if time.perf_counter() - last > 5:
                last = time.perf_counter()
                rate = rows / (last - started)
                progress(f"  {table}: {rows:,} of about {expected:,} rows ({rate:,.0f} rows/s)")
        await copy.write(COPY_TRAILER)
    load = TableLoad(table, rows, time.perf_counter() - started)
    progress(f"  {table}: {rows:,} rows in {load.seconds:.1f} s ({rows / load.seconds:,.0f} rows/s)")
    return load


USER_COLUMNS = (
    "id, email, username, hashed_password, bio, created_at, updated_at, followers_count, following_count, posts_count"
)
FOLLOW_COLUMNS = "id, follower_id, followed_id, created_at"
POST_COLUMNS = "id, author_id, content, created_at, updated_at, like_count, comment_count"
LIKE_COLUMNS = "id, post_id, user_id, created_at"
COMMENT_COLUMNS = "id, post_id, author_id, content, created_at"


def _id_at(ms: int, row: int) -> tuple[int, int]:
    """The id of a table's `row`-th row at about `ms`, and the exact time it stands for.

    The low 16 bits count rows within a block of 65,536; the time moves up by under SPREAD ms
    to one that is congruent to the block's number. Two rows with the same time are then in
    the same block, where their low bits differ: unique without a set of every id."""
    ms += ((row // BLOCK) - ms) % SPREAD
    return ((ms - ID_EPOCH_MS) << 16) | (row % BLOCK), ms


def _pick_distinct(
    rng: random.Random, population: int, cumulative: list[float], wanted: int, exclude: int
) -> list[int]:
    """`wanted` distinct indexes below `population` but `exclude`, drawn by weight (by rejection).

    Rejection gets slow when `wanted` is a large part of the population: then they are uniform."""
    if wanted > population // 4:
        picked = rng.sample(range(population - 1), wanted)
        return [index + (index >= exclude) for index in picked]
    seen = {exclude}
    picked = []
    while len(picked) < wanted:
        for index in rng.choices(range(population), cum_weights=cumulative, k=(wanted - len(picked)) * 5 // 4 + 4):
            if index not in seen:
                seen.add(index)
                picked.append(index)
                if len(picked) == wanted:
                    break
    return picked


def _spread_total(rng: random.Random, weights: list[float], total: int, cap: int) -> list[int]:
    """Integers proportional to `weights`, each at most `cap`, summing to `total` (if it can)."""
    if total > cap * len(weights):
        raise ValueError(f"{total:,} cannot be spread over {len(weights):,} with at most {cap:,} each")
    scale = total / sum(weights)
    counts = [min(cap, max(0, round(weight * scale))) for weight in weights]
    difference = total - sum(counts)
    while difference:
        index = rng.randrange(len(counts))
        step = 1 if difference > 0 else -1
        if 0 <= counts[index] + step <= cap:
            counts[index] += step
            difference -= step
    return counts


def _draw_counts(rng: random.Random, cumulative: list[float], total: int, cap: int) -> list[int]:
    """How many of `total` draws by weight land on each index, each at most `cap` (the excess is redrawn)."""
    counts = [0] * len(cumulative)
    remaining = total
    for _ in range(20):
        if not remaining:
            break
        for index in rng.choices(range(len(cumulative)), cum_weights=cumulative, k=remaining):
            counts[index] += 1
        remaining = sum(count - cap for count in counts if count > cap)
        counts = [min(count, cap) for count in counts]
    return counts


class BulkWorld:
    """The rows of one preset and seed, made table by table as COPY asks for them."""

    def __init__(self, preset: Preset, seed: int, now: int) -> None:
        self.preset = preset
        self.seed = seed
        # Nothing in the last minute; users joined before the window of posts.
        self.end = now - 60 * SECOND
        self.window_start = now - preset.days * DAY
        joined_over = min(JOINED_OVER, self.window_start - ID_EPOCH_MS - DAY)
        if joined_over < DAY:
            raise ValueError(f"{preset.days} days of posts, and users before them, must fit after 2026-01-01")
        if max(preset.follows, preset.posts, preset.likes, preset.comments) > SPREAD * BLOCK:
            raise ValueError(f"at most {SPREAD * BLOCK:,} rows per table: ids would repeat")
        rng = self._random("users")
        n = preset.users
        joined = sorted(self.window_start - DAY - int(joined_over * rng.random()) for _ in range(n))
        self.user_ids = []
        self.joined = []
        for row, ms in enumerate(joined):
            user_id, at = _id_at(ms, row)
            self.user_ids.append(user_id)
            self.joined.append(at)
        # Popularity: a random ranking; rank r is followed in proportion to 1 / r**FOLLOW_SKEW.
        ranks = list(range(1, n + 1))
        rng.shuffle(ranks)
        self.popularity = list(accumulate(1 / rank**FOLLOW_SKEW for rank in ranks))
        # The most followed hundredth also posts more.
        self.activity = list(accumulate(rng.lognormvariate(0, 1.1) * (3 if rank <= n // 100 else 1) for rank in ranks))
        self.appetite = list(accumulate(rng.lognormvariate(0, 1.0) for _ in range(n)))
        self.followers = [0] * n
        self.following = [0] * n
        self.posts_count = [0] * n
        self.topics = [tuple(rng.sample(words.TOPICS, 1 + int(rng.random() * 3))) for _ in range(n)]
        self.city = [rng.choice(words.CITIES) for _ in range(n)]
        # Filled by posts(), for likes() and comments().
        self.post_ids: list[int] = []
        self.post_at: list[int] = []
        self.post_author: list[int] = []
        self.like_count: list[int] = []
        self.comment_count: list[int] = []

    def _random(self, table: str) -> random.Random:
        # One stream per table: changing how one table is made leaves the others as they were.
        return random.Random(f"{self.seed}:{table}")  # noqa: S311 - benchmark data, reproducible on purpose

    def _following_counts(self, rng: random.Random) -> list[int]:
        n = self.preset.users
        heavy = set(rng.sample(range(n), max(1, n // HEAVY_FOLLOWER_EVERY)))
        low, high = HEAVY_FOLLOWING
        counts = [0] * n
        for user in sorted(heavy):
            counts[user] = min(n // 2, low + int((high - low) * rng.random()))
        others = [user for user in range(n) if user not in heavy]
        typical = _spread_total(
            rng,
            [rng.lognormvariate(0, FOLLOWING_SIGMA) for _ in others],
            self.preset.follows - sum(counts),
            min(n // 4, low - 1),
        )
        for user, count in zip(others, typical, strict=True):
            counts[user] = count
        return counts

    def follows(self) -> Iterator[tuple[bytes, int]]:
        rng = self._random("follow")
        n = self.preset.users
        pack = FOLLOW_ROW.pack
        random_ = rng.random
        ids, joined, end = self.user_ids, self.joined, self.end
        out: list[bytes] = []
        row = 0
        for user, wanted in enumerate(self._following_counts(rng)):
            follower_id, follower_joined = ids[user], joined[user]
            for other in _pick_distinct(rng, n, self.popularity, wanted, user):
                since = max(follower_joined, joined[other])
                follow_id, at = _id_at(since + 1 + int((end - since - 1) * random_()), row)
                out.append(pack(4, 8, follow_id, 8, follower_id, 8, ids[other], 8, timestamp(at)))
                self.followers[other] += 1
                row += 1
            self.following[user] = wanted
            if len(out) >= CHUNK:
                yield b"".join(out), len(out)
                out.clear()
        yield b"".join(out), len(out)

    def posts(self) -> Iterator[tuple[bytes, int]]:
        rng = self._random("post")
        n, total = self.preset.users, self.preset.posts
        # More posts lately than weeks ago.
        span = self.end - self.window_start
        times = sorted(self.end - int(span * rng.random() ** 1.4) for _ in range(total))
        authors = rng.choices(range(n), cum_weights=self.activity, k=total)
        # Likes and comments follow the author's audience, and luck.
        cumulative = list(accumulate((self.followers[author] + 1) * rng.lognormvariate(0, 1.0) for author in authors))
        self.like_count = _draw_counts(rng, cumulative, self.preset.likes, n - 1)
        self.comment_count = _draw_counts(rng, cumulative, self.preset.comments, 10 * n)
        vocabulary = _vocabulary()
        rare = list(accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))
        head, tail = POST_HEAD.pack, POST_TAIL.pack
        out: list[bytes] = []
        for row, (ms, author) in enumerate(zip(times, authors, strict=True)):
            post_id, at = _id_at(ms, row)
            self.post_ids.append(post_id)
            self.post_at.append(at)
            self.post_author.append(author)
            self.posts_count[author] += 1
            content = _post_text(rng, self.topics[author], self.city[author])
            if rng.random() < 0.3:
                content += " #" + vocabulary[bisect.bisect(rare, rng.random() * rare[-1])]
            stamp = timestamp(at)
            out += (
                head(7, 8, post_id, 8, self.user_ids[author]),
                text_field(content),
                tail(8, stamp, 8, stamp, 4, self.like_count[row], 4, self.comment_count[row]),
            )
            if len(out) >= 3 * CHUNK:
                yield b"".join(out), len(out) // 3
                out.clear()
        yield b"".join(out), len(out) // 3

    def likes(self) -> Iterator[tuple[bytes, int]]:
        rng = self._random("post_like")
        n = self.preset.users
        pack = LIKE_ROW.pack
        random_ = rng.random
        ids, end = self.user_ids, self.end
        out: list[bytes] = []
        row = 0
        for post, count in enumerate(self.like_count):
            if not count:
                continue
            post_id, posted = self.post_ids[post], self.post_at[post]
            for liker in _pick_distinct(rng, n, self.appetite, count, self.post_author[post]):
                # Most likes come soon after the post.
                like_id, at = _id_at(posted + 1 + int((end - posted - 1) * random_() ** 3), row)
                out.append(pack(4, 8, like_id, 8, post_id, 8, ids[liker], 8, timestamp(at)))
                row += 1
            if len(out) >= CHUNK:
                yield b"".join(out), len(out)
                out.clear()
        yield b"".join(out), len(out)

    def comments(self) -> Iterator[tuple[bytes, int]]:
        rng = self._random("comment")
        n = self.preset.users
        head, tail = COMMENT_HEAD.pack, COMMENT_TAIL.pack
        random_ = rng.random
        ids, end = self.user_ids, self.end
        texts = [text_field(comment) for comment in words.COMMENTS]
        out: list[bytes] = []
        row = 0
        for post, count in enumerate(self.comment_count):
            if not count:
                continue
            post_id, posted, author = self.post_ids[post], self.post_at[post], self.post_author[post]
            commenters = rng.choices(range(n), cum_weights=self.appetite, k=count)
            for commenter in commenters:
                writer = author if random_() < 0.15 else commenter  # authors answer in their threads
                comment_id, at = _id_at(posted + 1 + int((end - posted - 1) * random_() ** 2), row)
                out += (head(5, 8, comment_id, 8, post_id, 8, ids[writer]), rng.choice(texts), tail(8, timestamp(at)))
                row += 1
            if len(out) >= 3 * CHUNK:
                yield b"".join(out), len(out) // 3
                out.clear()
        yield b"".join(out), len(out) // 3

    def users(self, hashed_password: str) -> Iterator[tuple[bytes, int]]:
        rng = self._random("user_account")
        password = text_field(hashed_password)
        counts = USER_COUNTS.pack
        out: list[bytes] = []
        for row, user_id in enumerate(self.user_ids):
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES + words.NOUNS)
            username = f"{first}_{last}{row}"
            bio = _bio(rng, self.topics[row], self.city[row]) if rng.random() < 0.9 else ""
            stamp = timestamp(self.joined[row])
            out += (
                USER_ID.pack(10, 8, user_id),
                text_field(f"{username}@example.com"),
                text_field(username),
                password,
                text_field(bio),
                counts(8, stamp, 8, stamp, 4, self.followers[row], 4, self.following[row], 4, self.posts_count[row]),
            )
            if len(out) >= 6 * CHUNK:
                yield b"".join(out), len(out) // 6
                out.clear()
        yield b"".join(out), len(out) // 6


# Binary COPY rows: the field count, then each field's length and value; text fields go between.
FOLLOW_ROW = LIKE_ROW = struct.Struct(">hiqiqiqiq")  # id, follower/post, followed/user, created_at
POST_HEAD = struct.Struct(">hiqiq")  # id, author_id; then content
POST_TAIL = struct.Struct(">iqiqiiii")  # created_at, updated_at, like_count, comment_count
COMMENT_HEAD = struct.Struct(">hiqiqiq")  # id, post_id, author_id; then content
COMMENT_TAIL = struct.Struct(">iq")  # created_at
USER_ID = struct.Struct(">hiq")  # id; then email, username, hashed_password, bio
USER_COUNTS = struct.Struct(">iqiqiiiiii")  # created_at, updated_at, followers, following, posts


def _vocabulary() -> list[str]:
    """Made-up words for rare hashtags (a few are common, most are rare), as explain_search has."""
    syllables = [consonant + vowel for consonant in "bdkmnprstv" for vowel in "aeiou"]
    made = [a + b + c for a in syllables for b in syllables for c in syllables if a != b]
    random.Random(0).shuffle(made)  # noqa: S311 - a fixed choice
    return made[:5000]


def _post_text(rng: random.Random, topics: tuple[words.Topic, ...], city: str) -> str:
    values = {
        "city": city if rng.random() < 0.7 else rng.choice(words.CITIES),
        "day": rng.choice(words.DAYS),
        "n": 2 + int(rng.random() * 41),
    }
    if rng.random() < 0.2:
        text = rng.choice(words.EVERYDAY_POSTS).format(**values)
    else:
        topic = rng.choice(topics)
        text = rng.choice(topic.posts).format(thing=rng.choice(topic.things), **values)
        if rng.random() < 0.3:
            text += f" #{topic.hashtag}"
    return text[:1].upper() + text[1:]


def _bio(rng: random.Random, topics: tuple[words.Topic, ...], city: str) -> str:
    interests = [topic.interest for topic in topics]
    interests += [topic.interest for topic in rng.sample(words.TOPICS, 6) if topic not in topics]
    a, b, c = interests[:3]
    return rng.choice(words.BIOS).format(role=rng.choice(words.ROLES), city=city, a=a, b=b, c=c)
