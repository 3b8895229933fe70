"""Live streams, Mastodon's way: Server-Sent Events (`/api/v1/streaming/user` ...) and the
WebSocket (`/api/v1/streaming`, several streams on one connection), both over the process's
notification hub (PostgreSQL LISTEN/NOTIFY), so they work whichever API process a write hit.

Events: `notification` (a Notification), `update` (a new Status in the stream's timeline),
`status.update` (an edited one) and `delete` (the id of a deleted one). A user's timeline is
their follows' posts and their own; whom they follow is re-read every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketState

from townsquare.auth import service as auth_service
from townsquare.auth.dependencies import Viewer
from townsquare.db.ids import first_id_at
from townsquare.db.session import Database, reads_only
from townsquare.feed import service as feed_service
from townsquare.kit.errors import DomainError
from townsquare.mastodon.auth import Access, access_for, app_or_user
from townsquare.mastodon.errors import NeedsUser
from townsquare.mastodon.notifications import render
from townsquare.mastodon.statuses import statuses_by_ids
from townsquare.notifications import service as notifications_service
from townsquare.notifications.errors import NotificationNotFound
from townsquare.notifications.hub import Close, NotificationHub, PostEvent, Pushed, Resync
from townsquare.oauth import scopes as oauth_scopes
from townsquare.safety import service as safety_service

router = APIRouter()

STREAMS = frozenset({"user", "user:notification", "public", "public:local"})
# How long the authors of a streaming user's home timeline are trusted before read again.
HOME_TTL = 10.0
REPLAY_LIMIT = 100
OVERLAP = 5000 << 16  # as notifications.stream: commits land out of id order


@dataclass(frozen=True, slots=True)
class Event:
    streams: tuple[str, ...]
    event: str
    payload: str  # JSON text, or a bare id for `delete`


class LiveTimeline:
    """One client's streams: what they subscribe to may change while it runs (WebSocket)."""

    def __init__(
        self,
        *,
        hub: NotificationHub,
        database: Database,
        base: str,
        viewer: Viewer,
        scopes: tuple[str, ...],
        heartbeat_seconds: float,
    ) -> None:
        self._hub = hub
        self._database = database
        self._base = base
        self._viewer = viewer
        # The `user` stream carries notifications only for tokens that may read them.
        self._reads_notifications = oauth_scopes.covers(scopes, "read:notifications")
        self._heartbeat = heartbeat_seconds
        self.streams: set[str] = set()
        self._home: set[int] = set()
        self._muted: set[int] = set()
        self._home_read_at = -HOME_TTL
        self._sent: deque[int] = deque(maxlen=4 * REPLAY_LIMIT)
        self._high = first_id_at(time.time()) - OVERLAP

    async def events(self) -> AsyncIterator[Event | None]:
        """Events as they come; None when a heartbeat is due. Returns when the stream must end
        (the session ended, the server stops)."""
        with self._hub.subscribe(self._viewer.id, posts=True) as inbox:
            check_at = time.monotonic() + self._heartbeat
            while True:
                message = None
                with contextlib.suppress(TimeoutError):
                    message = await asyncio.wait_for(inbox.get(), timeout=max(check_at - time.monotonic(), 0))
                if time.monotonic() >= check_at:
                    if not await self._session_alive():
                        return
                    yield None
                    check_at = time.monotonic() + self._heartbeat
                if isinstance(message, Close):
                    return
                if isinstance(message, Resync):
                    for event in await self._reload():
                        yield event
                elif isinstance(message, Pushed | PostEvent):
                    found = await (
                        self._notification(message.id) if isinstance(message, Pushed) else self._post(message)
                    )
                    if found is not None:
                        yield found

    def _notification_streams(self) -> tuple[str, ...]:
        names = ("user", "user:notification") if self._reads_notifications else ("user:notification",)
        return tuple(name for name in names if name in self.streams)

    async def _notification(self, notification_id: int) -> Event | None:
        streams = self._notification_streams()
        if not streams or notification_id in self._sent:
            return None
        async with self._database.read_sessions() as session:
            try:
                item = await notifications_service.get(
                    session, user_id=self._viewer.id, notification_id=notification_id
                )
            except NotificationNotFound:  # dismissed, or its post deleted, meanwhile
                return None
            rendered = await render(self._base, session, [item], self._viewer)
        self._sent.append(notification_id)
        self._high = max(self._high, notification_id)
        return Event(streams, "notification", json.dumps(rendered[0])) if rendered else None

    async def _reload(self) -> list[Event]:
        async with self._database.read_sessions() as session:
            found = await notifications_service.made_after(
                session, user_id=self._viewer.id, after_id=self._high - OVERLAP, limit=REPLAY_LIMIT
            )
        events = [await self._notification(item.id) for item in found]
        return [event for event in events if event is not None]

    async def _post(self, message: PostEvent) -> Event | None:
        await self._refresh()
        if message.author_id in self._muted:  # townsquare.visibility: not in any timeline of theirs
            return None
        streams: list[str] = [name for name in ("public", "public:local") if name in self.streams]
        if "user" in self.streams and message.author_id in self._home:
            streams.insert(0, "user")
        if not streams:
            return None
        if message.kind == "delete":
            return Event(tuple(streams), "delete", str(message.post_id))
        async with self._database.read_sessions() as session:
            found = await statuses_by_ids(self._base, session, [message.post_id], self._viewer)
        status = found.get(message.post_id)
        if status is None:  # deleted already
            return None
        return Event(tuple(streams), "update" if message.kind == "new" else "status.update", json.dumps(status))

    async def _refresh(self) -> None:
        """Whose posts the home stream carries, and whom the viewer muted, read again every
        HOME_TTL (hidden accounts' posts are not found at all: townsquare.visibility)."""
        if time.monotonic() - self._home_read_at >= HOME_TTL:
            async with self._database.read_sessions() as session:
                self._home = await feed_service.home_authors(session, viewer_id=self._viewer.id)
                self._muted = await safety_service.muted_ids(session, muter_id=self._viewer.id)
            self._home_read_at = time.monotonic()

    async def _session_alive(self) -> bool:
        async with self._database.read_sessions() as session:
            return await auth_service.session_alive(
                session, user_id=self._viewer.id, session_id=self._viewer.session_id
            )


