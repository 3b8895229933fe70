"""Statuses: our posts, and our comments as replies to them.

Post and comment ids come from one id sequence, so a status id names one or the other, never
both. A reply (`in_reply_to_id`) to a post makes a comment; a reply to a comment is made on
that comment's post (comments have no replies here). Comments cannot be favourited or edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth.dependencies import Viewer
from townsquare.db.base import AnyRow
from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep, reads_only
from townsquare.interactions import service as interactions_service
from townsquare.interactions.errors import CommentNotFound
from townsquare.interactions.schemas import CommentWrite
from townsquare.kit.pagination import decode_id_cursor
from townsquare.kit.responses import PreparedJSONResponse
from townsquare.mastodon import entities, idempotency
from townsquare.mastodon.auth import maybe_user, user
from townsquare.mastodon.entities import Json
from townsquare.mastodon.errors import Disabled, RecordNotFound, Unprocessable
from townsquare.mastodon.instance import base_url
from townsquare.mastodon.paging import LongWindow, Window, link, page
from townsquare.mastodon.params import Params, params
from townsquare.posts import service as posts_service
from townsquare.posts.errors import PostNotFound
from townsquare.posts.schemas import PostWrite
from townsquare.users import service as users_service
from townsquare.worker.dependencies import JobsDep

router = APIRouter()

ReadStatuses = Annotated[Viewer | None, Depends(maybe_user("read:statuses"))]
WriteStatuses = Annotated[Viewer, Depends(user("write:statuses", writes=True))]
Favouriter = Annotated[Viewer, Depends(user("write:favourites", writes=True))]
# A thread's replies are read whole, up to this many (Mastodon's context has no paging either).
CONTEXT_REPLIES = 1000


def post_statuses(request: Request, rows: Sequence[AnyRow]) -> Response:
    """A page of post rows (with AUTHOR_COLUMNS) as Statuses, with its `Link` header."""
    base, authors = base_url(request), dict[int, Json]()
    items = [entities.post_status(base, row, authors) for row in rows]
    response = PreparedJSONResponse(items)
    if items:
        link(request, response, newest=items[0]["id"], oldest=items[-1]["id"])
    return response


def comment_statuses(base: str, rows: Sequence[AnyRow], *, signed_in: bool) -> list[Json]:
    return [entities.comment_status(base, row, signed_in=signed_in) for row in rows]


async def find_status(
    request: Request, session: SessionDep, status_id: int, viewer: Viewer | None
) -> tuple[Json, AnyRow, bool]:
    """The status with that id: (its JSON, its row, whether it is a comment)."""
    posts = await posts_service.by_ids_with_authors(session, ids=[status_id], viewer_id=viewer.id if viewer else None)
    if posts:
        return entities.post_status(base_url(request), posts[0]), posts[0], False
    comments = await interactions_service.comments_by_ids(session, [status_id], viewer_id=viewer.id if viewer else None)
    if comments:
        found = comment_statuses(base_url(request), comments, signed_in=viewer is not None)
        return found[0], comments[0], True
    raise RecordNotFound("Record not found")


async def statuses_by_ids(
    base: str, session: AsyncSession, ids: Sequence[int], viewer: Viewer | None
) -> dict[int, Json]:
    """The posts and comments among `ids`, by id (the ones that are gone left out)."""
    authors: dict[int, Json] = {}
    found = {
        int(row[0]): entities.post_status(base, row, authors)
        for row in await posts_service.by_ids_with_authors(session, ids=ids, viewer_id=viewer.id if viewer else None)
    }
    rest = [status_id for status_id in ids if status_id not in found]
    comments = await interactions_service.comments_by_ids(session, rest, viewer_id=viewer.id if viewer else None)
    for status in comment_statuses(base, comments, signed_in=viewer is not None):
        found[int(status["id"])] = status
    return found


def status_id_of(raw: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise RecordNotFound("Record not found")
    return found


class StatusWrite(Params):
    status: str = ""
    visibility: str | None = Field(default=None, max_length=20)
    spoiler_text: str = ""
    in_reply_to_id: str | None = Field(default=None, max_length=40)
    media_ids: list[str] = Field(default_factory=list)
    poll: dict[str, Any] | None = None
    scheduled_at: str | None = None


def _content(text: str, *, reply: bool) -> str:
    try:
        return (CommentWrite(content=text) if reply else PostWrite(content=text)).content
    except ValidationError:
        if not text.strip():
            raise Unprocessable("Validation failed: Text can't be blank") from None
        most = 300 if reply else 500
        raise Unprocessable(
            f"Validation failed: Text is too long (a {'reply' if reply else 'post'} holds at most {most} characters)"
        ) from None


def _only_public(body: StatusWrite | StatusEdit) -> None:
    """Every post here is public: a direct message, a followers-only post or a content warning
    is refused rather than published as an ordinary public post."""
    if body.visibility not in (None, "", "public"):
        raise Disabled("This server only has public posts: visibility must be public")
    if body.spoiler_text.strip():
        raise Disabled("This server does not support content warnings (spoiler_text)")


async def _create(session: SessionDep, jobs: JobsDep, viewer: Viewer, body: StatusWrite) -> tuple[int, bool]:
    """Make the post or comment: (its id, whether it is a comment)."""
    _only_public(body)
    if body.media_ids or body.poll:
        raise Disabled("This server does not support media attachments or polls")
    if body.scheduled_at:
        raise Disabled("This server does not support scheduled statuses")
    if not body.in_reply_to_id:
        created = await posts_service.create_post(
            session, author_id=viewer.id, content=_content(body.status, reply=False)
        )
        return created.id, False
    parent = parse_id(body.in_reply_to_id)
    if parent is None:
        raise RecordNotFound("Record not found")
    comments = await interactions_service.comments_by_ids(session, [parent], viewer_id=viewer.id)
    post_id = int(comments[0].post_id) if comments else parent  # a reply to a comment goes on its post
    content = _content(body.status, reply=True)
    try:
        comment = await interactions_service.add_comment(
            session, jobs, post_id=post_id, author_id=viewer.id, content=content
        )
    except PostNotFound:
        raise RecordNotFound("Record not found") from None
    return comment.id, True


@router.post("/api/v1/statuses")
async def create_status(
    request: Request,
    body: Annotated[StatusWrite, Depends(params(StatusWrite))],
    session: SessionDep,
    jobs: JobsDep,
    viewer: WriteStatuses,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    made = None
    if idempotency_key:
        made = await idempotency.claim(session, user_id=viewer.id, key=idempotency_key)
    if made is None:
        made, _ = await _create(session, jobs, viewer, body)
        if idempotency_key:
            await idempotency.remember(session, user_id=viewer.id, key=idempotency_key, status_id=made)
    status, _, _ = await find_status(request, session, made, viewer)
    return JSONResponse(status)


@router.get("/api/v1/statuses/{status_id}")
@reads_only
async def get_status(status_id: str, request: Request, session: SessionDep, viewer: ReadStatuses) -> Response:
    status, _, _ = await find_status(request, session, status_id_of(status_id), viewer)
    return JSONResponse(status)


class StatusEdit(Params):
    status: str = ""
    visibility: str | None = Field(default=None, max_length=20)
    spoiler_text: str = ""
    media_ids: list[str] = Field(default_factory=list)
    poll: dict[str, Any] | None = None


@router.put("/api/v1/statuses/{status_id}")
async def edit_status(
    status_id: str,
    request: Request,
    body: Annotated[StatusEdit, Depends(params(StatusEdit))],
    session: SessionDep,
    viewer: WriteStatuses,
) -> Response:
    found = status_id_of(status_id)
    _, _, is_comment = await find_status(request, session, found, viewer)
    if is_comment:
        raise Disabled("Replies cannot be edited on this server")
    _only_public(body)
    if body.media_ids or body.poll:
        raise Disabled("This server does not support media attachments or polls")
    await posts_service.edit_post(
        session, post_id=found, editor_id=viewer.id, content=_content(body.status, reply=False)
    )
    status, _, _ = await find_status(request, session, found, viewer)
    return JSONResponse(status)


@router.delete("/api/v1/statuses/{status_id}")
async def delete_status(status_id: str, request: Request, session: SessionDep, viewer: WriteStatuses) -> Response:
    found = status_id_of(status_id)
    status, row, is_comment = await find_status(request, session, found, viewer)
    if is_comment:
        try:
            await interactions_service.delete_comment(session, comment_id=found, user_id=viewer.id)
        except CommentNotFound:
            raise RecordNotFound("Record not found") from None
    else:
        await posts_service.delete_post(session, post_id=found, user_id=viewer.id)
    # Mastodon answers with the deleted status and its source text (clients offer "delete and redraft").
    return JSONResponse({**status, "text": row.content, "spoiler_text": ""})


@router.get("/api/v1/statuses/{status_id}/source")
@reads_only
async def status_source(
    status_id: str, request: Request, session: SessionDep, viewer: Annotated[Viewer, Depends(user("read:statuses"))]
) -> Response:
    _, row, _ = await find_status(request, session, status_id_of(status_id), viewer)
    return JSONResponse({"id": status_id, "text": row.content, "spoiler_text": ""})


@router.get("/api/v1/statuses/{status_id}/context")
@reads_only
async def context(status_id: str, request: Request, session: SessionDep, viewer: ReadStatuses) -> Response:
    found = status_id_of(status_id)
    _, row, is_comment = await find_status(request, session, found, viewer)
    if is_comment:
        post, _, _ = await find_status(request, session, int(row.post_id), viewer)
        return JSONResponse({"ancestors": [post], "descendants": []})
    rows = await interactions_service.comments_with_authors(
        session, post_id=found, viewer_id=viewer.id if viewer else None, after=None, limit=CONTEXT_REPLIES
    )
    replies = comment_statuses(base_url(request), rows[:CONTEXT_REPLIES], signed_in=viewer is not None)
    return JSONResponse({"ancestors": [], "descendants": replies})


async def _like(
    request: Request, session: SessionDep, status_id: str, viewer: Viewer, jobs: JobsDep | None
) -> Response:
    found = status_id_of(status_id)
    _, _, is_comment = await find_status(request, session, found, viewer)
    if is_comment:
        raise Disabled("Replies cannot be favourited on this server")
    try:
        if jobs is not None:
            await interactions_service.like(session, jobs, post_id=found, user_id=viewer.id)
        else:
            await interactions_service.unlike(session, post_id=found, user_id=viewer.id)
    except PostNotFound:
        raise RecordNotFound("Record not found") from None
    status, _, _ = await find_status(request, session, found, viewer)
    return JSONResponse(status)


@router.post("/api/v1/statuses/{status_id}/favourite")
async def favourite(
    status_id: str, request: Request, session: SessionDep, jobs: JobsDep, viewer: Favouriter
) -> Response:
    return await _like(request, session, status_id, viewer, jobs)


@router.post("/api/v1/statuses/{status_id}/unfavourite")
async def unfavourite(status_id: str, request: Request, session: SessionDep, viewer: Favouriter) -> Response:
    return await _like(request, session, status_id, viewer, None)


@router.get("/api/v1/statuses/{status_id}/favourited_by")
@reads_only
async def favourited_by(
    status_id: str,
    request: Request,
    session: SessionDep,
    viewer: ReadStatuses,
    w: LongWindow,
) -> Response:
    found = status_id_of(status_id)
    try:
        likers, cursor = await interactions_service.likers_page(
            session, post_id=found, viewer_id=viewer.id if viewer else None, before=w.before, limit=w.limit
        )
    except PostNotFound:
        await find_status(request, session, found, viewer)  # a comment: nobody (404 if neither)
        return JSONResponse([])
    return await account_page(request, session, [liker.id for liker in likers], cursor)  # paged by the like's id


async def account_page(request: Request, session: AsyncSession, user_ids: list[int], cursor: str | None) -> Response:
    """Accounts in a list paged by another row's id (a follow's, a like's), as Mastodon pages
    them: the next page's `max_id` is that row's id (the native cursor's key)."""
    users = await users_service.get_many(session, user_ids=user_ids)
    base = base_url(request)
    response = JSONResponse([entities.account_of(base, users[user_id]) for user_id in user_ids if user_id in users])
    if cursor is not None:
        oldest = str(decode_id_cursor(cursor))
        link(request, response, newest=oldest, oldest=oldest, prev=False)
    return response


async def posts_page(
    request: Request, session: AsyncSession, *, author_id: int | None, viewer: Viewer | None, w: Window
) -> Response:
    """A page of one author's posts (everyone's without one) in the window, as Statuses."""
    rows = await posts_service.posts_with_authors(
        session,
        author_id=author_id,
        viewer_id=viewer.id if viewer else None,
        before=w.before,
        after=w.after,
        upwards=w.upwards,
        limit=w.limit,
    )
    return post_statuses(request, page(rows, w))


@router.get("/api/v1/statuses/{status_id}/reblogged_by")
@reads_only
async def reblogged_by(status_id: str, request: Request, session: SessionDep, viewer: ReadStatuses) -> Response:
    await find_status(request, session, status_id_of(status_id), viewer)
    return JSONResponse([])


@router.post("/api/v1/statuses/{status_id}/reblog")
@router.post("/api/v1/statuses/{status_id}/unreblog")
async def reblog(status_id: str, viewer: WriteStatuses) -> Response:
    raise Disabled("This server does not support boosts")


@router.post("/api/v1/statuses/{status_id}/bookmark")
@router.post("/api/v1/statuses/{status_id}/unbookmark")
@router.post("/api/v1/statuses/{status_id}/pin")
@router.post("/api/v1/statuses/{status_id}/unpin")
@router.post("/api/v1/statuses/{status_id}/mute")
@router.post("/api/v1/statuses/{status_id}/unmute")
async def not_here(status_id: str, viewer: WriteStatuses) -> Response:
    raise Disabled("This server does not support bookmarks, pins or conversation mutes")
