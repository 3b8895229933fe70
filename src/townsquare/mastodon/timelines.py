"""Timelines: home (our feed, fan-out on read) and the local public timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from townsquare.auth.dependencies import Viewer
from townsquare.db.session import SessionDep, reads_only
from townsquare.feed import service as feed_service
from townsquare.mastodon.auth import maybe_user, user
from townsquare.mastodon.paging import StatusWindow, page
from townsquare.mastodon.statuses import post_statuses, posts_page

router = APIRouter()


@router.get("/api/v1/timelines/home")
@reads_only
async def home(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, Depends(user("read:statuses"))],
    w: StatusWindow,
) -> Response:
    rows = await feed_service.home_rows_with_authors(
        session, viewer_id=viewer.id, before=w.before, after=w.after, upwards=w.upwards, limit=w.limit
    )
    return post_statuses(request, page(rows, w))


@router.get("/api/v1/timelines/public")
@reads_only
async def public(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer | None, Depends(maybe_user("read:statuses"))],
    w: StatusWindow,
    remote: bool = False,
    only_media: bool = False,
) -> Response:
    """Every post, newest first: all of them are local (`local` changes nothing), and none is
    remote or has media."""
    if remote or only_media:
        return JSONResponse([])
    return await posts_page(request, session, author_id=None, viewer=viewer, w=w)


@router.get("/api/v1/timelines/tag/{hashtag}")
@router.get("/api/v1/timelines/list/{list_id}")
@reads_only
async def no_timeline(viewer: Annotated[Viewer | None, Depends(maybe_user("read:statuses"))]) -> Response:
    """Hashtags and lists do not exist here: always empty."""
    return JSONResponse([])
