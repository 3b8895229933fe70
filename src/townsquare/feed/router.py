from fastapi import APIRouter, Response

from townsquare.auth.dependencies import UncheckedViewer, Viewer, hot_unchecked_viewer
from townsquare.db.hot import HotReads
from townsquare.db.session import HotReadsDep, hot_reads_of, reads_only
from townsquare.feed import service
from townsquare.kit.errors import problem_docs
from townsquare.kit.hot_routes import HotRequest, HotRoute, NotPlain
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import (
    DEFAULT_LIMIT,
    CursorParam,
    Limit,
    Page,
    decode_id_cursor,
    plain_cursor,
    plain_limit,
)
from townsquare.kit.responses import PreparedJSONResponse
from townsquare.posts.schemas import PostView

router = APIRouter(tags=["feed"], route_class=DocumentedRoute)


@router.get("/feed", response_model=Page[PostView], responses=problem_docs(401))
@reads_only
async def home_feed(
    reads: HotReadsDep, viewer: UncheckedViewer, limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None
) -> Response:
    """Your home feed: posts of everyone you follow and your own, newest first."""
    return await _home_feed(reads, viewer, cursor=cursor, limit=limit)


async def _hot_home_feed(request: HotRequest) -> Response:
    viewer = hot_unchecked_viewer(request)
    if viewer is None:
        raise NotPlain()  # the route's 401 says a token is needed
    limit = plain_limit(request)
    return await _home_feed(hot_reads_of(request.app), viewer, cursor=plain_cursor(request), limit=limit)


async def _home_feed(reads: HotReads, viewer: Viewer, *, cursor: str | None, limit: int) -> Response:
    # One statement: the page, gated on the token's session (auth.gate).
    items, next_cursor = await service.home_page(
        reads, viewer_id=viewer.id, session_id=viewer.session_id, before=decode_id_cursor(cursor), limit=limit
    )
    return PreparedJSONResponse({"items": items, "next_cursor": next_cursor})


HOT_ROUTES = (HotRoute("/feed", _hot_home_feed),)
