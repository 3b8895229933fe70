"""The home feed query: fan-out on read."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare import visibility
from townsquare.auth import gate
from townsquare.db.base import AnyRow
from townsquare.db.hot import HotReads, statement
from townsquare.db.ids import MAX_ID
from townsquare.posts.repository import AUTHOR_COLUMNS, PostRow

# Someone who follows this many accounts gets their page from a walk over everyone's newest
# posts (at most WALK of them), which is cheaper than visiting each account's posts...
WALK_FROM_FOLLOWING = 1_000
WALK = 5_000

# A page is found one of two ways, in one statement.
#
# Most people: for each followed account (and the viewer), the ids of its newest posts below
# the cursor, straight from the (author_id, id DESC) index without touching the table (an
# index-only scan), at most one page each; then the newest page of those ids. Reading whole rows
# for every candidate instead costs a user following 2,000 accounts about 19,000 row reads
# instead of 21 (6x the time).
#
# People following WALK_FROM_FOLLOWING accounts or more: that is still one index visit per
# account (2,000+). Their follows wrote a few percent of all posts (at least 1.4% in the
# benchmark's data), so walking everyone's newest posts below the cursor, newest first, and
# keeping those of followed authors fills a page within a few hundred to a couple of thousand
# posts (about 1 ms instead of 15). The walk stops at WALK posts; a page it did not fill then
# comes from the first way, so a page is the same whichever way found it.
#
# Only the page's rows are then read, with their authors' names and the viewer's likes.
# The columns are those of posts.repository.view, in its order (posts.schemas.post_json).
# The rows of the page's posts, with their authors' names and the viewer's likes (and, for
# `author`, the authors' profiles).
_PAGE_ROWS = """SELECT post.id, post.author_id, user_account.username, post.content, post.created_at, post.updated_at,
       post.like_count, post.comment_count,
       EXISTS (SELECT FROM post_like WHERE post_like.post_id = post.id AND post_like.user_id = :viewer)
           AS liked_by_me{author}
