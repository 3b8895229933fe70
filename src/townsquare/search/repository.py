"""The search queries: a read model over users and posts, like the feed.

Users rank in tiers: 0 the exact username, 1 a username that starts with the query (shorter
first), 2 a bio with the query's words (best first), 3 a username one or two typos away
(trigram similarity, best first). A user appears once, in their best tier. Posts match every
word of the query (web-search syntax: "quoted phrases", -excluded, or), best first, newer
first among equals, ranked among the newest 10,000 matches. The query text is always a bound
parameter, and websearch_to_tsquery accepts any text without a syntax error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Select, bindparam, cast, func, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.base import AnyRow
from townsquare.posts.models import Post
from townsquare.posts.repository import view as post_view

# Typo candidates: the usernames nearest by trigram distance (a GiST index scan), kept when
# similar enough. 0.2 lets two typos through in a five-letter name ("alice" ~ "alxse").
TYPO_CANDIDATES = 50
TYPO_SIMILARITY = 0.2
# Posts: how many of the newest matches are ranked (see posts_statement).
RANKED_CANDIDATES = 10_000

USERS = text("""
WITH matches AS (
    SELECT u.id, 0 AS tier, 0::float8 AS score
    FROM user_account u WHERE lower(u.username) = lower(:q)
    UNION ALL
    SELECT u.id, 1, length(u.username)::float8
    FROM user_account u WHERE lower(u.username) LIKE :prefix
    UNION ALL
    SELECT u.id, 2, -ts_rank_cd(u.bio_vector, websearch_to_tsquery('english', :q))::float8
    FROM user_account u WHERE u.bio_vector @@ websearch_to_tsquery('english', :q)
    UNION ALL
    SELECT near.id, 3, -near.similarity FROM (
        SELECT u.id, similarity(lower(u.username), lower(:q))::float8 AS similarity
        FROM user_account u
        ORDER BY lower(u.username) <-> lower(:q)
        LIMIT :typo_candidates
    ) AS near
    WHERE near.similarity >= :typo_similarity
), best AS (
    SELECT DISTINCT ON (id) id, tier, score FROM matches ORDER BY id, tier, score
)
SELECT best.tier, best.score, u.id, u.username, u.bio, u.created_at,
       u.followers_count, u.following_count, u.posts_count,
       CASE WHEN CAST(:viewer AS bigint) IS NULL THEN NULL
            ELSE EXISTS (SELECT FROM follow f WHERE f.follower_id = :viewer AND f.followed_id = u.id)
       END AS followed_by_me
FROM best JOIN user_account u ON u.id = best.id
WHERE (best.tier, best.score, best.id) > (:after_tier, :after_score, :after_id)
ORDER BY best.tier, best.score, best.id
LIMIT :limit
""")


def _like_prefix(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def users_params(
    q: str, *, viewer_id: int | None, after: tuple[int, float, int] | None, limit: int
) -> dict[str, object]:
    after_tier, after_score, after_id = after or (-1, 0.0, 0)
    return {
        "q": q,
        "prefix": _like_prefix(q),
        "typo_candidates": TYPO_CANDIDATES,
        "typo_similarity": TYPO_SIMILARITY,
        "viewer": viewer_id,
        "after_tier": after_tier,
        "after_score": after_score,
        "after_id": after_id,
        "limit": limit,
    }


async def users(
    session: AsyncSession, q: str, *, viewer_id: int | None, after: tuple[int, float, int] | None, limit: int
) -> Sequence[AnyRow]:
    """`limit` users in rank order after the key `after` (tier, score, id)."""
    params = users_params(q, viewer_id=viewer_id, after=after, limit=limit)
    rows: Sequence[AnyRow] = (await session.execute(USERS, params)).all()
    return rows


def posts_statement(
    q: str, *, viewer_id: int | None, after: tuple[float, int] | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """`limit` matching posts, best first, newer first among equals, after the key (rank, id)."""
    words = func.websearch_to_tsquery(cast(literal("english"), REGCONFIG), bindparam("q", q))
    # Ranked among the newest matches only: a word in half the posts would otherwise rank them
    # all. For rarer queries (fewer matches than this), that is every match.
    candidates = (
        select(Post.id, cast(func.ts_rank_cd(Post.search_vector, words), Float).label("rank"))
        .where(Post.search_vector.op("@@")(words))
        .order_by(Post.id.desc())
        .limit(RANKED_CANDIDATES)
        .subquery("candidates")
    )
    # The page's posts first; their authors and the viewer's likes for those rows only.
    top = select(candidates).order_by(candidates.c.rank.desc(), candidates.c.id.desc()).limit(limit)
    if after is not None:
        top = top.where(tuple_(candidates.c.rank, candidates.c.id) < tuple_(*after))
    page = top.subquery("page")
    statement = (
        post_view(viewer_id)
        .add_columns(page.c.rank)
        .join(page, page.c.id == Post.id)
        .order_by(page.c.rank.desc(), Post.id.desc())
    )
    return statement


async def posts(
    session: AsyncSession, q: str, *, viewer_id: int | None, after: tuple[float, int] | None, limit: int
) -> Sequence[AnyRow]:
    statement = posts_statement(q, viewer_id=viewer_id, after=after, limit=limit)
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows
