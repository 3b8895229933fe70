"""What Mastodon apps ask for at start-up and this server does not have: answered as Mastodon
answers for a feature that is empty or off, so that no app stops on a 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from townsquare.auth.dependencies import Viewer
from townsquare.db.session import reads_only
from townsquare.mastodon.auth import maybe_user, user
from townsquare.mastodon.errors import Disabled, RecordNotFound

router = APIRouter()

# Each under the scope Mastodon reads it with: a token with granular scopes must not be refused.
EMPTY_LISTS = {
    "/api/v1/lists": "read:lists",
    "/api/v1/filters": "read:filters",
    "/api/v2/filters": "read:filters",
    "/api/v1/announcements": "read",
    "/api/v1/followed_tags": "read:follows",
    "/api/v1/follow_requests": "read:follows",
    "/api/v1/bookmarks": "read:bookmarks",
    "/api/v1/scheduled_statuses": "read:statuses",
    "/api/v1/conversations": "read:statuses",
    "/api/v1/endorsements": "read:accounts",
    "/api/v1/domain_blocks": "read:blocks",
    "/api/v1/suggestions": "read",
    "/api/v2/suggestions": "read",
    "/api/v1/featured_tags": "read:accounts",
    "/api/v1/accounts/{account}/featured_tags": "read:accounts",
    "/api/v1/accounts/{account}/lists": "read:lists",
    "/api/v1/accounts/{account}/identity_proofs": "read:accounts",
    # Blocks and mutes: not yet here (a later issue adds them to both APIs).
    "/api/v1/blocks": "read:blocks",
    "/api/v1/mutes": "read:mutes",
}


def _empty(scope: str):  # type: ignore[no-untyped-def]
    # A default, not an annotation: annotations are strings here, resolved without this scope.
    async def empty(viewer: Viewer = Depends(user(scope))) -> Response:  # noqa: B008
        return JSONResponse([])

    return reads_only(empty)


for _path, _scope in EMPTY_LISTS.items():
    router.add_api_route(_path, _empty(_scope), methods=["GET"])


@router.get("/api/v1/custom_emojis")
@router.get("/api/v1/trends")
@router.get("/api/v1/trends/tags")
@router.get("/api/v1/trends/statuses")
@router.get("/api/v1/trends/links")
@router.get("/api/v1/directory")
@reads_only
async def public_empty(viewer: Annotated[Viewer | None, Depends(maybe_user("read"))]) -> Response:
    return JSONResponse([])


@router.get("/api/v1/preferences")
@reads_only
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
@reads_only
async def push_subscription(viewer: Annotated[Viewer, Depends(user("push"))]) -> Response:
    raise RecordNotFound("Record not found")  # no Web Push here; Elk expects the 404


@router.get("/api/v1/streaming/health")
@reads_only
async def streaming_health() -> Response:
    return Response("OK", media_type="text/plain")


@router.post("/api/v1/media")
@router.post("/api/v2/media")
async def media(viewer: Annotated[Viewer, Depends(user("write:media"))]) -> Response:
    raise Disabled("This server does not support media attachments")
