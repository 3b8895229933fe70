"""Every query of the posts domain.

Post queries return "view rows": the post, its author's username and whether the viewer
liked it, in one statement, so a page of any size costs one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Result, Select, TextClause, exists, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare import visibility
from townsquare.auth import gate
from townsquare.db.base import AnyRow
from townsquare.db.hot import HotReads, statement
from townsquare.db.ids import MAX_ID
from townsquare.interactions.models import PostLike
from townsquare.posts.models import Post
from townsquare.users.models import UserAccount


def view(viewer_id: int | ColumnElement[int] | None) -> Select[*tuple[Any, ...]]:
    """Posts with author and `liked_by_me` (None without a viewer; the viewer's id may be a
    bound parameter); `_VIEW_SQL` below is the same query as text."""
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


class PostRow(NamedTuple):
    """A row of the post view (`view`, `_VIEW_SQL`, the feed's page), as hot reads return it."""

    id: int
    author_id: int
    username: str
    content: str
    created_at: datetime
    updated_at: datetime
    like_count: int
    comment_count: int
    liked_by_me: bool | None


# The view as fixed SQL, for the post page and a user's posts: a select built for every request
# spent more CPU in SQLAlchemy (building, cache key, ORM compile state) than the query took.
# Columns as in `view`, in its order (posts.schemas.post_json reads them by position).
_VIEW_SQL = """
SELECT post.id, post.author_id, user_account.username, post.content, post.created_at, post.updated_at,
       post.like_count, post.comment_count, {liked_by_me} AS liked_by_me{author}
FROM post
JOIN user_account ON user_account.id = post.author_id
"""
_LIKED_BY_VIEWER = "EXISTS (SELECT FROM post_like WHERE post_like.post_id = post.id AND post_like.user_id = :viewer)"
_NO_VIEWER = "CAST(NULL AS boolean)"


def _view_sql(
    rest: str, *, author: str = "", timeline: bool = False, gated: bool = False, one_author: str | None = None
) -> tuple[str, str]:
    """The view with `rest` (WHERE, ORDER BY ...): as seen by a viewer (`:viewer`), and without
    one; either way without the posts of accounts hidden from them (townsquare.visibility), and
    for a `timeline` of everyone's posts, without those of accounts the viewer muted. `gated`:
    the viewer's rows only while the token's session (`:session`) lives (auth.gate).
    `one_author`: every row is that author's (`:author`, or the one post's `post.author_id`),
    whose visibility is then two index probes (visibility.hidden_account_sql)."""
    assert rest.startswith("WHERE ")

    def visible(viewer: str | None) -> str:
        rule = (
            f"NOT {visibility.hidden_sql('post.author_id', viewer)}"
            if one_author is None
            else f"NOT {visibility.hidden_account_sql(one_author, 'user_account.suspended_at', viewer)}"
        )
        if timeline and viewer is not None:
            rule += f" AND NOT {visibility.muted_sql('post.author_id', viewer)}"
        if gated and viewer is not None:
            rule = f"{gate.ALIVE} AND {rule}"
        return rest.replace("WHERE ", f"WHERE {rule} AND ", 1)

    return (
        _VIEW_SQL.format(liked_by_me=_LIKED_BY_VIEWER, author=author) + visible(":viewer"),
        _VIEW_SQL.format(liked_by_me=_NO_VIEWER, author=author) + visible(None),
    )


def _texts(pair: tuple[str, str]) -> tuple[TextClause, TextClause]:
    as_viewer, anonymous = pair
    return text(as_viewer), text(anonymous)


class _Hot(NamedTuple):
    """One view query as hot reads (townsquare.db.hot): anonymous, as a viewer whose sign-in was
    checked before (the web client's), and as a token's viewer, gated on its session."""

    anonymous: str
    viewer: str
    gated: str

    @classmethod
    def of(cls, rest: str, *, one_author: str) -> _Hot:
        as_viewer, anonymous = _view_sql(rest, one_author=one_author)
        gated, _ = _view_sql(rest, gated=True, one_author=one_author)
        return cls(statement(anonymous), statement(as_viewer), statement(gated))

    async def rows(
        self, reads: HotReads, params: dict[str, Any], *, viewer_id: int | None, session_id: int | None
    ) -> list[PostRow]:
        if viewer_id is None:
            return await reads.rows(self.anonymous, params, PostRow)
        if session_id is None:
            return await reads.rows(self.viewer, {**params, "viewer": viewer_id}, PostRow)
        return await reads.rows(self.gated, {**params, "viewer": viewer_id, "session": session_id}, PostRow)


# The author's profile, after the view's columns, for clients that show it with every post
# (the Mastodon API's Status.account): bio, created_at, followers, following and posts counts.
AUTHOR_COLUMNS = """,
       user_account.bio AS author_bio, user_account.created_at AS author_created_at,
       user_account.followers_count AS author_followers_count,
       user_account.following_count AS author_following_count, user_account.posts_count AS author_posts_count"""

_ONE = "WHERE post.id = :post"
_BY_AUTHOR = "WHERE post.author_id = :author AND post.id < :before ORDER BY post.id DESC LIMIT :rows"
_ONE_TEXT = _texts(_view_sql(_ONE, one_author="post.author_id"))
_BY_AUTHOR_TEXT = _texts(_view_sql(_BY_AUTHOR, one_author=":author"))
# The post page and a user's posts, the API's most read pages after the feed.
_ONE_HOT = _Hot.of(_ONE, one_author="post.author_id")
_BY_AUTHOR_HOT = _Hot.of(_BY_AUTHOR, one_author=":author")


async def _run_view(
    session: AsyncSession, statements: tuple[TextClause, TextClause], params: dict[str, Any], viewer_id: int | None
) -> Result[Any]:
    """One of a `_view_sql` pair: as the viewer sees it, or without one."""
    as_viewer, anonymous = statements
    if viewer_id is None:
        return await session.execute(anonymous, params)
    return await session.execute(as_viewer, {**params, "viewer": viewer_id})


async def get_view(session: AsyncSession, post_id: int, viewer_id: int | None) -> AnyRow | None:
    row: AnyRow | None = (await _run_view(session, _ONE_TEXT, {"post": post_id}, viewer_id)).one_or_none()
    return row


async def hot_view(reads: HotReads, post_id: int, *, viewer_id: int | None, session_id: int | None) -> PostRow | None:
    """The post as the viewer sees it, as a hot read; with `session_id`, none unless the
    viewer's session lives (auth.gate)."""
    rows = await _ONE_HOT.rows(reads, {"post": post_id}, viewer_id=viewer_id, session_id=session_id)
    return rows[0] if rows else None


def _author_params(author_id: int, before: int | None, limit: int) -> dict[str, Any]:
    return {"author": author_id, "before": before or MAX_ID, "rows": limit + 1}


async def author_posts(
    session: AsyncSession, author_id: int, *, viewer_id: int | None, before: int | None, limit: int
) -> Sequence[AnyRow]:
    params = _author_params(author_id, before, limit)
    rows: Sequence[AnyRow] = (await _run_view(session, _BY_AUTHOR_TEXT, params, viewer_id)).all()
    return rows


async def hot_author_posts(
    reads: HotReads, author_id: int, *, viewer_id: int | None, session_id: int | None, before: int | None, limit: int
) -> list[PostRow]:
    """`author_posts` as a hot read; with `session_id`, none unless the viewer's session lives."""
    params = _author_params(author_id, before, limit)
    return await _BY_AUTHOR_HOT.rows(reads, params, viewer_id=viewer_id, session_id=session_id)


# Posts with their authors' profiles (AUTHOR_COLUMNS), between two ids, by one author or by
# everyone: newest first, or oldest first (`_UP`) for a page just above the lower bound.
_RANGE = "post.id < :before AND post.id > :after"
_WITH_AUTHORS = {
    (scope, upwards): _texts(
        _view_sql(
            f"WHERE {'post.author_id = :author AND ' if scope == 'author' else ''}{_RANGE}"
            f" ORDER BY post.id{'' if upwards else ' DESC'} LIMIT :rows",
            author=AUTHOR_COLUMNS,
            timeline=scope == "all",
            one_author=":author" if scope == "author" else None,
        )
    )
    for scope in ("author", "all")
    for upwards in (False, True)
}
_BY_IDS_WITH_AUTHORS = _texts(_view_sql("WHERE post.id = ANY(:ids)", author=AUTHOR_COLUMNS))


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
    """`limit + 1` posts of one author (or of everyone) between the ids, with author profiles."""
    params: dict[str, Any] = {"before": before or MAX_ID, "after": after or 0, "rows": limit + 1}
    if author_id is not None:
        params["author"] = author_id
    statements = _WITH_AUTHORS["author" if author_id is not None else "all", upwards]
    rows: Sequence[AnyRow] = (await _run_view(session, statements, params, viewer_id)).all()
    return rows


async def by_ids_with_authors(session: AsyncSession, ids: Sequence[int], viewer_id: int | None) -> Sequence[AnyRow]:
    rows: Sequence[AnyRow] = (await _run_view(session, _BY_IDS_WITH_AUTHORS, {"ids": list(ids)}, viewer_id)).all()
    return rows


async def author_of(session: AsyncSession, post_id: int) -> int | None:
    author_id: int | None = await session.scalar(select(Post.author_id).where(Post.id == post_id))
    return author_id


# Posts made, edited and deleted are published on this channel when their transaction commits
# ("<new|update|delete> <author id> <post id>"), for live timelines (notifications.hub).
POST_CHANNEL = "townsquare_post"

# The post and its author's posts_count change in one statement, which also publishes it.
_CREATE = text("""
WITH created AS (
    INSERT INTO post (author_id, content) VALUES (:author, :content) RETURNING id
)
UPDATE user_account SET posts_count = posts_count + 1
WHERE id = :author
RETURNING (SELECT id FROM created),
          pg_notify(:channel, concat_ws(' ', 'new', :author, (SELECT id FROM created)))
""")

_DELETE = text("""
WITH deleted AS (
    DELETE FROM post WHERE id = :post RETURNING author_id
)
UPDATE user_account SET posts_count = posts_count - 1
WHERE id = (SELECT author_id FROM deleted)
RETURNING pg_notify(:channel, concat_ws(' ', 'delete', id, :post))
""")
_UPDATE = text("""
UPDATE post SET content = :content, updated_at = now() WHERE id = :post
RETURNING pg_notify(:channel, concat_ws(' ', 'update', author_id, id))
""")


async def create(session: AsyncSession, *, author_id: int, content: str) -> int:
    params = {"author": author_id, "content": content, "channel": POST_CHANNEL}
    post_id: int = (await session.execute(_CREATE, params)).one()[0]
    return post_id


async def update_content(session: AsyncSession, *, post_id: int, content: str) -> None:
    await session.execute(_UPDATE, {"post": post_id, "content": content, "channel": POST_CHANNEL})


async def delete(session: AsyncSession, post_id: int) -> bool:
    """Delete the post (its likes and comments cascade); False if it was already gone."""
    result = await session.execute(_DELETE, {"post": post_id, "channel": POST_CHANNEL})
    return bool(result.rowcount)  # type: ignore[attr-defined]
