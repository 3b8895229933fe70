"""Notifications and the notifications read marker.

Our types in Mastodon's names: a like is a `favourite`, a comment on your post a `mention`
(with the comment as a reply status), a follow a `follow`. Mastodon has no per-notification
read flag; its clients keep a marker (the last notification read), which maps onto our flags
both ways: setting the marker marks it and everything before it read, and the marker read back
is the newest notification with no unread one before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth.dependencies import Viewer
from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.schemas import format_timestamp
from townsquare.mastodon import entities
from townsquare.mastodon.auth import user
from townsquare.mastodon.entities import OUR_TYPES, Json
from townsquare.mastodon.errors import RecordNotFound
from townsquare.mastodon.instance import base_url
from townsquare.mastodon.paging import LongWindow, link, page
from townsquare.mastodon.params import Params, params
from townsquare.mastodon.statuses import statuses_by_ids
from townsquare.notifications import service as notifications_service
from townsquare.notifications.errors import NotificationNotFound
from townsquare.notifications.schemas import NotificationType, NotificationView
from townsquare.users import service as users_service

router = APIRouter()

ReadNotifications = Annotated[Viewer, Depends(user("read:notifications"))]
WriteNotifications = Annotated[Viewer, Depends(user("write:notifications"))]
TypesQuery = Annotated[list[str], Query(alias="types[]", max_length=20)]
ExcludeQuery = Annotated[list[str], Query(alias="exclude_types[]", max_length=20)]


def _our_types(types: list[str], exclude: list[str]) -> list[NotificationType] | None:
    """The filter in our names; None for no filter. Types we never make just match nothing."""
    if not types and not exclude:
        return None
    chosen: list[NotificationType] = (
        [OUR_TYPES[name] for name in types if name in OUR_TYPES] if types else list(OUR_TYPES.values())
    )
    return [kind for kind in chosen if kind not in {OUR_TYPES.get(name) for name in exclude}]


async def render(base: str, session: AsyncSession, items: list[NotificationView], viewer: Viewer) -> list[Json]:
    """Notifications with their actors' accounts and their statuses, in three queries a page."""
    actors = await users_service.get_many(session, user_ids=[item.actor.id for item in items])
    wanted = [item.comment_id if item.type == "comment" else item.post_id for item in items]
    statuses = await statuses_by_ids(base, session, [status for status in wanted if status is not None], viewer)
    found = []
    for item, status_id in zip(items, wanted, strict=True):
        actor = actors.get(item.actor.id)
        status = statuses.get(status_id) if status_id is not None else None
        if actor is None or (status_id is not None and status is None):
            continue  # went away between the two reads
        found.append(entities.notification(item, entities.account_of(base, actor), status))
    return found


@router.get("/api/v1/notifications")
@reads_only
async def notifications(
    request: Request,
    session: SessionDep,
    viewer: ReadNotifications,
    w: LongWindow,
    types: TypesQuery = [],  # noqa: B006 - FastAPI copies defaults
    exclude_types: ExcludeQuery = [],  # noqa: B006
) -> Response:
    kinds = _our_types(types, exclude_types)
    if kinds == []:
        return JSONResponse([])
    # Lists are ordered by the time of the action: an id is looked up for its place in them.
    before = await _position(session, viewer, w.before)
    after = await _position(session, viewer, w.after)
    rows = await notifications_service.between(
        session, user_id=viewer.id, before=before, after=after, upwards=w.upwards, types=kinds, limit=w.limit
    )
    items = page(rows, w)
    response = JSONResponse(await render(base_url(request), session, items, viewer))
    if items:
        link(request, response, newest=str(items[0].id), oldest=str(items[-1].id))
    return response


async def _position(session: SessionDep, viewer: Viewer, notification_id: int | None) -> tuple[datetime, int] | None:
    if notification_id is None:
        return None
    return await notifications_service.position(session, user_id=viewer.id, notification_id=notification_id)


@router.get("/api/v1/notifications/unread_count")
@router.get("/api/v2/notifications/unread_count")
@reads_only
async def unread_count(session: SessionDep, viewer: ReadNotifications) -> Response:
    return JSONResponse({"count": await notifications_service.unread_count(session, user_id=viewer.id)})


@router.get("/api/v1/notifications/{notification_id}")
@reads_only
async def notification(
    notification_id: str, request: Request, session: SessionDep, viewer: ReadNotifications
) -> Response:
    found = parse_id(notification_id)
    try:
        item = await notifications_service.get(session, user_id=viewer.id, notification_id=found or 0)
    except NotificationNotFound:
        raise RecordNotFound("Record not found") from None
    rendered = await render(base_url(request), session, [item], viewer)
    if not rendered:
        raise RecordNotFound("Record not found")
    return JSONResponse(rendered[0])


@router.post("/api/v1/notifications/clear")
async def clear(session: SessionDep, viewer: WriteNotifications) -> Response:
    await notifications_service.dismiss(session, user_id=viewer.id, notification_id=None)
    return JSONResponse({})


@router.post("/api/v1/notifications/{notification_id}/dismiss")
async def dismiss(notification_id: str, session: SessionDep, viewer: WriteNotifications) -> Response:
    found = parse_id(notification_id)
    if found is None or not await notifications_service.dismiss(session, user_id=viewer.id, notification_id=found):
        raise RecordNotFound("Record not found")
    return JSONResponse({})


# --- markers ------------------------------------------------------------------------------


async def _markers(session: SessionDep, viewer: Viewer, timelines: list[str]) -> Json:
    found: Json = {}
    if "notifications" in timelines:
        last = await notifications_service.last_read(session, user_id=viewer.id)
        unread = await notifications_service.unread_count(session, user_id=viewer.id)
        if last is not None:
            last_id, at = last
            # The version goes up whenever the marker moves, as Mastodon's lock version does.
            found["notifications"] = {
                "last_read_id": str(last_id),
                "version": last_id >> 16,
                "updated_at": format_timestamp(at),
                "unread_count": unread,
            }
    return found


@router.get("/api/v1/markers")
@reads_only
async def markers(
    session: SessionDep,
    viewer: Annotated[Viewer, Depends(user("read:statuses"))],
    timeline: Annotated[list[str], Query(alias="timeline[]", max_length=5)] = [],  # noqa: B006
) -> Response:
    """Only the notifications marker exists here (no home marker is kept)."""
    return JSONResponse(await _markers(session, viewer, timeline))


class MarkerWrite(Params):
    notifications: dict[str, str] | None = None
    home: dict[str, str] | None = None


@router.post("/api/v1/markers")
async def set_markers(
    body: Annotated[MarkerWrite, Depends(params(MarkerWrite))],
    session: SessionDep,
    viewer: Annotated[Viewer, Depends(user("write:statuses"))],
) -> Response:
    last_read = parse_id((body.notifications or {}).get("last_read_id", ""))
    if last_read is not None:
        await notifications_service.mark_read_through(session, user_id=viewer.id, notification_id=last_read)
    return JSONResponse(await _markers(session, viewer, ["notifications"]))
