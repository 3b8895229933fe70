"""Every query of likes and comments.

Each write changes its row and the post's counter in one statement, and the counter only
when the row really changed (`ON CONFLICT DO NOTHING` / `DELETE ... RETURNING`), so
repeated and concurrent requests keep counts exact.

Lock order: the acting user's row, then a post row, then its like and comment rows, as an
account deletion and a post deletion (which cascade to them) take them. A like or comment
therefore holds its author first (its foreign key would only be checked at the end of the
statement, after the post's counter was locked), and removing one locks the post first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare import visibility
from townsquare.db.base import AnyRow
from townsquare.interactions.models import Comment, PostLike
from townsquare.posts.repository import AUTHOR_COLUMNS
from townsquare.users.models import UserAccount


class LikeResult(NamedTuple):
    liked_at: datetime | None  # None: the like was there already
    post_author_id: int | None  # None: the like was there already, or no such post
    like_count: int | None  # None: no such post


class UnlikeResult(NamedTuple):
    unliked: bool  # False: there was no like
    like_count: int | None  # None: no such post


class Liker(NamedTuple):
    like_id: int
    id: int
    username: str


class CommentRow(NamedTuple):
    id: int
    post_id: int
    author_id: int
    content: str
    created_at: datetime
    username: str


class NewComment(NamedTuple):
    id: int
    post_id: int
    author_id: int
    content: str
    created_at: datetime
    username: str
    post_author_id: int


class CommentAuthors(NamedTuple):
    author_id: int
    post_id: int
    post_author_id: int


_LIKE = text("""
WITH liked AS (
    INSERT INTO post_like (post_id, user_id) VALUES (:post, :user)
    ON CONFLICT DO NOTHING
    RETURNING created_at
), counted AS (
    UPDATE post SET like_count = like_count + 1
    WHERE id = :post AND EXISTS (SELECT FROM liked)
    RETURNING author_id, like_count
)
SELECT (SELECT created_at FROM liked),
       (SELECT author_id FROM counted),
       COALESCE((SELECT like_count FROM counted), (SELECT like_count FROM post WHERE id = :post))
""")

_LOCK_POST = text("SELECT id FROM post WHERE id = :post FOR NO KEY UPDATE")
# What the new row's foreign key takes, taken first (see the lock order above).
_HOLD_ACTOR = text("SELECT FROM user_account WHERE id = :user FOR KEY SHARE")

_UNLIKE = text("""
WITH unliked AS (
    DELETE FROM post_like WHERE post_id = :post AND user_id = :user
    RETURNING 1
), counted AS (
    UPDATE post SET like_count = like_count - 1
    WHERE id = :post AND EXISTS (SELECT FROM unliked)
    RETURNING like_count
)
SELECT EXISTS (SELECT FROM unliked),
       COALESCE((SELECT like_count FROM counted), (SELECT like_count FROM post WHERE id = :post))
""")

_COMMENT = text("""
WITH created AS (
    INSERT INTO comment (post_id, author_id, content) VALUES (:post, :author, :content)
    RETURNING id, post_id, author_id, content, created_at
), counted AS (
    UPDATE post SET comment_count = comment_count + 1 WHERE id = :post RETURNING author_id
)
SELECT created.id, created.post_id, created.author_id, created.content, created.created_at,
       user_account.username, (SELECT author_id FROM counted) AS post_author_id
FROM created JOIN user_account ON user_account.id = created.author_id
""")

_UNCOMMENT = text("""
WITH deleted AS (
    DELETE FROM comment WHERE id = :comment RETURNING post_id
)
UPDATE post SET comment_count = comment_count - 1
WHERE id = (SELECT post_id FROM deleted)
""")


async def like(session: AsyncSession, *, post_id: int, user_id: int) -> LikeResult:
    """IntegrityError if the post is gone."""
    await session.execute(_HOLD_ACTOR, {"user": user_id})
    return LikeResult(*(await session.execute(_LIKE, {"post": post_id, "user": user_id})).one())


async def unlike(session: AsyncSession, *, post_id: int, user_id: int) -> UnlikeResult:
    await session.execute(_LOCK_POST, {"post": post_id})
    return UnlikeResult(*(await session.execute(_UNLIKE, {"post": post_id, "user": user_id})).one())


async def likers(
    session: AsyncSession, post_id: int, *, viewer_id: int | None, before: int | None, limit: int
) -> list[Liker]:
    """Who liked the post, newest like first."""
    statement = (
        select(PostLike.id.label("like_id"), UserAccount.id, UserAccount.username)
        .join(UserAccount, UserAccount.id == PostLike.user_id)
        .where(PostLike.post_id == post_id, ~visibility.hidden(PostLike.user_id, viewer_id))
        .order_by(PostLike.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        statement = statement.where(PostLike.id < before)
    return [Liker(*row) for row in await session.execute(statement)]


async def add_comment(session: AsyncSession, *, post_id: int, author_id: int, content: str) -> NewComment:
    """The new comment with its author's username and its post's author. IntegrityError if the
    post is gone."""
    params = {"post": post_id, "author": author_id, "content": content}
    await session.execute(_HOLD_ACTOR, {"user": author_id})
    return NewComment(*(await session.execute(_COMMENT, params)).one())


async def comments(
    session: AsyncSession, post_id: int, *, viewer_id: int | None, after: int | None, limit: int
) -> list[CommentRow]:
    """The post's comments, oldest first, but those of accounts hidden from or muted by the viewer."""
    statement = (
        select(
            Comment.id, Comment.post_id, Comment.author_id, Comment.content, Comment.created_at, UserAccount.username
        )
        .join(UserAccount, UserAccount.id == Comment.author_id)
        .where(
            Comment.post_id == post_id,
            ~visibility.hidden(Comment.author_id, viewer_id),
            ~visibility.muted(Comment.author_id, viewer_id),
        )
        .order_by(Comment.id)
        .limit(limit + 1)
    )
    if after is not None:
        statement = statement.where(Comment.id > after)
    return [CommentRow(*row) for row in await session.execute(statement)]


