"""Profiles with their posts, followers and following lists, following, editing your own
profile, and search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import DomainError
from townsquare.posts import service as posts_service
from townsquare.safety import service as safety_service
from townsquare.search import service as search_service
from townsquare.users import service as users_service
from townsquare.users.errors import UserNotFound
from townsquare.users.schemas import ProfileUpdate
from townsquare.web.render import (
    FORM,
    MAX_BIO,
    PAGE_SIZE,
    TEXT,
    Acting,
    before,
    error_page,
    first_problem,
    go,
    message,
    not_found,
    page,
)
from townsquare.web.session import MaybeSignedIn, WebSession
from townsquare.worker.dependencies import JobsDep

router = APIRouter(include_in_schema=False)


async def _profile(
    request: Request,
    session: SessionDep,
    web: WebSession | None,
    user_id: int,
    cursor: str | None = None,
    status: int = 200,
    error: str | None = None,
) -> Response:
    viewer_id = web.viewer.id if web else None
    try:
        user, followed = await users_service.get_profile(session, user_id=user_id, viewer_id=viewer_id)
    except UserNotFound:  # a block between you: as if there were no such account
        return not_found(request, web, "account")
    posts, next_cursor = await posts_service.author_page(
        session, author_id=user.id, viewer_id=viewer_id, before=before(cursor), limit=PAGE_SIZE
    )
    relation = None
    if viewer_id is not None and viewer_id != user.id:
        relation = (await safety_service.relations(session, viewer_id=viewer_id, user_ids=[user.id])).get(user.id)
    return page(
        request,
        "profile.html",
        status,
        web=web,
        user=user,
        followed=followed,
        muted=relation is not None and relation.muting,
        reported=request.query_params.get("reported") == "1",
        posts=posts,
        next_cursor=next_cursor,
        error=error,
    )


@router.get("/@{username}", response_class=HTMLResponse)
@reads_only
async def profile(
    request: Request, username: str, session: SessionDep, web: MaybeSignedIn, cursor: str | None = None
) -> Response:
    found = await users_service.find_by_username(session, username)
    if found is None:
        return not_found(request, web, "account")
    return await _profile(request, session, web, found.id, cursor)


@router.get("/@{username}/followers", response_class=HTMLResponse)
@router.get("/@{username}/following", response_class=HTMLResponse)
@reads_only
async def follow_list(
    request: Request, username: str, session: SessionDep, web: MaybeSignedIn, cursor: str | None = None
) -> Response:
    found = await users_service.find_by_username(session, username)
    if found is None:
        return not_found(request, web, "account")
    followers = request.url.path.endswith("/followers")
    try:
        people, next_cursor = await users_service.follow_page(
            session,
            user_id=found.id,
            viewer_id=web.viewer.id if web else None,
            followers=followers,
            before=before(cursor),
            limit=PAGE_SIZE,
        )
    except UserNotFound:  # a block between you
        return not_found(request, web, "account")
    return page(
        request,
        "people.html",
        web=web,
        user=found,
        followers=followers,
        people=people,
        next_cursor=next_cursor,
        path=request.url.path,
    )


@router.post("/@{username}/follow")
@router.post("/@{username}/unfollow")
async def follow(
    request: Request,
    username: str,
    session: SessionDep,
    jobs: JobsDep,
    signed_in: Acting,
) -> Response:
    user = await users_service.find_by_username(session, username)
    if user is None:
        return not_found(request, signed_in, "account")
    try:
        if request.url.path.endswith("/follow"):
            await users_service.follow(session, jobs, follower_id=signed_in.viewer.id, followed_id=user.id)
        else:
            await users_service.unfollow(session, follower_id=signed_in.viewer.id, followed_id=user.id)
    except DomainError as error:  # following yourself
        return error_page(request, signed_in, error.status, message(error))
    return go(f"/@{user.username}")


@router.post("/@{username}/profile", response_class=HTMLResponse)
async def edit_profile(
    request: Request,
    username: str,
    session: SessionDep,
    signed_in: Acting,
    new_username: FORM = "",
    bio: TEXT = "",
) -> Response:
    user = await users_service.find_by_username(session, username)
    if user is None:
        return not_found(request, signed_in, "account")
    user_id = user.id
    try:
        if len(bio) > MAX_BIO:
            return await _profile(
                request, session, signed_in, user_id, status=422, error=f"A bio holds at most {MAX_BIO} characters."
            )
        changes = ProfileUpdate(username=new_username.strip() or user.username, bio=bio)
        user = await users_service.update_profile(
            session, user_id=user.id, editor_id=signed_in.viewer.id, changes=changes
        )
    except ValidationError as error:
        return await _profile(request, session, signed_in, user_id, status=422, error=first_problem(error))
    except DomainError as error:  # not yours; the username is taken
        await session.rollback()  # the failed write ended the transaction; the page reads anew
        return await _profile(request, session, signed_in, user_id, status=error.status, error=message(error))
    return go(f"/@{user.username}")


@router.get("/explore", response_class=HTMLResponse)
@reads_only
async def explore(
    request: Request, session: SessionDep, web: MaybeSignedIn, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    text = q.strip()
    if not text or len(text) > 100 or "\x00" in text:
        return page(request, "explore.html", web=web, q=text[:100])
    found = await search_service.search(
        session, q=text, kind="all", cursor=None, limit=PAGE_SIZE, viewer_id=web.viewer.id if web else None
    )
    posts = [post.model_dump(mode="json", exclude_none=True) for post in found.posts]
    return page(request, "explore.html", web=web, q=text, users=found.users, posts=posts)
