"""The search queries: a read model over users and posts, like the feed.

Users rank in tiers: 0 the exact username, 1 a username that starts with the query (shorter
first), 2 a bio with the query's words (best first), 3 a username one or two typos away
(trigram candidates within two edits, most similar first). A user appears once, in their
best tier. Posts match every word of the query (web-search syntax: "quoted phrases",
-excluded, or), best first, newer first among equals, ranked among the newest 1,000 matches.
The query text is always a bound parameter, and websearch_to_tsquery accepts any text without
a syntax error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, bindparam, cast, func, literal_column, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.base import AnyRow
from townsquare.posts.models import Post
from townsquare.posts.repository import view as post_view

# Typos: usernames trigram-similar to the query (`%`, through the GiST index), kept when at
# most two edits away (Levenshtein), most similar first. The trigram threshold depends on the
# length: one typo in a four-letter name leaves a similarity near 0.11 ("john" ~ "jhon"); two
# in a five-letter name, 0.2 ("alice" ~ "alxse").
TYPO_CANDIDATES = 50
TYPO_EDITS = 2


def typo_threshold(term: str) -> float:
    return 0.1 if len(term) <= 4 else 0.2


# Ranked among the newest matches only (posts; bios for users): a word in half the rows would
# otherwise rank them all. For rarer queries, that is every match. The cost grows with it: a
# word in 2% of 1M posts walks about 50,000 of the newest posts to find 1,000 matches (28 ms
# on the benchmark's machine; 10,000 matches would take ten times as long).
RANKED_CANDIDATES = 1_000

# The text search configuration as a constant, not a parameter: the cast of a parameter to
# regconfig is not folded at planning, so websearch_to_tsquery would then run again for every
# row the query looks at (5 times slower on the benchmark's data).
ENGLISH: ColumnElement[str] = literal_column("'english'::regconfig")

# For every search: plans made for the actual words (a plan reused across queries assumes a
# fixed share of matches and can rank every post), and the typo threshold for this term.
SETUP = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('pg_trgm.similarity_threshold', :threshold, true)"
)

USERS = text("""
WITH better AS MATERIALIZED (
    SELECT DISTINCT ON (id) id, tier, score FROM (
        -- The exact name is a prefix match too: one scan of the prefix index finds both.
        SELECT u.id, CASE WHEN lower(u.username) = lower(:term) THEN 0 ELSE 1 END AS tier,
               CASE WHEN lower(u.username) = lower(:term) THEN 0 ELSE length(u.username) END::float8 AS score
        FROM user_account u WHERE lower(u.username) LIKE lower(:prefix)
        UNION ALL
        SELECT bio.id, 2, -ts_rank_cd(bio.bio_vector, websearch_to_tsquery('english', :q))::float8 FROM (
            SELECT u.id, u.bio_vector FROM user_account u
            WHERE u.bio_vector @@ websearch_to_tsquery('english', :q)
              AND querytree(websearch_to_tsquery('english', :q)) <> 'T'  -- not only exclusions
            ORDER BY u.id DESC LIMIT :ranked
        ) AS bio
    ) AS matches
    ORDER BY id, tier, score
), near AS (
    SELECT u.id, 3 AS tier, -similarity(lower(u.username), lower(:term))::float8 AS score
    FROM user_account u
    WHERE lower(u.username) % lower(:term) AND lower(u.username) NOT LIKE lower(:prefix)
      AND levenshtein_less_equal(lower(u.username), lower(:term), :typo_edits) <= :typo_edits
      -- Typos rank last: looked for only when the better matches after the cursor leave room
      -- on the page (the trigram scan is the costliest part of a search).
      AND (SELECT count(*) FROM better WHERE (tier, score, id) > (:after_tier, :after_score, :after_id)) < :limit
    ORDER BY score, u.id
    LIMIT :typo_candidates
), best AS (
    SELECT DISTINCT ON (id) id, tier, score FROM (SELECT * FROM better UNION ALL SELECT * FROM near) AS matches
    ORDER BY id, tier, score
), page AS (
    SELECT * FROM best
    WHERE (tier, score, id) > (:after_tier, :after_score, :after_id)
    ORDER BY tier, score, id
    LIMIT :limit
)
SELECT page.tier, page.score, u.id, u.username, u.bio, u.created_at,
       u.followers_count, u.following_count, u.posts_count,
       CASE WHEN CAST(:viewer AS bigint) IS NULL THEN NULL
            ELSE EXISTS (SELECT FROM follow f WHERE f.follower_id = :viewer AND f.followed_id = u.id)
       END AS followed_by_me
FROM page JOIN user_account u ON u.id = page.id
ORDER BY page.tier, page.score, page.id
""")


def username_term(q: str) -> str:
    """The query as a username: without surrounding spaces or a leading @."""
    return q.strip().lstrip("@")


def _like_prefix(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def prepare(session: AsyncSession, q: str) -> None:
    await session.execute(SETUP, {"threshold": str(typo_threshold(username_term(q)))})


def users_params(
    q: str, *, viewer_id: int | None, after: tuple[int, float, int] | None, limit: int
) -> dict[str, object]:
    after_tier, after_score, after_id = after or (-1, 0.0, 0)
    term = username_term(q)
    return {
        "q": q,
        "term": term,
        "prefix": _like_prefix(term),
        "ranked": RANKED_CANDIDATES,
        "typo_candidates": TYPO_CANDIDATES,
        "typo_edits": TYPO_EDITS,
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
    q: str, *, viewer_id: int | None, after: tuple[float, int, int] | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """`limit` matching posts, best first, newer first among equals.

    The first page ranks the newest RANKED_CANDIDATES matches; its rows carry the oldest id of
    that window (`floor`), and later pages (`after` = (rank, id, floor)) rank every match from
    that id on, so posts made meanwhile cannot push an unseen one out of the window."""
    words = func.websearch_to_tsquery(ENGLISH, bindparam("q", q))
    matching = select(Post.id, cast(func.ts_rank_cd(Post.search_vector, words), Float).label("rank")).where(
        Post.search_vector.op("@@")(words),
        func.querytree(words) != "T",  # a query of exclusions only matches nothing
    )
    if after is None:
        matching = matching.order_by(Post.id.desc()).limit(RANKED_CANDIDATES)
    else:
        matching = matching.where(Post.id >= after[2])
    window = matching.subquery("window")
    candidates = select(window, func.min(window.c.id).over().label("floor")).subquery("candidates")
    # The page's posts first; their authors and the viewer's likes for those rows only.
    top = select(candidates).order_by(candidates.c.rank.desc(), candidates.c.id.desc()).limit(limit)
    if after is not None:
        top = top.where(tuple_(candidates.c.rank, candidates.c.id) < tuple_(after[0], after[1]))
    page = top.subquery("page")
    statement = (
        post_view(viewer_id)
        .add_columns(page.c.rank, page.c.floor)
        .join(page, page.c.id == Post.id)
        .order_by(page.c.rank.desc(), Post.id.desc())
    )
    return statement


async def posts(
    session: AsyncSession, q: str, *, viewer_id: int | None, after: tuple[float, int, int] | None, limit: int
) -> Sequence[AnyRow]:
    statement = posts_statement(q, viewer_id=viewer_id, after=after, limit=limit)
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows
