from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from townsquare.auth.dependencies import CurrentViewer, Viewer, ViewerByHeaderOrQuery
from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import InvalidRequest, problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit, Page
from townsquare.notifications import service
from townsquare.notifications.schemas import MarkRead, NotificationView, ReadResult, UnreadCount
from townsquare.notifications.stream import NotificationStream
from townsquare.users.dependencies import UserRef, resolve_user

router = APIRouter(prefix="/users/{user_id}/notifications", tags=["notifications"], route_class=DocumentedRoute)


def _owned(user_id: str, viewer: Viewer) -> int:
    owner_id = resolve_user(user_id, viewer)
    service.ensure_owner(owner_id, viewer.id)
    return owner_id


@router.get("", response_model=Page[NotificationView], responses=problem_docs(401, 403, 404))
@reads_only
async def notifications(
    user_id: UserRef,
    session: SessionDep,
    viewer: CurrentViewer,
    unread: Annotated[bool, Query(description="Only unread notifications.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[NotificationView]:
    """Your notifications, newest action first."""
    items, next_cursor = await service.page(
        session, user_id=_owned(user_id, viewer), unread=unread, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/unread_count", response_model=UnreadCount, responses=problem_docs(401, 403, 404))
@reads_only
async def unread_count(user_id: UserRef, session: SessionDep, viewer: CurrentViewer) -> UnreadCount:
    """How many of your notifications are unread."""
    return UnreadCount(count=await service.unread_count(session, user_id=_owned(user_id, viewer)))


@router.post("/read", response_model=ReadResult, responses=problem_docs(401, 403, 404))
async def mark_read(user_id: UserRef, body: MarkRead, session: SessionDep, viewer: CurrentViewer) -> ReadResult:
    """Mark chosen notifications (`ids`), or all of them (`all: true`), read."""
    owner_id = _owned(user_id, viewer)
    ids = None if body.ids is None else [_notification_id(raw) for raw in body.ids]
    return ReadResult(updated=await service.mark_read(session, user_id=owner_id, ids=ids))


def _notification_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise InvalidRequest("Not a notification id.", loc=("body", "ids"))
    return value


async def _stream_owner(user_id: UserRef, viewer: ViewerByHeaderOrQuery) -> Viewer:
    # Checked before the stream starts, so that refusals are ordinary problem answers.
    _owned(user_id, viewer)
    return viewer


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"description": "One `notification` event per new notification; comment lines as heartbeats."},
        **problem_docs(401, 403, 404),
    },
)
@reads_only
async def stream(
    request: Request,
    viewer: Annotated[Viewer, Depends(_stream_owner)],
    last_event_id: Annotated[
        str | None, Header(max_length=20, description="Sent by EventSource on reconnection: resume after it.")
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Your new notifications as Server-Sent Events, live.

    Each `notification` event's data is a Notification and its id the notification's id; a
    reconnecting client (`Last-Event-ID`) first gets what it missed. The stream ends with an
    `end` event when the access token expires or its session ends (log out): reconnect with a
    fresh token; and when the server stops (reconnect: another process takes over). The token
    may come as `?access_token=` for browsers' EventSource. Clients should drop an event whose
    id they already have: rarely, after a reconnection, one comes twice."""
    stream = NotificationStream(
        hub=request.app.state.hub,
        database=request.app.state.database,
        user_id=viewer.id,
        session_id=viewer.session_id,
        token_expires_at=viewer.token_expires_at,
        heartbeat_seconds=request.app.state.settings.notifications.stream_heartbeat_seconds,
        last_event_id=parse_id(last_event_id) if last_event_id else None,
    )
    async for event in stream.events():
        yield event
