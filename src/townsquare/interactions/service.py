"""Likes and comments: idempotent, exactly counted, moderated by the post's author."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.base import AnyRow
from townsquare.interactions import repository
from townsquare.interactions.errors import CommentNotFound, NotCommentModerator
from townsquare.interactions.repository import CommentAuthors
from townsquare.interactions.schemas import CommentView, LikeState, comment_view
from townsquare.kit.pagination import page_of
from townsquare.notifications import service as notifications
from townsquare.notifications.service import Deferrer
from townsquare.posts import service as posts_service
from townsquare.posts.errors import PostNotFound
from townsquare.users.schemas import UserSummary


async def like(session: AsyncSession, jobs: Deferrer, *, post_id: int, user_id: int) -> LikeState:
    await posts_service.ensure_visible(session, post_id=post_id, viewer_id=user_id)  # a block: no such post
    try:
        liked_at, post_author_id, like_count = await repository.like(session, post_id=post_id, user_id=user_id)
    except IntegrityError:  # the foreign key: no such post
        raise PostNotFound() from None
    assert like_count is not None
    if liked_at is not None and post_author_id != user_id:
        await notifications.announce(session, jobs, type="like", actor_id=user_id, target_id=post_id, at=liked_at)
    return LikeState(post_id=post_id, like_count=like_count, liked=True)


async def unlike(session: AsyncSession, *, post_id: int, user_id: int) -> LikeState:
    _, like_count = await repository.unlike(session, post_id=post_id, user_id=user_id)
    if like_count is None:
        raise PostNotFound()
    return LikeState(post_id=post_id, like_count=like_count, liked=False)


async def likers_page(
    session: AsyncSession, *, post_id: int, viewer_id: int | None = None, before: int | None, limit: int
) -> tuple[list[UserSummary], str | None]:
    await posts_service.ensure_visible(session, post_id=post_id, viewer_id=viewer_id)
    rows = await repository.likers(session, post_id, viewer_id=viewer_id, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.like_id))
    return [UserSummary(id=row.id, username=row.username) for row in page], cursor


async def add_comment(
    session: AsyncSession, jobs: Deferrer, *, post_id: int, author_id: int, content: str
) -> CommentView:
    await posts_service.ensure_visible(session, post_id=post_id, viewer_id=author_id)  # a block: no such post
    try:
        row = await repository.add_comment(session, post_id=post_id, author_id=author_id, content=content)
    except IntegrityError:
        raise PostNotFound() from None
    if row.post_author_id != author_id:
        await notifications.announce(
            session, jobs, type="comment", actor_id=author_id, target_id=row.id, at=row.created_at
        )
    return comment_view(row)


async def comments_page(
    session: AsyncSession, *, post_id: int, viewer_id: int | None = None, after: int | None, limit: int
) -> tuple[list[CommentView], str | None]:
    await posts_service.ensure_visible(session, post_id=post_id, viewer_id=viewer_id)
    rows = await repository.comments(session, post_id, viewer_id=viewer_id, after=after, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.id))
    return [comment_view(row) for row in page], cursor


async def delete_comment(session: AsyncSession, *, comment_id: int, user_id: int) -> None:
    found = await repository.comment_authors(session, comment_id)
    if found is None:
        raise CommentNotFound()
    if user_id not in (found.author_id, found.post_author_id):
        raise NotCommentModerator()
    await repository.delete_comment(session, comment_id)


async def comments_with_authors(
    session: AsyncSession, *, post_id: int, viewer_id: int | None, after: int | None, limit: int
) -> Sequence[AnyRow]:
    """`limit + 1` of the post's comments after the id `after` that the viewer sees, oldest
    first, with their authors' profiles and the post's author (see the repository)."""
    await posts_service.ensure_visible(session, post_id=post_id, viewer_id=viewer_id)
    return await repository.comments_with_authors(
        session, post_id=post_id, viewer_id=viewer_id, after=after, limit=limit
    )


async def comments_by_ids(session: AsyncSession, ids: Sequence[int], *, viewer_id: int | None) -> Sequence[AnyRow]:
    """The comments among `ids` that exist and the viewer sees."""
    return await repository.comments_by_ids(session, ids, viewer_id) if ids else []


async def remove_comment(session: AsyncSession, *, comment_id: int) -> CommentAuthors:
    """Delete a comment whoever wrote it (a moderator's removal): its (author_id, post_id)."""
    found = await repository.comment_authors(session, comment_id)
    if found is None:
        raise CommentNotFound()
    await repository.delete_comment(session, comment_id)
    return found


async def uncount_user(session: AsyncSession, *, user_id: int) -> None:
    """Before an account is deleted: take its likes and comments off others' post counters."""
    await repository.uncount_user(session, user_id)
