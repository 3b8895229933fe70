"""Live push: one `LISTEN` connection per API process, fanned out to that process's streams.

The worker publishes every new notification with `pg_notify` in the transaction that stores it,
so every API process hears about it, whichever process or worker caused it. A stream that may
have missed something (the listening connection dropped, or the stream fell behind) receives
`RESYNC` and reloads from the database what came after the last notification it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import psycopg
from psycopg import sql

from townsquare.notifications.repository import CHANNEL

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pushed:
    """A new notification for the stream's owner, as its JSON."""

    id: int
    json: str


class Resync:
    """Notifications may have been missed: reload from the database."""


RESYNC: Final = Resync()
Message = Pushed | Resync

# How the listening connection shows in pg_stat_activity.
APPLICATION_NAME = "townsquare-notification-hub"

# Messages a slow stream may fall behind by before it is told to resync instead.
INBOX_SIZE = 256


class NotificationHub:
    def __init__(self, conninfo: str, *, ping_seconds: float = 10.0) -> None:
        self._conninfo = conninfo
        self._ping_seconds = ping_seconds
        self._inboxes: dict[int, set[asyncio.Queue[Message]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="notification-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscriber_count(self) -> int:
        return sum(len(inboxes) for inboxes in self._inboxes.values())

    @contextlib.contextmanager
    def subscribe(self, user_id: int) -> Iterator[asyncio.Queue[Message]]:
        inbox: asyncio.Queue[Message] = asyncio.Queue(maxsize=INBOX_SIZE)
        self._inboxes.setdefault(user_id, set()).add(inbox)
        try:
            yield inbox
        finally:
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
                    await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    if connected_before:
                        self._broadcast(RESYNC)  # whatever was published while we were away
                    connected_before, delay = True, 0.5
                    self.listening.set()
                    while True:
                        async for notify in connection.notifies(timeout=self._ping_seconds):
                            self._dispatch(notify.payload)
                        await connection.execute("SELECT 1")  # a dead connection shows here
            except (psycopg.OperationalError, OSError) as error:
                self.listening.clear()
                logger.warning("notification listener lost its connection (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _dispatch(self, payload: str) -> None:
        # "<recipient id> <notification id> <notification JSON>", see service.deliver.
        recipient, notification_id, data = payload.split(" ", 2)
        for inbox in self._inboxes.get(int(recipient), ()):
            _offer(inbox, Pushed(id=int(notification_id), json=data))

    def _broadcast(self, message: Message) -> None:
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                _offer(inbox, message)


def _offer(inbox: asyncio.Queue[Message], message: Message) -> None:
    try:
        inbox.put_nowait(message)
    except asyncio.QueueFull:
        # The stream is far behind: drop what it holds and have it reload from the database.
        while not inbox.empty():
            inbox.get_nowait()
        inbox.put_nowait(RESYNC)
