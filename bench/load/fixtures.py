"""Who asks for what: the users, login sessions, access tokens, ids and search terms of a run.

Tokens are minted the way the API mints them (TokenIssuer with the server's secret) for login
sessions inserted directly: no password hashing per user. The sets are chosen from the data
with the run's seed, so two runs on the same preset ask the same questions.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from townsquare.auth.tokens import TokenIssuer
from townsquare.config import AuthSettings
from townsquare.db.urls import libpq_url

# The same users (and posts) in the API's load and in pgbench's scripts: pgbench takes at
# most 128 script files, one per user here.
PAGE_SET = 100
HEAVY_FOLLOWING = 2000
PEOPLE = 2000
SAMPLE_POSTS = 4000
# Access tokens must outlive the whole run (a large one takes the better part of an hour).
TOKEN_TTL = timedelta(hours=12)
STOPWORDS = frozenset(
    [
        "about",
        "after",
        "again",
        "also",
        "because",
        "been",
        "before",
        "being",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "just",
        "more",
        "most",
        "once",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "with",
        "would",
        "your",
        "yours",
    ]
)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    session_id: int
    token: str
    following: int


@dataclass
class Fixtures:
    typical: list[Viewer]
    typical_apps: list[Viewer]  # the typical users again, each with a Mastodon app's token
    heavy: list[Viewer]
    people: list[Viewer]
    post_page: list[tuple[Viewer, int]]
    authors: list[int]
    post_ids: list[int]
    contents: list[str]
    post_terms: list[str]
    user_terms: list[str]
    facts: dict[str, Any] = field(default_factory=dict)


class Minter:
    """Login sessions and access tokens for any user, as the API would give them."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.issuer = TokenIssuer(AuthSettings(access_token_ttl_seconds=int(TOKEN_TTL.total_seconds())), secret)

    def viewers(self, users: list[tuple[int, int]]) -> list[Viewer]:
        """One new login session and token for each (user id, following) given."""
        if not users:
            return []
        with psycopg.connect(libpq_url(self.url)) as connection:
            rows = connection.execute(
                "INSERT INTO refresh_session (user_id, expires_at)"
                " SELECT user_id, now() + %s FROM unnest(%s::bigint[]) WITH ORDINALITY AS given(user_id, n)"
                " ORDER BY n RETURNING id, user_id",
                (TOKEN_TTL, [user_id for user_id, _ in users]),
            ).fetchall()
        sessions = {int(user_id): int(session_id) for session_id, user_id in rows}
        return [
            Viewer(
                user_id, sessions[user_id], self.issuer.issue(user_id=user_id, session_id=sessions[user_id]), following
            )
            for user_id, following in users
        ]

    def app_tokens(self, viewers: list[Viewer]) -> list[Viewer]:
        """The same users and sessions with a Mastodon app's token each instead of the JWT
        (opaque, stored hashed, as `POST /oauth/token` gives them)."""
        if not viewers:
            return []
        tokens = [secrets.token_urlsafe(32) for _ in viewers]
        with psycopg.connect(libpq_url(self.url)) as connection:
            row = connection.execute(
                "INSERT INTO oauth_app (client_id, client_secret_hash, name, redirect_uris, scopes)"
                " VALUES (%s, %s, 'bench', ARRAY['urn:ietf:wg:oauth:2.0:oob'], ARRAY['read', 'write'])"
                " RETURNING id",
                (secrets.token_urlsafe(32), hashlib.sha256(secrets.token_bytes(32)).digest()),
            ).fetchone()
            assert row is not None
            connection.cursor().executemany(
                "INSERT INTO oauth_token (token_hash, app_id, session_id, scopes) VALUES (%s, %s, %s, ARRAY['read'])",
                [
                    (hashlib.sha256(token.encode()).digest(), row[0], viewer.session_id)
                    for token, viewer in zip(tokens, viewers, strict=True)
                ],
            )
        return [
            Viewer(viewer.user_id, viewer.session_id, token, viewer.following)
            for token, viewer in zip(tokens, viewers, strict=True)
        ]


