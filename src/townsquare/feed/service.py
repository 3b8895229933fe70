from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.feed import repository
from townsquare.kit.pagination import page_of
from townsquare.posts.schemas import PostView, post_view


async def home_page(
    session: AsyncSession, *, viewer_id: int, before: int | None, limit: int
) -> tuple[list[PostView], str | None]:
    """Posts of everyone the viewer follows and their own, newest first, built on read."""
    rows = await repository.feed(session, viewer_id, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.id))
    return [post_view(row) for row in page], cursor
