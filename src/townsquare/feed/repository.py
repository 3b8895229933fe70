"""The home feed query: fan-out on read."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.base import AnyRow

NO_CURSOR = 2**63 - 1

# For each followed account (and the viewer), its newest posts below the cursor straight from
# the (author_id, id DESC) index, at most one page each; then the newest page of all those.
# Author names and the viewer's likes are joined for that final page only: one statement
# whatever the page size or the number of accounts followed.
_FEED = text("""
WITH page AS (
    SELECT newest.*
    FROM (
        SELECT followed_id AS author_id FROM follow WHERE follower_id = :viewer
        UNION ALL
        SELECT CAST(:viewer AS bigint)
    ) AS authors
    CROSS JOIN LATERAL (
        SELECT post.id, post.author_id, post.content, post.created_at, post.updated_at,
               post.like_count, post.comment_count
        FROM post
        WHERE post.author_id = authors.author_id AND post.id < :before
        ORDER BY post.id DESC
        LIMIT :rows
    ) AS newest
    ORDER BY newest.id DESC
    LIMIT :rows
)
SELECT page.*, user_account.username,
       EXISTS (SELECT FROM post_like WHERE post_like.post_id = page.id AND post_like.user_id = :viewer)
           AS liked_by_me
FROM page JOIN user_account ON user_account.id = page.author_id
ORDER BY page.id DESC
""")


async def feed(session: AsyncSession, viewer_id: int, *, before: int | None, limit: int) -> Sequence[AnyRow]:
    params = {"viewer": viewer_id, "before": before or NO_CURSOR, "rows": limit + 1}
    rows: Sequence[AnyRow] = (await session.execute(_FEED, params)).all()
    return rows