def choose(url: str, minter: Minter, seed: int) -> Fixtures:
    rng = random.Random(seed)  # noqa: S311 - a benchmark's sample, not a secret
    with psycopg.connect(libpq_url(url)) as connection:
        users = [
            (int(user_id), int(following), str(username))
            for user_id, following, username in connection.execute(
                "SELECT id, following_count, username FROM user_account ORDER BY following_count, id"
            ).fetchall()
        ]
        total_posts = int(connection.execute("SELECT count(*) FROM post").fetchone()[0])  # type: ignore[index]
        percent = min(100.0, 100.0 * SAMPLE_POSTS * 1.2 / max(total_posts, 1))
        posts = connection.execute(
            "SELECT id, author_id, content FROM post TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s) ORDER BY id",
            (percent, seed),
        ).fetchall()[:SAMPLE_POSTS]
    if len(users) < PAGE_SET or not posts:
        raise RuntimeError("the benchmark database has too few users or posts")
    rng.shuffle(posts)
    middle = len(users) // 2
    typical = users[middle - PAGE_SET // 2 : middle + PAGE_SET // 2]
    heavy = [user for user in users if user[1] >= HEAVY_FOLLOWING]
    heavy = sorted(rng.sample(heavy, min(PAGE_SET, len(heavy))), key=lambda user: user[0])
    people = rng.sample(users, min(PEOPLE, len(users)))
    minted = {
        viewer.user_id: viewer
        for viewer in minter.viewers([(user_id, following) for user_id, following, _ in {*typical, *heavy, *people}])
    }
    people_viewers = [minted[user_id] for user_id, _, _ in people]
    words = [
        word
        for _, _, content in posts
        for word in re.findall(r"[a-z]{4,}", str(content).lower())
        if word not in STOPWORDS
    ]
    post_terms = [rng.choice(words) for _ in range(400)]
    # A fifth of the searches are two words (every word must match).
    post_terms += [f"{rng.choice(words)} {rng.choice(words)}" for _ in range(100)]
    rng.shuffle(post_terms)
    return Fixtures(
        typical=[minted[user_id] for user_id, _, _ in typical],
        typical_apps=minter.app_tokens([minted[user_id] for user_id, _, _ in typical]),
        heavy=[minted[user_id] for user_id, _, _ in heavy],
        people=people_viewers,
        post_page=[(people_viewers[index], int(posts[index][0])) for index in range(min(PAGE_SET, len(posts)))],
        authors=[int(author_id) for _, author_id, _ in posts],
        post_ids=[int(post_id) for post_id, _, _ in posts],
        contents=[str(content) for _, _, content in posts],
        post_terms=post_terms,
        user_terms=user_terms(rng, [username for _, _, username in people]),
        facts={
            "following_median": users[middle][1],
            "typical_following": [typical[0][1], typical[-1][1]],
            "heavy_users": len(heavy),
            "heavy_following": [min((u[1] for u in heavy), default=0), max((u[1] for u in heavy), default=0)],
            "people": len(people),
            "sampled_posts": len(posts),
        },
    )


def user_terms(rng: random.Random, usernames: list[str]) -> list[str]:
    """As people look for someone: a prefix of a name, a whole name, a name with a typo."""
    terms = []
    for index, username in enumerate(rng.sample(usernames, min(500, len(usernames)))):
        kind = index % 4
        if kind in (0, 1):
            terms.append(username[: rng.randint(3, 6)])
        elif kind == 2:
            terms.append(username)
        else:
            at = rng.randrange(1, max(len(username), 2))  # swaps letters at - 1 and at
            terms.append(username[: at - 1] + username[at] + username[at - 1] + username[at + 1 :])
    return terms


# -- data files for bench/wrk/rotate.lua -------------------------------------------------------


def line(
    method: str, path: str, viewer: Viewer | None, body: dict[str, Any] | None = None, *, cookie: bool = False
) -> str:
    """A line of a data file (rotate.lua); `cookie`: the token as the web client's cookie."""
    token = viewer.token if viewer else ""
    if cookie:
        token = f"cookie={token}"
    return "\t".join((method, path, token, json.dumps(body) if body is not None else ""))


def search_path(kind: str, term: str) -> str:
    return f"/search?type={kind}&q={urllib.parse.quote(term)}"


def requests_of(fixtures: Fixtures, seed: int) -> dict[str, list[str]]:
    """Every scenario's requests (GET notifications is added after the likes have made some)."""
    rng = random.Random(seed + 1)  # noqa: S311
    people = fixtures.people
    return {
        "feed-typical": [line("GET", "/feed", viewer) for viewer in fixtures.typical],
        "feed-heavy": [line("GET", "/feed", viewer) for viewer in fixtures.heavy],
        # The same users' home timeline through the Mastodon API, with app tokens.
        "mastodon-home": [line("GET", "/api/v1/timelines/home", viewer) for viewer in fixtures.typical_apps],
        # The web client's home page (the feed as HTML), the same users signed in with the cookie.
        "web-home": [line("GET", "/", viewer, cookie=True) for viewer in fixtures.typical_apps],
        "post": [line("GET", f"/posts/{post_id}", viewer) for viewer, post_id in fixtures.post_page],
        "user-posts": [
            line("GET", f"/users/{author}/posts", people[index % len(people)])
            for index, author in enumerate(fixtures.authors[:1000])
        ],
        "search-posts": [
            line("GET", search_path("posts", term), people[index % len(people)])
            for index, term in enumerate(fixtures.post_terms)
        ],
        "search-users": [
            line("GET", search_path("users", term), people[index % len(people)])
            for index, term in enumerate(fixtures.user_terms)
        ],
        "create-post": [
            line("POST", "/posts", people[index % len(people)], {"content": content})
            for index, content in enumerate(fixtures.contents[:2000])
        ],
        # Mostly pairs never seen before: a like that inserts, counts and queues a notification.
        "like": [
            line("POST", f"/posts/{rng.choice(fixtures.post_ids)}/likes", rng.choice(people)) for _ in range(30_000)
        ],
    }


def write(directory: Path, name: str, lines: list[str]) -> Path:
    path = directory / f"{name}.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def notification_readers(url: str, minter: Minter) -> tuple[list[Viewer], dict[str, Any]]:
    """Tokens of the users with the most notifications (the likes of the run made them)."""
    with psycopg.connect(libpq_url(url)) as connection:
        rows = connection.execute(
            "SELECT recipient_id, count(*) FROM notification GROUP BY recipient_id ORDER BY count(*) DESC, recipient_id"
            " LIMIT %s",
            (PAGE_SET,),
        ).fetchall()
    counts = sorted(int(count) for _, count in rows)
    facts = {"readers": len(rows), "notifications_median": counts[len(counts) // 2] if counts else 0}
    return minter.viewers([(int(user_id), 0) for user_id, _ in rows]), facts
