"""Notifications: announced in the action's transaction, made by the worker, read by the owner.

A like, comment or follow calls `announce`, which defers a job on the same transaction. The
worker runs `deliver`, which inserts at most one notification per action (a unique dedupe key)
and publishes it to the open streams. Whether and when the worker runs changes nothing in the
outcome: a like followed by an unlike still yields its notification; a deleted post, comment or
account takes its notifications with it, and a job that finds its target gone makes none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare import visibility
from townsquare.db.ids import ID_EPOCH_MS
from townsquare.kit.pagination import InvalidCursor, decode_cursor, page_of
from townsquare.notifications import repository
from townsquare.notifications.errors import NotificationNotFound, NotYourNotifications
from townsquare.notifications.schemas import NotificationType, NotificationView, notification_view

DELIVER = "notifications.deliver"


class Deferrer(Protocol):
    async def defer(self, session: AsyncSession, task: str, **arguments: Any) -> None: ...


async def announce(
    session: AsyncSession,
    jobs: Deferrer,
    *,
    type: NotificationType,
    actor_id: int,
    target_id: int,
    at: datetime,
) -> None:
    """Queue the notification of an action in the action's own transaction.

    `target_id` is the liked post, the new comment or the followed user; `at` is the action's time."""
    await jobs.defer(session, DELIVER, type=type, actor_id=actor_id, target_id=target_id, at=at.isoformat())


def dedupe_key(type: str, actor_id: int, target_id: int) -> str:
    # A comment is its own action; a like or a follow is one per (actor, target) for ever.
    return f"comment:{target_id}" if type == "comment" else f"{type}:{actor_id}:{target_id}"


async def deliver(
    session: AsyncSession, *, type: str, actor_id: int, target_id: int, at: datetime
) -> NotificationView | None:
    """Make the action's notification unless it exists or has no one to go to; publish it."""
    found = await repository.target(session, type=type, target_id=target_id)
    if found is None:  # deleted before the job ran
        return None
    recipient_id, post_id, comment_id = found
    if recipient_id == actor_id:
        return None
    if await visibility.is_silenced(session, actor_id=actor_id, recipient_id=recipient_id):
        return None  # a block, a suspension or a mute landed since the action (or stands)
    if not await repository.hold(session, user_ids={actor_id, recipient_id}, post_id=post_id, comment_id=comment_id):
        return None  # the actor, the recipient or the target is being deleted
    row = await repository.insert(
        session,
        type=type,
        recipient_id=recipient_id,
        actor_id=actor_id,
        post_id=post_id,
        comment_id=comment_id,
        key=dedupe_key(type, actor_id, target_id),
        at=at,
    )
    if row is None:  # made already, by an earlier run of this job or an earlier like
        return None
    view = notification_view(row)
    await repository.publish(
        session, recipient_id=row.recipient_id, notification_id=view.id, payload=view.model_dump_json()
    )
    return view


def ensure_owner(user_id: int, viewer_id: int) -> None:
    if user_id != viewer_id:
        raise NotYourNotifications()


async def page(
    session: AsyncSession, *, user_id: int, unread: bool, cursor: str | None, limit: int
) -> tuple[list[NotificationView], str | None]:
    rows = await repository.page(session, user_id, unread=unread, before=_decode(cursor), limit=limit)
    items, next_cursor = page_of(rows, limit, lambda row: (_micros(row.created_at), int(row.id)))
    return [notification_view(row) for row in items], next_cursor


async def made_after(session: AsyncSession, *, user_id: int, after_id: int, limit: int) -> list[NotificationView]:
    rows = await repository.made_after(session, user_id, after_id=after_id, limit=limit)
    return [notification_view(row) for row in rows]


async def unread_count(session: AsyncSession, *, user_id: int, at_most: int | None = None) -> int:
    return await repository.unread_count(session, user_id, at_most)


async def mark_read(session: AsyncSession, *, user_id: int, ids: Sequence[int] | None) -> int:
    return await repository.mark_read(session, user_id, ids)


# The list is ordered by (created_at, id): the cursor carries both, the time in microseconds.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _decode(cursor: str | None) -> tuple[datetime, int] | None:
    if cursor is None:
        return None
    micros, last_id = decode_cursor(cursor, int, int)
    assert isinstance(micros, int)
    assert isinstance(last_id, int)
    if not (0 <= micros < 2**60 and 0 < last_id < 2**63):
        raise InvalidCursor()
    try:
        return _EPOCH + micros * _MICROSECOND, last_id
    except OverflowError:  # past the year 9999
        raise InvalidCursor() from None


async def position(session: AsyncSession, *, user_id: int, notification_id: int) -> tuple[datetime, int]:
    """Where a notification id stands in the user's list (ordered by the action's time).

    For one that is gone (its post was deleted), or never was, the time its id was made at:
    ids are time-sortable, so paging from it still lands in the right place."""
    found = await repository.key_of(session, user_id, notification_id)
    if found is not None:
        return found
    return datetime.fromtimestamp((notification_id >> 16) / 1000 + ID_EPOCH_MS / 1000, UTC), notification_id


async def between(
    session: AsyncSession,
    *,
    user_id: int,
    before: tuple[datetime, int] | None,
    after: tuple[datetime, int] | None,
    upwards: bool,
    types: Sequence[NotificationType] | None,
    limit: int,
) -> list[NotificationView]:
    """`limit + 1` notifications between two list positions (see `position`)."""
    rows = await repository.between(
        session, user_id, before=before, after=after, upwards=upwards, types=types, limit=limit
    )
    return [notification_view(row) for row in rows]


async def get(session: AsyncSession, *, user_id: int, notification_id: int) -> NotificationView:
    row = await repository.one(session, user_id, notification_id)
    if row is None:
        raise NotificationNotFound()
    return notification_view(row)


async def dismiss(session: AsyncSession, *, user_id: int, notification_id: int | None) -> int:
    """Delete one of the user's notifications, or all of them (None)."""
    return await repository.delete(session, user_id, notification_id)


async def mark_read_through(session: AsyncSession, *, user_id: int, notification_id: int) -> int:
    """Mark read the notification and every one before it in the list."""
    through = await position(session, user_id=user_id, notification_id=notification_id)
    return await repository.mark_read_through(session, user_id, through)


async def last_read(session: AsyncSession, *, user_id: int) -> tuple[int, datetime] | None:
    """The newest notification with no unread one before it: (id, created_at)."""
    return await repository.last_read(session, user_id)
