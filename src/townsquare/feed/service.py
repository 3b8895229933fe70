from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.feed import repository
from townsquare.kit.pagination import page_of
from townsquare.posts.schemas import post_json


async def home_page(
    session: AsyncSession, *, viewer_id: int, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Posts of everyone the viewer follows and their own, newest first, built on read: each
    as its JSON (a PostView's)."""
    rows = await repository.feed(session, viewer_id, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.id))
    return [post_json(row) for row in page], cursor
