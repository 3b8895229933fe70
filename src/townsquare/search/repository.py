"""The search queries: a read model over users and posts, like the feed.

Users rank in tiers: 0 the exact username, 1 a username that starts with the query (shorter
first), 2 a bio with the query's words (best first), 3 a username one or two typos away
(trigram candidates within two edits, most similar first). A user appears once, in their
best tier. Posts match every word of the query (web-search syntax: "quoted phrases",
-excluded, or), best first, newer first among equals, ranked among the newest 1,000 matches: found through
the inverted list `post_term` (models.py) when the query has words that every match contains,
else through the GIN index. The query text is always a bound parameter, and
websearch_to_tsquery accepts any text without a syntax error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    Label,
    Select,
    Text,
    UnaryExpression,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from townsquare import visibility
from townsquare.db.base import AnyRow
from townsquare.posts.models import Post
from townsquare.posts.repository import view as post_view
from townsquare.search.models import PostTerm

# Typos: usernames trigram-similar to the query (`%`, through the GiST index), kept when at
# most two edits away (Levenshtein), most similar first. The trigram threshold depends on the
# length: one typo in a four-letter name leaves a similarity near 0.11 ("john" ~ "jhon"); two
# in a five-letter name, 0.2 ("alice" ~ "alxse").
TYPO_CANDIDATES = 50
TYPO_EDITS = 2


def typo_threshold(term: str) -> float:
    return 0.1 if len(term) <= 4 else 0.2


# Ranked among the newest matches only (posts; bios for users): a word in half the rows would
# otherwise rank them all. For rarer queries, that is every match. Each candidate costs a read
# of its row (ts_rank_cd needs the word positions): 1,000 take about 4 ms.
RANKED_CANDIDATES = 1_000
# Posts are looked up in the inverted list by at most this many of the query's words (the
# rows found are then checked against the whole query): each one more is a join.
LOOKUP_TERMS = 4

# The text search configuration as a constant, not a parameter: the cast of a parameter to
# regconfig is not folded at planning, so websearch_to_tsquery would then run again for every
# row the query looks at (5 times slower on the benchmark's data).
ENGLISH: ColumnElement[str] = literal_column("'english'::regconfig")

# For every search: plans made for the actual words (a plan reused across queries assumes a
# fixed share of matches and can rank every post), and the typo threshold for this term; and
# what of the query an index can look for (negations dropped; '' or 'T' if nothing).
SETUP = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('pg_trgm.similarity_threshold', :threshold, true),"
    " querytree(websearch_to_tsquery('english'::regconfig, :q))"
)

USERS = text(
    """
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
      AND NOT {hidden} AND NOT {muted}  -- townsquare.visibility: none hidden from or muted by the viewer
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
""".replace("{hidden}", visibility.hidden_sql("best.id")).replace("{muted}", visibility.muted_sql("best.id"))
)


def username_term(q: str) -> str:
    """The query as a username: without surrounding spaces or a leading @."""
    return q.strip().lstrip("@")


def _like_prefix(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def prepare(session: AsyncSession, q: str) -> list[str] | None:
    """Set the search's settings; the words every matching post contains (see `required_terms`)."""
    row = (await session.execute(SETUP, {"q": q, "threshold": str(typo_threshold(username_term(q)))})).one()
    return required_terms(str(row[2]))


# A lexeme in tsquery text: quoted, with ' and \ doubled.
_LEXEME = re.compile(r"'((?:''|\\\\|[^'\\])*)'")


def required_terms(tree: str) -> list[str] | None:
    """The lexemes that every post matching the query contains, from its `querytree` text; None
    when there is no such lexeme or the text is not a plain AND of words and phrases.

    querytree keeps what an index can look for: negated words are gone, and a query of
    negations alone is 'T'. Without `|` (or), every lexeme left must be in a match (`&` and
    the phrase operators `<->`, `<N>` all need both sides). Anything else (or, a prefix `:*`,
    weights) falls back to the GIN index."""
    operators = _LEXEME.sub("", tree)
    lexemes = [_unescape(lexeme) for lexeme in _LEXEME.findall(tree)]
    if not lexemes or re.search(r"[|!:T]", operators):
        return None
    return list(dict.fromkeys(lexemes))[:LOOKUP_TERMS]


def _unescape(lexeme: str) -> str:
    return lexeme.replace("''", "'").replace("\\\\", "\\")


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


def posts_params(
    q: str,
    *,
    terms: Sequence[str] | None,
    viewer_id: int | None,
    after: tuple[float, int, int] | None,
    limit: int,
) -> dict[str, object]:
    """The values of `posts_statement`'s parameters for this search."""
    params: dict[str, object] = {"q": q, "ranked": RANKED_CANDIDATES, "limit": limit, "viewer": viewer_id}
    params.update({f"term_{n}": term for n, term in enumerate(terms or ())})
    if after is not None:
        params.update({"after_rank": after[0], "after_id": after[1], "floor": after[2]})
    return params