async def comment_authors(session: AsyncSession, comment_id: int) -> CommentAuthors | None:
    """Who wrote a comment and its post, the post locked (see the lock order)."""
    row = (
        await session.execute(
            text("""
            SELECT comment.author_id, comment.post_id, post.author_id AS post_author_id
            FROM comment JOIN post ON post.id = comment.post_id
            WHERE comment.id = :comment
            FOR NO KEY UPDATE OF post
            """),
            {"comment": comment_id},
        )
    ).one_or_none()
    return None if row is None else CommentAuthors(*row)


async def delete_comment(session: AsyncSession, comment_id: int) -> None:
    await session.execute(_UNCOMMENT, {"comment": comment_id})


# A leaving user's likes and comments come off the counters of other people's posts (their
# own posts go away whole). Every post the deletion touches is locked first, in id order, then
# the leaver's like and comment rows: an unlike, a comment deletion or a post deletion racing
# the account deletion waits for it, instead of deadlocking or decrementing a counter twice.
_FORGET_USER = (
    text("""
    SELECT count(*) FROM (
        SELECT FROM post
        WHERE author_id = :user
           OR id IN (SELECT post_id FROM post_like WHERE user_id = :user)
           OR id IN (SELECT post_id FROM comment WHERE author_id = :user)
        ORDER BY id
        FOR UPDATE
    ) AS locked
    """),
    text("SELECT count(*) FROM (SELECT FROM post_like WHERE user_id = :user FOR UPDATE) AS locked"),
    text("SELECT count(*) FROM (SELECT FROM comment WHERE author_id = :user FOR UPDATE) AS locked"),
    # One UPDATE for both counters: a second update of a row this transaction already updated
    # runs the foreign-key check on its author again, a KEY SHARE lock on another user's row
    # taken after the posts, against the lock order (two users leaving who liked and commented
    # each other's posts deadlocked on it).
    text("""
    UPDATE post SET like_count = like_count - mine.likes, comment_count = comment_count - mine.comments
    FROM (
        SELECT post_id, sum(likes) AS likes, sum(comments) AS comments FROM (
            SELECT post_id, 1 AS likes, 0 AS comments FROM post_like WHERE user_id = :user
            UNION ALL
            SELECT post_id, 0, 1 FROM comment WHERE author_id = :user
        ) AS mine_by_row
        GROUP BY post_id
    ) AS mine
    WHERE post.id = mine.post_id AND post.author_id <> :user
    """),
)


async def uncount_user(session: AsyncSession, user_id: int) -> None:
    for statement in _FORGET_USER:
        await session.execute(statement, {"user": user_id})


# Comments with what a client shows beside them: the author's profile (AUTHOR_COLUMNS) and the
# post's author (whom a comment answers). Oldest first.
_COMMENTS_SQL = """
SELECT comment.id, comment.post_id, comment.author_id, user_account.username, comment.content,
       comment.created_at, post.author_id AS post_author_id, post_author.username AS post_author_username
       {author}
FROM comment
JOIN post ON post.id = comment.post_id
JOIN user_account ON user_account.id = comment.author_id
JOIN user_account AS post_author ON post_author.id = post.author_id
"""
_COMMENTS_WITH_AUTHORS = _COMMENTS_SQL.format(author=AUTHOR_COLUMNS)
# townsquare.visibility, for `:viewer` (NULL: anonymous): neither author hidden; under a post,
# no comment of an account the viewer muted either (opened by its id, it is shown).
_VISIBLE = f"NOT {visibility.hidden_sql('comment.author_id')} AND NOT {visibility.hidden_sql('post.author_id')}"
_COMMENTS_OF_POST = text(
    _COMMENTS_WITH_AUTHORS
    + f"WHERE comment.post_id = :post AND comment.id > :after AND {_VISIBLE}"
    + f" AND NOT {visibility.muted_sql('comment.author_id')} ORDER BY comment.id LIMIT :rows"
)
_COMMENTS_BY_IDS = text(_COMMENTS_WITH_AUTHORS + f"WHERE comment.id = ANY(:ids) AND {_VISIBLE} ORDER BY comment.id")


async def comments_with_authors(
    session: AsyncSession, *, post_id: int, viewer_id: int | None, after: int | None, limit: int
) -> Sequence[AnyRow]:
    params = {"post": post_id, "viewer": viewer_id, "after": after or 0, "rows": limit + 1}
    rows: Sequence[AnyRow] = (await session.execute(_COMMENTS_OF_POST, params)).all()
    return rows


async def comments_by_ids(session: AsyncSession, ids: Sequence[int], viewer_id: int | None) -> Sequence[AnyRow]:
    params = {"ids": list(ids), "viewer": viewer_id}
    rows: Sequence[AnyRow] = (await session.execute(_COMMENTS_BY_IDS, params)).all()
    return rows
