"""The rules of posts: only the author edits or deletes; counts change with the rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import gate
from townsquare.db.base import AnyRow
from townsquare.db.hot import HotReads
from townsquare.kit.pagination import page_of
from townsquare.posts import repository
from townsquare.posts.errors import AccountGone, NotPostAuthor, PostNotFound
from townsquare.posts.schemas import PostView, post_json, post_view
from townsquare.users import service as users_service


async def create_post(session: AsyncSession, *, author_id: int, content: str) -> PostView:
    try:
        post_id = await repository.create(session, author_id=author_id, content=content)
    except IntegrityError:  # the foreign key: the account was deleted while this request ran
        raise AccountGone() from None
    return await get_post(session, post_id=post_id, viewer_id=author_id)


async def get_post(session: AsyncSession, *, post_id: int, viewer_id: int | None) -> PostView:
    return post_view(await _view_row(session, post_id=post_id, viewer_id=viewer_id))


async def get_post_json(session: AsyncSession, *, post_id: int, viewer_id: int | None) -> dict[str, Any]:
    """`get_post` as its JSON, for the post page (the most read answer after the feed)."""
    return post_json(await _view_row(session, post_id=post_id, viewer_id=viewer_id))


async def post_page(reads: HotReads, *, post_id: int, viewer_id: int | None, session_id: int | None) -> dict[str, Any]:
    """The post page's JSON, as a hot read; with `session_id` (a native token's), its statement
    checks that the session lives (auth.gate)."""
    row = await repository.hot_view(reads, post_id, viewer_id=viewer_id, session_id=session_id)
    if row is None:  # no such post (or a hidden one), or a session that ended?
        await gate.ensure_alive(reads, user_id=viewer_id, session_id=session_id)
        raise PostNotFound()
    return post_json(row)


async def edit_post(session: AsyncSession, *, post_id: int, editor_id: int, content: str) -> PostView:
    await _check_author(session, post_id=post_id, user_id=editor_id)
    await repository.update_content(session, post_id=post_id, content=content)
    return await get_post(session, post_id=post_id, viewer_id=editor_id)


async def delete_post(session: AsyncSession, *, post_id: int, user_id: int) -> None:
    await _check_author(session, post_id=post_id, user_id=user_id)
    await repository.delete(session, post_id)


async def author_page(
    session: AsyncSession, *, author_id: int, viewer_id: int | None, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A user's posts, newest first, each as its JSON (a PostView's)."""
    rows = await repository.author_posts(session, author_id, viewer_id=viewer_id, before=before, limit=limit)
    if not rows:  # an empty page, or no such user (or one a block hides)?
        await users_service.ensure_visible(session, user_id=author_id, viewer_id=viewer_id)
    page, cursor = page_of(rows, limit, lambda row: int(row.id))
    return [post_json(row) for row in page], cursor


async def user_posts_page(
    reads: HotReads,
    *,
    author_id: int,
    viewer_id: int | None,
    session_id: int | None,
    before: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """`author_page` as a hot read, its statement checking the token's session (`session_id`)."""
    rows = await repository.hot_author_posts(
        reads, author_id, viewer_id=viewer_id, session_id=session_id, before=before, limit=limit
    )
    if not rows:  # an empty page, a session that ended, or no such user (or one a block hides)?
        await gate.ensure_alive(reads, user_id=viewer_id, session_id=session_id)
        await users_service.ensure_visible_hot(reads, user_id=author_id, viewer_id=viewer_id)
    page, cursor = page_of(rows, limit, lambda row: row.id)
    return [post_json(row) for row in page], cursor


async def posts_with_authors(
    session: AsyncSession,
    *,
    author_id: int | None,
    viewer_id: int | None,
    before: int | None,
    after: int | None,
    upwards: bool,
    limit: int,
) -> Sequence[AnyRow]:
    """`limit + 1` posts of one author (everyone's without one) between the ids, each with its
    author's profile: newest first, or (`upwards`) the oldest above `after`, oldest first."""
    rows = await repository.posts_with_authors(
        session, author_id=author_id, viewer_id=viewer_id, before=before, after=after, upwards=upwards, limit=limit
    )
    if not rows and author_id is not None:
        await users_service.ensure_visible(session, user_id=author_id, viewer_id=viewer_id)
    return rows


async def by_ids_with_authors(session: AsyncSession, *, ids: Sequence[int], viewer_id: int | None) -> Sequence[AnyRow]:
    """The posts among `ids` that exist, with their authors' profiles, in no particular order."""
    return await repository.by_ids_with_authors(session, ids, viewer_id) if ids else []


async def ensure_visible(session: AsyncSession, *, post_id: int, viewer_id: int | None) -> None:
    """PostNotFound unless the post exists and its author is not hidden from the viewer."""
    await _view_row(session, post_id=post_id, viewer_id=viewer_id)


async def author_of(session: AsyncSession, *, post_id: int) -> int:
    """The post's author, whoever asks (moderation); PostNotFound if there is no such post."""
    author_id = await repository.author_of(session, post_id)
    if author_id is None:
        raise PostNotFound()
    return author_id


async def remove_post(session: AsyncSession, *, post_id: int) -> int:
    """Delete a post whoever wrote it (a moderator's removal): its author's id."""
    author_id = await author_of(session, post_id=post_id)
    await repository.delete(session, post_id)
    return author_id


async def _view_row(session: AsyncSession, *, post_id: int, viewer_id: int | None) -> AnyRow:
    row = await repository.get_view(session, post_id, viewer_id)
    if row is None:
        raise PostNotFound()
    return row


async def _check_author(session: AsyncSession, *, post_id: int, user_id: int) -> None:
    if await author_of(session, post_id=post_id) != user_id:
        raise NotPostAuthor()