@functools.cache
def posts_statement(terms: int, *, viewer: bool, paging: bool) -> Select[*tuple[Any, ...]]:
    """Matching posts, best first, newer first among equals (values from `posts_params`).

    The first page ranks the newest RANKED_CANDIDATES matches; its rows carry the oldest id of
    that window (`floor`), and later pages (`paging`, after (rank, id, floor)) rank every match
    from that id on, so posts made meanwhile cannot push an unseen one out of the window.

    With `terms` (how many words every match contains), candidates are the posts that the
    inverted list has under all of them, newest first, each checked against the whole query as
    it comes; the walk stops at the window's last match. Without, the GIN index finds every
    match. Built once per shape: building the select per request cost more API time than the
    rest of a search."""
    words = func.websearch_to_tsquery(ENGLISH, bindparam("q", type_=Text))
    rank = cast(func.ts_rank_cd(Post.search_vector, words), Float).label("rank")
    floor = bindparam("floor", type_=BigInteger) if paging else None
    matching, newest_first = (
        _through_inverted_list(terms, words, rank, floor) if terms else _through_gin_index(words, rank, floor)
    )
    if not paging:
        matching = matching.order_by(newest_first).limit(bindparam("ranked", type_=Integer))
    window = matching.subquery("window")
    candidates = select(window, func.min(window.c.id).over().label("floor")).subquery("candidates")
    # The page's posts first; their authors and the viewer's likes for those rows only.
    top = (
        select(candidates)
        .order_by(candidates.c.rank.desc(), candidates.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    # townsquare.visibility: no post of an account hidden from (or muted by) the viewer
    if viewer:
        author = "candidates.author_id"
        top = top.where(text(f"NOT {visibility.hidden_sql(author)} AND NOT {visibility.muted_sql(author)}"))
    else:
        top = top.where(text("NOT " + visibility.hidden_sql("candidates.author_id", viewer=None)))
    if paging:
        after = tuple_(bindparam("after_rank", type_=Float), bindparam("after_id", type_=BigInteger))
        top = top.where(tuple_(candidates.c.rank, candidates.c.id) < after)
    page = top.subquery("page")
    statement = (
        post_view(bindparam("viewer", type_=BigInteger) if viewer else None)
        .add_columns(page.c.rank, page.c.floor)
        .join(page, page.c.id == Post.id)
        .order_by(page.c.rank.desc(), Post.id.desc())
    )
    return statement


def _through_inverted_list(
    terms: int, words: ColumnElement[Any], rank: Label[float], floor: ColumnElement[int] | None
) -> tuple[Select[*tuple[Any, ...]], UnaryExpression[int]]:
    """(id, rank) of the posts that have every one of the `terms` words and match `words`, from
    `floor` on; and their order newest first, in which they are found."""
    lists = [aliased(PostTerm, name=f"term_{n}") for n in range(terms)]
    newest = lists[0].post_id
    with_terms = select(newest).where(lists[0].term == bindparam("term_0", type_=Text))
    for n, other in enumerate(lists[1:], start=1):
        with_terms = with_terms.join(
            other, (other.post_id == newest) & (other.term == bindparam(f"term_{n}", type_=Text))
        )
    if floor is not None:  # on the list itself: PostgreSQL does not carry a range across a join
        with_terms = with_terms.where(newest >= floor)
    found = with_terms.subquery("with_terms")
    # Each candidate in turn, newest first, read by its key and checked against the whole
    # query. LIMIT 1 (the key is unique) keeps PostgreSQL from turning this into a join, which
    # it would plan as a walk over all the newest posts (it cannot tell how many match) or a
    # GIN fetch of every match; ts_match_vq is @@ without its index.
    checked = (
        select(rank, Post.author_id)
        .where(Post.id == found.c.post_id, func.ts_match_vq(Post.search_vector, words))
        .limit(1)
        .lateral("checked")
    )
    return (
        select(found.c.post_id.label("id"), checked.c.rank, checked.c.author_id).join(checked, true()),
        found.c.post_id.desc(),
    )


def _through_gin_index(
    words: ColumnElement[Any], rank: Label[float], floor: ColumnElement[int] | None
) -> tuple[Select[*tuple[Any, ...]], UnaryExpression[int]]:
    """(id, rank) of every post matching `words`, from `floor` on; and the order newest first."""
    matching = select(Post.id, rank, Post.author_id).where(
        Post.search_vector.op("@@")(words),
        func.querytree(words) != "T",  # a query of exclusions only matches nothing
    )
    if floor is not None:
        matching = matching.where(Post.id >= floor)
    return matching, Post.id.desc()


async def posts(
    session: AsyncSession,
    q: str,
    *,
    terms: Sequence[str] | None,
    viewer_id: int | None,
    after: tuple[float, int, int] | None,
    limit: int,
) -> Sequence[AnyRow]:
    statement = posts_statement(len(terms or ()), viewer=viewer_id is not None, paging=after is not None)
    params = posts_params(q, terms=terms, viewer_id=viewer_id, after=after, limit=limit)
    rows: Sequence[AnyRow] = (await session.execute(statement, params)).all()
    return rows
