"""Search: `/api/v2/search` over our search of users and posts (no hashtags here), paged by
`offset` as Mastodon's clients page it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth.dependencies import Viewer
from townsquare.db.session import SessionDep, reads_only
from townsquare.mastodon import entities
from townsquare.mastodon.auth import maybe_user
from townsquare.mastodon.entities import Json
from townsquare.mastodon.errors import Unprocessable
from townsquare.mastodon.instance import base_url
from townsquare.mastodon.statuses import statuses_by_ids
from townsquare.search import service as search_service
from townsquare.search.schemas import SearchType

router = APIRouter()

MAX_QUERY = 100  # as the native search; longer (a URL to resolve, say) finds nothing here
# offset + limit: results are ranked among the best few hundred anyway.
DEEPEST = 400


@router.get("/api/v2/search")
@router.get("/api/v1/search")
@reads_only
async def search(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer | None, Depends(maybe_user("read:search"))],
    q: Annotated[str, Query(max_length=2000)] = "",
    kind: Annotated[str | None, Query(alias="type", max_length=20)] = None,
    limit: Annotated[str | None, Query(max_length=10)] = None,
    offset: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    wanted: SearchType = {"accounts": "users", "statuses": "posts"}.get(kind or "", "all")  # type: ignore[assignment]
    if kind == "hashtags":
        return JSONResponse({"accounts": [], "statuses": [], "hashtags": []})
    accounts, statuses = await find(
        base_url(request), session, q=q, wanted=wanted, limit=limit, offset=offset, viewer=viewer
    )
    return JSONResponse({"accounts": accounts, "statuses": statuses, "hashtags": []})


async def find(
    base: str,
    session: AsyncSession,
    *,
    q: str,
    wanted: SearchType,
    limit: str | None,
    offset: str | None,
    viewer: Viewer | None,
) -> tuple[list[Json], list[Json]]:
    """(accounts, statuses) matching `q`, a page of `limit` after `offset` (of one kind past
    the first page), through the native search."""
    try:
        count = max(1, min(int(limit or 20), 40))
        skip = max(0, int(offset or 0))
    except ValueError:
        raise Unprocessable("limit and offset must be numbers") from None
    text = q.strip()
    if not text or len(text) > MAX_QUERY or "\x00" in text or skip + count > DEEPEST:
        return [], []
    if wanted == "all" and skip:
        wanted = "users"  # a page past the first is of one kind; accounts, as Mastodon.py expects
    found = await search_service.search(
        session, q=text, kind=wanted, cursor=None, limit=skip + count, viewer_id=viewer.id if viewer else None
    )
    accounts = [
        entities.account(
            base, u.id, u.username, u.bio, u.created_at, u.followers_count, u.following_count, u.posts_count
        )
        for u in found.users[skip : skip + count]
    ]
    post_ids = [post.id for post in found.posts[skip : skip + count]]
    by_id = await statuses_by_ids(base, session, post_ids, viewer)
    return accounts, [by_id[post_id] for post_id in post_ids if post_id in by_id]