FROM page
JOIN post ON post.id = page.id
JOIN user_account ON user_account.id = post.author_id
"""
_FEED_SQL = """
WITH walked AS (
    SELECT recent.id
    FROM (
        SELECT post.id, post.author_id FROM post WHERE post.id < :before{after} ORDER BY post.id DESC LIMIT :walk
    ) AS recent
    WHERE (SELECT following_count FROM user_account WHERE id = :viewer) >= :walk_from
      AND (recent.author_id = :viewer
           OR EXISTS (SELECT FROM follow WHERE follower_id = :viewer AND followed_id = recent.author_id)
              AND NOT {hidden_recent} AND NOT {muted_recent})
    ORDER BY recent.id DESC
    LIMIT :rows
), page AS (
    SELECT id FROM walked WHERE (SELECT count(*) FROM walked) = :rows
    UNION ALL (
        SELECT newest.id
        FROM (
            SELECT followed_id AS author_id FROM follow
            WHERE follower_id = :viewer AND NOT {hidden_followed} AND NOT {muted_followed}
            UNION ALL
            SELECT CAST(:viewer AS bigint)
        ) AS authors
        CROSS JOIN LATERAL (
            SELECT post.id FROM post
            WHERE post.author_id = authors.author_id AND post.id < :before{after}
            ORDER BY post.id DESC
            LIMIT :rows
        ) AS newest
        WHERE (SELECT count(*) FROM walked) < :rows
        ORDER BY newest.id DESC
        LIMIT :rows
    )
)
{page_rows}{gate}ORDER BY post.id DESC
"""
# townsquare.visibility: followed accounts hidden from or muted by the viewer give no posts.
_VISIBLE = {
    "hidden_recent": visibility.hidden_sql("recent.author_id"),
    "muted_recent": visibility.muted_sql("recent.author_id"),
    "hidden_followed": visibility.hidden_sql("followed_id"),
    "muted_followed": visibility.muted_sql("followed_id"),
}
# A hot read (townsquare.db.hot); gated on the token's session (auth.gate) for the API, whose
# request checks it in this statement, or not for the web client, which checked its cookie.
_FEED = statement(_FEED_SQL.format(after="", page_rows=_PAGE_ROWS.format(author=""), gate="", **_VISIBLE))
_FEED_GATED = statement(
    _FEED_SQL.format(after="", page_rows=_PAGE_ROWS.format(author=""), gate=f"WHERE {gate.ALIVE}\n", **_VISIBLE)
)
# For clients that also page upwards (Mastodon's since_id) and show each author's profile with
# the post: the same statement with a lower bound and the author's columns (AUTHOR_COLUMNS).
_FEED_WITH_AUTHORS = text(
    _FEED_SQL.format(
        after=" AND post.id > :after", page_rows=_PAGE_ROWS.format(author=AUTHOR_COLUMNS), gate="", **_VISIBLE
    )
)
# The page just above `after`, oldest first (Mastodon's min_id): each author's oldest posts above it.
_FEED_UP_SQL = """
WITH page AS (
    SELECT oldest.id
    FROM (
        SELECT followed_id AS author_id FROM follow
        WHERE follower_id = :viewer AND NOT {hidden_followed} AND NOT {muted_followed}
        UNION ALL
        SELECT CAST(:viewer AS bigint)
    ) AS authors
    CROSS JOIN LATERAL (
        SELECT post.id FROM post
        WHERE post.author_id = authors.author_id AND post.id > :after AND post.id < :before
        ORDER BY post.id
        LIMIT :rows
    ) AS oldest
    ORDER BY oldest.id
    LIMIT :rows
)
{page_rows}ORDER BY post.id
"""
_FEED_UP_WITH_AUTHORS = text(_FEED_UP_SQL.format(page_rows=_PAGE_ROWS.format(author=AUTHOR_COLUMNS), **_VISIBLE))


def feed_params(viewer_id: int, *, before: int | None, limit: int) -> dict[str, int]:
    """The values of `_FEED`'s parameters: `limit` posts below the id `before`, and one more."""
    return {
        "viewer": viewer_id,
        "before": before or MAX_ID,
        "rows": limit + 1,
        "walk": WALK,
        "walk_from": WALK_FROM_FOLLOWING,
    }


async def feed(
    reads: HotReads, viewer_id: int, *, session_id: int | None, before: int | None, limit: int
) -> list[PostRow]:
    """`limit + 1` rows of the home feed below the id `before`, newest first; with `session_id`,
    none unless that login session of the viewer lives (auth.gate)."""
    params = feed_params(viewer_id, before=before, limit=limit)
    if session_id is None:
        return await reads.rows(_FEED, params, PostRow)
    return await reads.rows(_FEED_GATED, {**params, "session": session_id}, PostRow)


async def feed_with_authors(
    session: AsyncSession, viewer_id: int, *, before: int | None, after: int | None, upwards: bool, limit: int
) -> Sequence[AnyRow]:
    """`limit + 1` feed rows with their authors' profiles (AUTHOR_COLUMNS) between the ids
    `after` and `before`: newest first, or (`upwards`) the oldest above `after`, oldest first."""
    params = {**feed_params(viewer_id, before=before, limit=limit), "after": after or 0}
    statement = _FEED_UP_WITH_AUTHORS if upwards else _FEED_WITH_AUTHORS
    rows: Sequence[AnyRow] = (await session.execute(statement, params)).all()
    return rows


_HOME_AUTHORS_SQL = """
SELECT followed_id FROM follow WHERE follower_id = :viewer AND NOT {hidden_followed} AND NOT {muted_followed}
"""
_HOME_AUTHORS = text(_HOME_AUTHORS_SQL.format(**_VISIBLE))


async def home_authors(session: AsyncSession, viewer_id: int) -> set[int]:
    """The accounts the viewer follows whose posts their feed shows (as `_FEED` chooses them)."""
    return set((await session.scalars(_HOME_AUTHORS, {"viewer": viewer_id})).all())
