"""What Mastodon apps ask for at start-up and this server does not have: answered as Mastodon
answers for a feature that is empty or off, so that no app stops on a 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from townsquare.auth.dependencies import Viewer
from townsquare.mastodon.auth import maybe_user, user
from townsquare.mastodon.errors import RecordNotFound

router = APIRouter()

Reader = Annotated[Viewer, Depends(user("read"))]

EMPTY_LISTS = (
    "/api/v1/lists",
    "/api/v1/filters",
    "/api/v2/filters",
    "/api/v1/announcements",
    "/api/v1/followed_tags",
    "/api/v1/follow_requests",
    "/api/v1/bookmarks",
    "/api/v1/scheduled_statuses",
    "/api/v1/conversations",
    "/api/v1/endorsements",
    "/api/v1/domain_blocks",
    "/api/v1/suggestions",
    "/api/v2/suggestions",
    "/api/v1/featured_tags",
    "/api/v1/accounts/{account}/featured_tags",
    "/api/v1/accounts/{account}/lists",
    "/api/v1/accounts/{account}/identity_proofs",
    # Blocks and mutes: not yet here (a later issue adds them to both APIs).
    "/api/v1/blocks",
    "/api/v1/mutes",
)


async def _empty(viewer: Reader) -> Response:
    return JSONResponse([])


for _path in EMPTY_LISTS:
    router.add_api_route(_path, _empty, methods=["GET"])


@router.get("/api/v1/custom_emojis")
@router.get("/api/v1/trends")
@router.get("/api/v1/trends/tags")
@router.get("/api/v1/trends/statuses")
@router.get("/api/v1/trends/links")
@router.get("/api/v1/directory")
async def public_empty(viewer: Annotated[Viewer | None, Depends(maybe_user("read"))]) -> Response:
    return JSONResponse([])


@router.get("/api/v1/preferences")
async def preferences(viewer: Annotated[Viewer, Depends(user("read:accounts"))]) -> Response:
    return JSONResponse(
        {
            "posting:default:visibility": "public",
            "posting:default:sensitive": False,
            "posting:default:language": None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
            "reading:autoplay:gifs": False,
        }
    )


@router.get("/api/v1/push/subscription")
async def push_subscription(viewer: Annotated[Viewer, Depends(user("push"))]) -> Response:
    raise RecordNotFound("Record not found")  # no Web Push here; Elk expects the 404


@router.get("/api/v1/streaming/health")
async def streaming_health() -> Response:
    return Response("OK", media_type="text/plain")
