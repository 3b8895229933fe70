from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import gate
from townsquare.db.base import AnyRow
from townsquare.db.hot import HotReads
from townsquare.feed import repository
from townsquare.kit.pagination import page_of
from townsquare.posts.schemas import post_json


async def home_page(
    reads: HotReads, *, viewer_id: int, before: int | None, limit: int, session_id: int | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Posts of everyone the viewer follows and their own, newest first, built on read: each
    as its JSON (a PostView's). With `session_id` (a native access token's), the page's own
    statement checks that the session lives, and InvalidToken says it does not."""
    rows = await repository.feed(reads, viewer_id, session_id=session_id, before=before, limit=limit)
    if not rows:  # an empty page, or a session that ended?
        await gate.ensure_alive(reads, user_id=viewer_id, session_id=session_id)
    page, cursor = page_of(rows, limit, lambda row: row.id)
    return [post_json(row) for row in page], cursor


async def home_authors(session: AsyncSession, *, viewer_id: int) -> set[int]:
    """Whose posts are in the viewer's home feed: everyone they follow, and their own (the
    rule `repository._FEED` applies, for live timelines that test one new post at a time)."""
    return await repository.home_authors(session, viewer_id) | {viewer_id}


async def home_rows_with_authors(
    session: AsyncSession, *, viewer_id: int, before: int | None, after: int | None, upwards: bool, limit: int
) -> Sequence[AnyRow]:
    """`limit + 1` rows of the home feed between the ids, with their authors' profiles: newest
    first, or (`upwards`) the oldest above `after`, oldest first."""
    return await repository.feed_with_authors(
        session, viewer_id, before=before, after=after, upwards=upwards, limit=limit
    )
