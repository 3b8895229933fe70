from fastapi import APIRouter, Response

from townsquare.auth.dependencies import UncheckedViewer
from townsquare.db.session import HotReadsDep
from townsquare.feed import service
from townsquare.kit.errors import problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit, Page, decode_id_cursor
from townsquare.kit.responses import PreparedJSONResponse
from townsquare.posts.schemas import PostView

router = APIRouter(tags=["feed"], route_class=DocumentedRoute)


@router.get("/feed", response_model=Page[PostView], responses=problem_docs(401))
async def home_feed(
    reads: HotReadsDep, viewer: UncheckedViewer, limit: Limit = DEFAULT_LIMIT, cursor: CursorParam = None
) -> Response:
    """Your home feed: posts of everyone you follow and your own, newest first."""
    # One statement: the page, gated on the token's session (auth.gate).
    items, next_cursor = await service.home_page(
        reads, viewer_id=viewer.id, session_id=viewer.session_id, before=decode_id_cursor(cursor), limit=limit
    )
    return PreparedJSONResponse({"items": items, "next_cursor": next_cursor})
