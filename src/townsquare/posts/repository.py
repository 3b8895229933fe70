"""Every query of the posts domain.

Post queries return "view rows": the post, its author's username and whether the viewer
liked it, in one statement, so a page of any size costs one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.base import AnyRow
from townsquare.interactions.models import PostLike
from townsquare.posts.models import Post
from townsquare.users.models import UserAccount


def view(viewer_id: int | None) -> Select[*tuple[Any, ...]]:
    """Posts with author and `liked_by_me` (None without a viewer)."""
    liked = (
        exists().where(PostLike.post_id == Post.id, PostLike.user_id == viewer_id)
        if viewer_id is not None
        else literal(None)
    )
    return select(
        Post.id,
        Post.author_id,
        UserAccount.username,
        Post.content,
        Post.created_at,
        Post.updated_at,
        Post.like_count,
        Post.comment_count,
        liked.label("liked_by_me"),
    ).join(UserAccount, UserAccount.id == Post.author_id)


async def get_view(session: AsyncSession, post_id: int, viewer_id: int | None) -> AnyRow | None:
    row: AnyRow | None = (await session.execute(view(viewer_id).where(Post.id == post_id))).one_or_none()
    return row


async def author_posts(
    session: AsyncSession, author_id: int, *, viewer_id: int | None, before: int | None, limit: int
) -> Sequence[AnyRow]:
    statement = view(viewer_id).where(Post.author_id == author_id).order_by(Post.id.desc()).limit(limit + 1)
    if before is not None:
        statement = statement.where(Post.id < before)
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows


async def author_of(session: AsyncSession, post_id: int) -> int | None:
    author_id: int | None = await session.scalar(select(Post.author_id).where(Post.id == post_id))
    return author_id


# The post and its author's posts_count change in one statement.
_CREATE = text("""
WITH created AS (
    INSERT INTO post (author_id, content) VALUES (:author, :content) RETURNING id
)
UPDATE user_account SET posts_count = posts_count + 1
WHERE id = :author
RETURNING (SELECT id FROM created)
""")

_DELETE = text("""
WITH deleted AS (
    DELETE FROM post WHERE id = :post RETURNING author_id
)
UPDATE user_account SET posts_count = posts_count - 1
WHERE id = (SELECT author_id FROM deleted)
""")


async def create(session: AsyncSession, *, author_id: int, content: str) -> int:
    post_id: int = (await session.execute(_CREATE, {"author": author_id, "content": content})).scalar_one()
    return post_id


async def update_content(session: AsyncSession, *, post_id: int, content: str) -> None:
    await session.execute(
        text("UPDATE post SET content = :content, updated_at = now() WHERE id = :post"),
        {"post": post_id, "content": content},
    )


async def delete(session: AsyncSession, post_id: int) -> bool:
    """Delete the post (its likes and comments cascade); False if it was already gone."""
    result = await session.execute(_DELETE, {"post": post_id})
    return bool(result.rowcount)  # type: ignore[attr-defined]