def _timeline(request_app: object, base: str, viewer: Viewer, scopes: tuple[str, ...]) -> LiveTimeline:
    app = request_app
    return LiveTimeline(
        hub=app.state.hub,  # type: ignore[attr-defined]
        database=app.state.database,  # type: ignore[attr-defined]
        base=base,
        viewer=viewer,
        scopes=scopes,
        heartbeat_seconds=app.state.settings.notifications.stream_heartbeat_seconds,  # type: ignore[attr-defined]
    )


# --- Server-Sent Events -------------------------------------------------------------------


async def _sse(timeline: LiveTimeline) -> AsyncIterator[bytes]:
    # No `retry:`-only block: Mastodon.py's parser needs an `event` in every block but comments.
    yield b":)\n\n"
    async for event in timeline.events():
        if event is None:
            yield b":thump\n\n"
        else:
            data = "\n".join(f"data: {line}" for line in event.payload.split("\n"))
            yield f"event: {event.event}\n{data}\n\n".encode()


def _sse_route(streams: set[str], scope: str):  # type: ignore[no-untyped-def]
    # A default, not an annotation: annotations are strings here, resolved without this scope.
    async def stream(request: Request, access: Access = Depends(app_or_user(scope))) -> StreamingResponse:  # noqa: B008
        if access.viewer is None:
            raise NeedsUser("This method requires an authenticated user")
        timeline = _timeline(request.app, str(request.base_url).rstrip("/"), access.viewer, access.scopes)
        timeline.streams = set(streams)
        return StreamingResponse(
            _sse(timeline),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return reads_only(stream)


router.add_api_route("/api/v1/streaming/user", _sse_route({"user"}, "read:statuses"), methods=["GET"])
router.add_api_route(
    "/api/v1/streaming/user/notification", _sse_route({"user:notification"}, "read:notifications"), methods=["GET"]
)
router.add_api_route("/api/v1/streaming/public", _sse_route({"public"}, "read:statuses"), methods=["GET"])
router.add_api_route("/api/v1/streaming/public/local", _sse_route({"public:local"}, "read:statuses"), methods=["GET"])


# --- WebSocket ----------------------------------------------------------------------------


def _stream_scope(name: str) -> str:
    return "read:notifications" if name == "user:notification" else "read:statuses"


@router.websocket("/api/v1/streaming")
async def websocket_stream(websocket: WebSocket) -> None:
    """Mastodon's multiplexed stream: `?stream=` and `{"type": "subscribe", "stream": ...}`.

    The token comes as the subprotocol (browsers cannot set headers on a WebSocket), as
    `?access_token=` or as `Authorization: Bearer`; an offered subprotocol is echoed back, as
    browsers require."""
    protocol = websocket.headers.get("sec-websocket-protocol")
    header = websocket.headers.get("authorization", "")
    token = (
        (protocol.split(",")[0].strip() if protocol else None)
        or websocket.query_params.get("access_token")
        or (header[7:].strip() if header.lower().startswith("bearer ") else None)
    )
    app = websocket.app
    access = None
    if token:
        async with app.state.database.read_sessions() as session:
            with contextlib.suppress(DomainError):
                access = await access_for(token, session, app.state.tokens)
    if access is None or access.viewer is None:  # scopes are checked per subscription
        await websocket.close(code=4001, reason="The access token is invalid")  # before accepting: a 403
        return
    await websocket.accept(subprotocol=protocol.split(",")[0].strip() if protocol else None)
    base = ("https://" if websocket.url.scheme == "wss" else "http://") + websocket.url.netloc
    timeline = _timeline(app, base, access.viewer, access.scopes)
    first = websocket.query_params.get("stream")
    if first:
        await _subscribe(websocket, timeline, access.scopes, first)
    sending = asyncio.create_task(_send_events(websocket, timeline))
    try:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                break
            try:
                message = json.loads(received.get("text") or "")  # a binary frame is no message
                kind, name = message.get("type"), message.get("stream")
            except (ValueError, AttributeError, RecursionError):
                await _send(websocket, {"error": "Bad request", "status": 400})
                continue
            if kind == "subscribe":
                await _subscribe(websocket, timeline, access.scopes, name)
            elif kind == "unsubscribe":
                timeline.streams.discard(name)
            else:
                await _send(websocket, {"error": "Unknown message type", "status": 400})
    except WebSocketDisconnect:
        pass
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending


async def _subscribe(websocket: WebSocket, timeline: LiveTimeline, granted: tuple[str, ...], name: object) -> None:
    if not isinstance(name, str) or name not in STREAMS:
        await _send(websocket, {"error": "Unknown stream type", "status": 400})
    elif not oauth_scopes.covers(granted, _stream_scope(name)):
        await _send(websocket, {"error": "Access token does not have the required scopes", "status": 401})
    else:
        timeline.streams.add(name)


async def _send_events(websocket: WebSocket, timeline: LiveTimeline) -> None:
    async for event in timeline.events():
        if event is None:
            continue  # the WebSocket keeps itself alive (pings)
        await _send(websocket, {"stream": list(event.streams), "event": event.event, "payload": event.payload})
    # The session ended or the server stops: close, the client reconnects (or signs in again).
    if websocket.client_state is WebSocketState.CONNECTED:
        await websocket.close(code=1001)


async def _send(websocket: WebSocket, message: dict[str, object]) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_text(json.dumps(message))
