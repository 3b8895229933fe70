"""One client's live stream: what it missed, then each new notification, heartbeats, its end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi.sse import ServerSentEvent

from townsquare.auth import service as auth_service
from townsquare.db.ids import first_id_at
from townsquare.db.session import Database
from townsquare.notifications import service
from townsquare.notifications.hub import Close, NotificationHub, Pushed, Resync

# How long a browser waits before reconnecting a dropped stream.
RECONNECT_MS = 3000
# At most this many missed notifications are sent on (re)connection; the list has the rest.
REPLAY_LIMIT = 100
# Ids are given at insert and commits can land out of id order: a reload after a lost
# connection looks this far back (5 s of ids) and skips what this stream already sent.
OVERLAP = 5000 << 16


class NotificationStream:
    def __init__(
        self,
        *,
        hub: NotificationHub,
        database: Database,
        user_id: int,
        session_id: int,
        token_expires_at: datetime,
        heartbeat_seconds: float,
        last_event_id: int | None,
    ) -> None:
        self._hub = hub
        self._database = database
        self._user_id = user_id
        self._session_id = session_id
        self._token_expires_at = token_expires_at
        self._heartbeat = heartbeat_seconds
        self._last_event_id = last_event_id
        self._sent: deque[int] = deque(maxlen=4 * REPLAY_LIMIT)
        # Where a reload starts if nothing has been sent: just before this stream opened.
        self._high = first_id_at(time.time()) - OVERLAP

    async def events(self) -> AsyncIterator[ServerSentEvent]:
        with self._hub.subscribe(self._user_id) as inbox:  # before any reload: nothing falls between
            yield ServerSentEvent(comment="connected", retry=RECONNECT_MS)
            if self._last_event_id is not None:
                # What a reconnecting client missed: exactly after the last event it received.
                for event in await self._reload(after_id=self._last_event_id):
                    yield event
            check_at = time.monotonic() + self._heartbeat
            while True:
                left = (self._token_expires_at - datetime.now(UTC)).total_seconds()
                if left <= 0:
                    yield _end("token-expired")
                    return
                message = None
                wait = min(max(check_at - time.monotonic(), 0), left)
                with contextlib.suppress(TimeoutError):
                    message = await asyncio.wait_for(inbox.get(), timeout=wait)
                if time.monotonic() >= check_at:  # on time, however busy the stream is
                    if not await self._session_alive():
                        yield _end("session-ended")
                        return
                    if message is None:
                        yield ServerSentEvent(comment="heartbeat")
                    check_at = time.monotonic() + self._heartbeat
                if isinstance(message, Close):
                    yield _end("server-shutdown")
                    return
                if isinstance(message, Resync):
                    for event in await self._reload(after_id=self._high - OVERLAP):
                        yield event
                elif isinstance(message, Pushed) and message.id not in self._sent:
                    yield self._send(message.id, message.json)

    def _send(self, notification_id: int, data: str) -> ServerSentEvent:
        self._sent.append(notification_id)
        self._high = max(self._high, notification_id)
        return ServerSentEvent(event="notification", id=str(notification_id), raw_data=data)

    async def _reload(self, *, after_id: int) -> list[ServerSentEvent]:
        async with self._database.sessions() as session:
            found = await service.made_after(session, user_id=self._user_id, after_id=after_id, limit=REPLAY_LIMIT)
        return [self._send(item.id, item.model_dump_json()) for item in found if item.id not in self._sent]

    async def _session_alive(self) -> bool:
        async with self._database.sessions() as session:
            return await auth_service.session_alive(session, user_id=self._user_id, session_id=self._session_id)


def _end(reason: str) -> ServerSentEvent:
    return ServerSentEvent(event="end", data={"reason": reason})
