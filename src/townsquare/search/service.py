from __future__ import annotations

import math

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.session import transaction_block
from townsquare.kit.pagination import InvalidCursor, decode_cursor, page_of
from townsquare.posts.schemas import post_view
from townsquare.search import repository
from townsquare.search.schemas import SearchResults, SearchType
from townsquare.users.schemas import UserPublic

# Cursors name their list, so one cannot be replayed against the other.
USERS, POSTS = "u", "p"


async def search(
    session: AsyncSession, *, q: str, kind: SearchType, cursor: str | None, limit: int, viewer_id: int | None
) -> SearchResults:
    """Users and posts matching `q`; `all` gives the first page of each and no cursor."""
    cursor = cursor or None
    if kind == "all" and cursor is not None:
        raise InvalidCursor()
    after_user = _user_key(cursor) if cursor and kind == "users" else None
    after_post = _post_key(cursor) if cursor and kind == "posts" else None
    results = SearchResults(users=[], posts=[], next_cursor=None)
    # The settings `prepare` makes hold for both queries: one transaction.
    async with transaction_block(session):
        terms = await repository.prepare(session, q)
        if kind in ("all", "users"):
            rows = await repository.users(session, q, viewer_id=viewer_id, after=after_user, limit=limit + 1)
            page, next_cursor = page_of(rows, limit, lambda row: (USERS, int(row.tier), float(row.score), int(row.id)))
            results.users = [UserPublic.model_validate(row) for row in page]
            results.next_cursor = next_cursor
        if kind in ("all", "posts"):
            rows = await repository.posts(
                session, q, terms=terms, viewer_id=viewer_id, after=after_post, limit=limit + 1
            )
            page, next_cursor = page_of(rows, limit, lambda row: (POSTS, float(row.rank), int(row.id), int(row.floor)))
            results.posts = [post_view(row) for row in page]
            results.next_cursor = next_cursor
    if kind == "all":
        results.next_cursor = None
    return results


def _user_key(cursor: str) -> tuple[int, float, int]:
    kind, tier, score, last_id = decode_cursor(cursor, str, int, float, int)
    if kind != USERS or tier not in (0, 1, 2, 3):
        raise InvalidCursor()
    assert isinstance(tier, int)
    return tier, _score(score), _id(last_id)


def _post_key(cursor: str) -> tuple[float, int, int]:
    kind, rank, last_id, floor = decode_cursor(cursor, str, float, int, int)
    if kind != POSTS:
        raise InvalidCursor()
    return _score(rank), _id(last_id), _id(floor)


def _score(value: object) -> float:
    if not isinstance(value, float) or not math.isfinite(value) or abs(value) > 1e6:
        raise InvalidCursor()
    return value


def _id(value: object) -> int:
    if not isinstance(value, int) or not 0 < value < 2**63:
        raise InvalidCursor()
    return value
