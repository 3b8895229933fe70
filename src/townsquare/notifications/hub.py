"""Live push: one `LISTEN` connection per API process, fanned out to that process's streams.

The worker publishes every new notification with `pg_notify` in the transaction that stores it,
so every API process hears about it, whichever process or worker caused it. A stream that may
have missed something (the listening connection dropped, or the stream fell behind) receives
`RESYNC` and reloads from the database what came after the last notification it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import psycopg
from psycopg import sql

from townsquare.db.outage import OUTAGE
from townsquare.notifications.repository import CHANNEL
from townsquare.observability.metrics import NOTIFICATION_LAG, OPEN_STREAMS
from townsquare.posts.repository import POST_CHANNEL

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pushed:
    """A new notification for the stream's owner, as its JSON."""

    id: int
    json: str


@dataclass(frozen=True, slots=True)
class PostEvent:
    """A post was made (`new`), edited (`update`) or deleted (`delete`): for live timelines."""

    kind: str
    author_id: int
    post_id: int


class Resync:
    """Notifications may have been missed: reload from the database."""


class Close:
    """The server is stopping: end the stream (the client reconnects, to another process)."""


RESYNC: Final = Resync()
CLOSE: Final = Close()
Message = Pushed | PostEvent | Resync | Close
POST_EVENTS = frozenset({"new", "update", "delete"})

# How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "townsquare-notification-hub"

# Messages a slow stream may fall behind by before it is told to resync instead.
INBOX_SIZE = 256


class NotificationHub:
    def __init__(self, conninfo: str, *, ping_seconds: float = 10.0) -> None:
        self._conninfo = conninfo
        self._ping_seconds = ping_seconds
        self._inboxes: dict[int, set[asyncio.Queue[Message]]] = {}
        # Streams that also follow posts (live timelines), whoever wrote them.
        self._post_inboxes: set[asyncio.Queue[Message]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="notification-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def close_streams(self) -> None:
        """End every open stream, and each one opened from now on."""
        self._closing = True
        self._broadcast(CLOSE)

    def subscriber_count(self) -> int:
        return sum(len(inboxes) for inboxes in self._inboxes.values())

    @contextlib.contextmanager
    def subscribe(self, user_id: int, *, posts: bool = False) -> Iterator[asyncio.Queue[Message]]:
        """An inbox for the user's new notifications (and, with `posts`, every post event)."""
        inbox: asyncio.Queue[Message] = asyncio.Queue(maxsize=INBOX_SIZE)
        if self._closing:
            inbox.put_nowait(CLOSE)
        self._inboxes.setdefault(user_id, set()).add(inbox)
        if posts:
            self._post_inboxes.add(inbox)
        try:
            with OPEN_STREAMS.track_inprogress():
                yield inbox
        finally:
            self._post_inboxes.discard(inbox)
            inboxes = self._inboxes.get(user_id, set())
            inboxes.discard(inbox)
            if not inboxes:
                self._inboxes.pop(user_id, None)

    async def _listen(self) -> None:
        delay, connected_before = 0.5, False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
                ) as connection:
                    for channel in (CHANNEL, POST_CHANNEL):
                        await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    OUTAGE.reachable()
                    if connected_before:
                        self._broadcast(RESYNC)  # whatever was published while we were away
                    connected_before, delay = True, 0.5
                    self.listening.set()
                    while True:
                        async for notify in connection.notifies(timeout=self._ping_seconds):
                            if notify.channel == POST_CHANNEL:
                                self._dispatch_post(notify.payload)
                            else:
                                self._dispatch(notify.payload)
                        # A dead (or half-open) connection shows here, within the ping timeout.
                        await asyncio.wait_for(connection.execute("SELECT 1"), self._ping_seconds)
            except Exception as error:  # the connection lost, the database restarting
                self.listening.clear()
                OUTAGE.failed("notification-listener", type(error).__name__)  # logged once an outage
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _dispatch(self, payload: str) -> None:
        # "<recipient id> <notification id> <notification JSON>", see service.deliver.
        try:
            recipient, notification_id, data = payload.split(" ", 2)
            message = Pushed(id=int(notification_id), json=data)
            inboxes = self._inboxes.get(int(recipient), ())
        except ValueError:  # not ours: anyone connected may NOTIFY the channel
            logger.warning("ignored a malformed message on %s", CHANNEL)
            return
        if inboxes and (lag := _since_action(data)) is not None:
            NOTIFICATION_LAG.labels("pushed").observe(lag)
        for inbox in inboxes:
            _offer(inbox, message)

    def _dispatch_post(self, payload: str) -> None:
        # "<new|update|delete> <author id> <post id>", see posts.repository.
        try:
            kind, author_id, post_id = payload.split(" ")
            if kind not in POST_EVENTS:
                raise ValueError(kind)
            message = PostEvent(kind=kind, author_id=int(author_id), post_id=int(post_id))
        except ValueError:
            logger.warning("ignored a malformed message on %s", POST_CHANNEL)
            return
        for inbox in self._post_inboxes:
            _offer(inbox, message)

    def _broadcast(self, message: Message) -> None:
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                _offer(inbox, message)


def _since_action(notification_json: str) -> float | None:
    """Seconds since the action the notification tells of (its `created_at`), if it says."""
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(json.loads(notification_json)["created_at"])).total_seconds()
    except (ValueError, KeyError, TypeError):  # not our JSON: nothing to measure
        return None


def _offer(inbox: asyncio.Queue[Message], message: Message) -> None:
    try:
        inbox.put_nowait(message)
    except asyncio.QueueFull:
        # The stream is far behind: drop what it holds and have it reload from the database
        # (or just end, if that is what was coming).
        while not inbox.empty():
            inbox.get_nowait()
        inbox.put_nowait(message if isinstance(message, Close) else RESYNC)
