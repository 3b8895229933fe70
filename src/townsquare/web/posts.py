"""The home feed, writing, editing and deleting posts, post pages with their comments, likes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from townsquare.db.ids import parse_id
from townsquare.db.session import HotReadsDep, SessionDep, reads_only
from townsquare.feed import service as feed_service
from townsquare.interactions import service as interactions_service
from townsquare.interactions.schemas import CommentWrite
from townsquare.kit.errors import DomainError
from townsquare.posts import service as posts_service
from townsquare.posts.errors import PostNotFound
from townsquare.posts.schemas import PostWrite
from townsquare.web.render import (
    MAX_COMMENT,
    MAX_POST,
    PAGE_SIZE,
    TEXT,
    Acting,
    before,
    error_page,
    go,
    message,
    not_found,
    page,
    same_site_path,
    wants_fragment,
)
from townsquare.web.session import MaybeSignedIn, WebSession
from townsquare.worker.dependencies import JobsDep

router = APIRouter(include_in_schema=False)
COMMENTS_SHOWN = 100


@router.get("/", response_class=HTMLResponse)
@reads_only
async def home(request: Request, reads: HotReadsDep, web: MaybeSignedIn, cursor: str | None = None) -> Response:
    if web is None:
        return page(request, "signin.html")
    posts, next_cursor = await feed_service.home_page(
        reads, viewer_id=web.viewer.id, before=before(cursor), limit=PAGE_SIZE
    )
    return page(request, "home.html", web=web, posts=posts, next_cursor=next_cursor, more=cursor is not None)


def _post_problem(content: str) -> str:
    return "Write something first." if not content.strip() else f"A post holds at most {MAX_POST} characters."


@router.post("/compose", response_class=HTMLResponse)
async def compose(
    request: Request, session: SessionDep, reads: HotReadsDep, signed_in: Acting, content: TEXT = ""
) -> Response:
    try:
        body = PostWrite(content=content)
    except ValidationError:
        posts, next_cursor = await feed_service.home_page(
            reads, viewer_id=signed_in.viewer.id, before=None, limit=PAGE_SIZE
        )
        return page(
            request,
            "home.html",
            422,
            web=signed_in,
            posts=posts,
            next_cursor=next_cursor,
            error=_post_problem(content),
            draft=content,
        )
    await posts_service.create_post(session, author_id=signed_in.viewer.id, content=body.content)
    return go("/")


async def _thread(
    request: Request, session: SessionDep, web: WebSession | None, post_id: int, status: int = 200
) -> Response:
    """A post and its comments: the post page, or (web.js, after a comment) its thread part."""
    try:
        post = await posts_service.get_post_json(session, post_id=post_id, viewer_id=web.viewer.id if web else None)
        comments, _ = await interactions_service.comments_page(
            session, post_id=post_id, viewer_id=web.viewer.id if web else None, after=None, limit=COMMENTS_SHOWN
        )
    except PostNotFound:
        return not_found(request, web, "post")
    name = "_thread.html" if wants_fragment(request) else "post.html"
    return page(request, name, status, web=web, post=post, comments=comments)


@router.get("/@{username}/{post_id}", response_class=HTMLResponse)
@reads_only
async def post_page(request: Request, username: str, post_id: str, session: SessionDep, web: MaybeSignedIn) -> Response:
    return await _thread(request, session, web, parse_id(post_id) or 0)


@router.post("/@{username}/{post_id}/like")
@router.post("/@{username}/{post_id}/unlike")
async def like(
    request: Request,
    username: str,
    post_id: str,
    session: SessionDep,
    jobs: JobsDep,
    signed_in: Acting,
) -> Response:
    found = parse_id(post_id) or 0
    try:
        if request.url.path.endswith("/like"):
            await interactions_service.like(session, jobs, post_id=found, user_id=signed_in.viewer.id)
        else:
            await interactions_service.unlike(session, post_id=found, user_id=signed_in.viewer.id)
        if wants_fragment(request):  # web.js swaps the card: the new count, the other button
            post = await posts_service.get_post_json(session, post_id=found, viewer_id=signed_in.viewer.id)
            return page(request, "_card.html", web=signed_in, post=post)
    except PostNotFound:
        return not_found(request, signed_in, "post")
    return go(same_site_path(request) or f"/@{username}/{found}#post-{found}")


@router.post("/@{username}/{post_id}/comment", response_class=HTMLResponse)
async def comment(
    request: Request,
    username: str,
    post_id: str,
    session: SessionDep,
    jobs: JobsDep,
    signed_in: Acting,
    content: TEXT = "",
) -> Response:
    found = parse_id(post_id) or 0
    try:
        body = CommentWrite(content=content)
    except ValidationError:
        return error_page(request, signed_in, 422, f"A comment holds 1 to {MAX_COMMENT} characters.")
    try:
        await interactions_service.add_comment(
            session, jobs, post_id=found, author_id=signed_in.viewer.id, content=body.content
        )
    except PostNotFound:
        return not_found(request, signed_in, "post")
    if wants_fragment(request):
        return await _thread(request, session, signed_in, found)
    return go(f"/@{username}/{found}")


@router.get("/@{username}/{post_id}/edit", response_class=HTMLResponse)
@reads_only
async def edit_page(request: Request, username: str, post_id: str, session: SessionDep, web: MaybeSignedIn) -> Response:
    if web is None:
        return go("/signin")
    try:
        post = await posts_service.get_post_json(session, post_id=parse_id(post_id) or 0, viewer_id=web.viewer.id)
    except PostNotFound:
        return not_found(request, web, "post")
    if post["author"]["id"] != web.me:
        return error_page(request, web, 403, "Only its author can edit a post.")
    return page(request, "edit.html", web=web, post=post, draft=post["content"])


@router.post("/@{username}/{post_id}/edit", response_class=HTMLResponse)
async def edit(
    request: Request,
    username: str,
    post_id: str,
    session: SessionDep,
    signed_in: Acting,
    content: TEXT = "",
) -> Response:
    found = parse_id(post_id) or 0
    try:
        post = await posts_service.get_post_json(session, post_id=found, viewer_id=signed_in.viewer.id)
        body = PostWrite(content=content)
    except PostNotFound:
        return not_found(request, signed_in, "post")
    except ValidationError:
        return page(request, "edit.html", 422, web=signed_in, post=post, draft=content, error=_post_problem(content))
    try:
        await posts_service.edit_post(session, post_id=found, editor_id=signed_in.viewer.id, content=body.content)
    except DomainError as error:  # not yours
        return error_page(request, signed_in, error.status, message(error))
    return go(f"/@{post['author']['username']}/{found}")


@router.post("/@{username}/{post_id}/delete", response_class=HTMLResponse)
async def delete(
    request: Request,
    username: str,
    post_id: str,
    session: SessionDep,
    signed_in: Acting,
) -> Response:
    found = parse_id(post_id) or 0
    try:
        await posts_service.delete_post(session, post_id=found, user_id=signed_in.viewer.id)
    except DomainError as error:  # no such post; not yours
        return error_page(request, signed_in, error.status, message(error))
    back = same_site_path(request)
    post_path = f"/@{username}/{found}"
    # Back where the button was, unless that was the post's own page, which is gone now.
    return go("/" if back is None or back.split("#")[0] in (post_path, f"{post_path}/edit") else back)
