"""Your notifications: the list, marking them read, and their live stream for the badge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import Unauthorized
from townsquare.kit.pagination import InvalidCursor
from townsquare.notifications import service as notifications_service
from townsquare.notifications.stream import NotificationStream
from townsquare.web.render import FORM, PAGE_SIZE, ActingOnAccount, go, page
from townsquare.web.session import MaybeSignedIn, WebSession

router = APIRouter(include_in_schema=False)


@router.get("/notifications", response_class=HTMLResponse)
@reads_only
async def notifications(
    request: Request, session: SessionDep, web: MaybeSignedIn, cursor: str | None = None
) -> Response:
    if web is None:
        return go("/signin")
    try:
        items, next_cursor = await notifications_service.page(
            session, user_id=web.viewer.id, unread=False, cursor=cursor, limit=PAGE_SIZE
        )
    except InvalidCursor:  # a mangled "load more" link starts from the top
        items, next_cursor = await notifications_service.page(
            session, user_id=web.viewer.id, unread=False, cursor=None, limit=PAGE_SIZE
        )
    return page(request, "notifications.html", web=web, items=items, next_cursor=next_cursor)


@router.post("/notifications/read")
async def mark_read(session: SessionDep, signed_in: ActingOnAccount, id: FORM = "") -> Response:
    """One notification (`id`), or all of them."""
    one = parse_id(id) if id else None
    await notifications_service.mark_read(session, user_id=signed_in.viewer.id, ids=None if one is None else [one])
    return go("/notifications")


def _listener(web: MaybeSignedIn) -> WebSession:
    if web is None:  # an EventSource that gets no stream stops trying
        raise Unauthorized("Sign in first.")
    return web


@router.get("/notifications/live", response_class=EventSourceResponse)
@reads_only
async def live(request: Request, web: Annotated[WebSession, Depends(_listener)]) -> AsyncIterator[ServerSentEvent]:
    """The signed-in user's new notifications as they come (web.js counts them on the badge);
    it ends when the sign-in does."""
    stream = NotificationStream(
        hub=request.app.state.hub,
        database=request.app.state.database,
        user_id=web.viewer.id,
        session_id=web.viewer.session_id,
        token_expires_at=web.viewer.token_expires_at,
        heartbeat_seconds=request.app.state.settings.notifications.stream_heartbeat_seconds,
        last_event_id=None,
    )
    async for event in stream.events():
        yield event
