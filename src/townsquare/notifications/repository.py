"""Every query of notifications.

Reads join `user_account` for the actor's name: a deliberate read-side exception to "a domain
talks to another only through its service", like the feed's, to keep a page one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text, tuple_, update
from sqlalchemy import delete as sqlalchemy_delete
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare import visibility
from townsquare.db.base import AnyRow
from townsquare.notifications.models import Notification
from townsquare.users.models import UserAccount

# Postgres NOTIFY channel on which new notifications are published (see hub.py).
CHANNEL = "townsquare_notification"

# Who an action notifies: (recipient_id, post_id, comment_id) of its target.
_TARGET = {
    "like": text("SELECT author_id, id, NULL::bigint FROM post WHERE id = :target"),
    "comment": text("""
        SELECT post.author_id, post.id, comment.id
        FROM comment JOIN post ON post.id = comment.post_id WHERE comment.id = :target
    """),
    "follow": text("SELECT id, NULL::bigint, NULL::bigint FROM user_account WHERE id = :target"),
}

# The rows the notification will refer to, held against deletion until commit, in the
# documented lock order (user rows in id order, then the post, then the comment): taken in
# the foreign keys' own order instead, this deadlocks with account and post deletions.
_HOLD_USERS = text("""
SELECT count(*) FROM (
    SELECT FROM user_account WHERE id = ANY(:ids) ORDER BY id FOR KEY SHARE
) AS held
""")
_HOLD_POST = text("SELECT count(*) FROM (SELECT FROM post WHERE id = :id FOR KEY SHARE) AS held")
_HOLD_COMMENT = text("SELECT count(*) FROM (SELECT FROM comment WHERE id = :id FOR KEY SHARE) AS held")

_INSERT = text("""
WITH inserted AS (
    INSERT INTO notification (recipient_id, actor_id, type, post_id, comment_id, dedupe_key, created_at)
    VALUES (:recipient, :actor, :type, :post, :comment, :key, :at)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, recipient_id, actor_id, type, post_id, comment_id, read, created_at
)
SELECT inserted.*, actor.username AS actor_username
FROM inserted JOIN user_account AS actor ON actor.id = inserted.actor_id
""")


async def target(session: AsyncSession, *, type: str, target_id: int) -> AnyRow | None:
    """(recipient_id, post_id, comment_id) of the liked post, the comment or the followed user."""
    row: AnyRow | None = (await session.execute(_TARGET[type], {"target": target_id})).one_or_none()
    return row


async def hold(session: AsyncSession, *, user_ids: set[int], post_id: int | None, comment_id: int | None) -> bool:
    """Lock the rows against deletion until commit; False if one is already gone."""
    held: bool = (await session.execute(_HOLD_USERS, {"ids": sorted(user_ids)})).scalar_one() == len(user_ids)
    for statement, row_id in ((_HOLD_POST, post_id), (_HOLD_COMMENT, comment_id)):
        if held and row_id is not None:
            held = (await session.execute(statement, {"id": row_id})).scalar_one() == 1
    return held


async def insert(
    session: AsyncSession,
    *,
    type: str,
    recipient_id: int,
    actor_id: int,
    post_id: int | None,
    comment_id: int | None,
    key: str,
    at: datetime,
) -> AnyRow | None:
    """The new notification with its actor's name, or None if the dedupe key already exists."""
    params = {
        "type": type,
        "recipient": recipient_id,
        "actor": actor_id,
        "post": post_id,
        "comment": comment_id,
        "key": key,
        "at": at,
    }
    row: AnyRow | None = (await session.execute(_INSERT, params)).one_or_none()
    return row


async def publish(session: AsyncSession, *, recipient_id: int, notification_id: int, payload: str) -> None:
    """NOTIFY the open streams; PostgreSQL delivers it when (and only if) the transaction commits."""
    message = f"{recipient_id} {notification_id} {payload}"  # parsed by hub.NotificationHub
    await session.execute(text("SELECT pg_notify(:channel, :message)"), {"channel": CHANNEL, "message": message})


_VIEW = select(
    Notification.id,
    Notification.type,
    Notification.actor_id,
    UserAccount.username.label("actor_username"),
    Notification.post_id,
    Notification.comment_id,
    Notification.read,
    Notification.created_at,
).join(UserAccount, UserAccount.id == Notification.actor_id)


def _shown(recipient_id: int) -> tuple[ColumnElement[bool], ...]:
    """townsquare.visibility: no notification from an actor hidden from the recipient, or muted
    by them with their notifications."""
    actor = Notification.actor_id
    return ~visibility.hidden(actor, recipient_id), ~visibility.muted(actor, recipient_id, notifications=True)


async def page(
    session: AsyncSession, recipient_id: int, *, unread: bool, before: tuple[datetime, int] | None, limit: int
) -> Sequence[AnyRow]:
    """The recipient's notifications, newest action first; `limit + 1` rows."""
    statement = (
        _VIEW.where(Notification.recipient_id == recipient_id, *_shown(recipient_id))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit + 1)
    )
    if unread:
        statement = statement.where(~Notification.read)
    if before is not None:
        statement = statement.where(tuple_(Notification.created_at, Notification.id) < tuple_(*before))
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows


async def made_after(session: AsyncSession, recipient_id: int, *, after_id: int, limit: int) -> Sequence[AnyRow]:
    """Notifications stored after `after_id` (ids grow as rows are written), oldest first."""
    statement = (
        _VIEW.where(
            Notification.recipient_id == recipient_id,
            Notification.id > after_id,
            *_shown(recipient_id),
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows


async def unread_count(session: AsyncSession, recipient_id: int, at_most: int | None = None) -> int:
    unread = select(Notification.id).where(
        Notification.recipient_id == recipient_id,
        ~Notification.read,
        *_shown(recipient_id),
    )
    if at_most is not None:  # a badge needs no exact count of a flood
        unread = unread.limit(at_most)
    statement = select(func.count()).select_from(unread.subquery())
    return int((await session.execute(statement)).scalar_one())


async def mark_read(session: AsyncSession, recipient_id: int, ids: Sequence[int] | None) -> int:
    """Mark the recipient's notifications `ids` (all of them if None) read; how many changed."""
    statement = update(Notification).where(Notification.recipient_id == recipient_id, ~Notification.read)
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = await session.execute(statement.values(read=True).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def key_of(session: AsyncSession, recipient_id: int, notification_id: int) -> tuple[datetime, int] | None:
    """Where the recipient's notification stands in their list: (created_at, id)."""
    row = (
        await session.execute(
            select(Notification.created_at, Notification.id).where(
                Notification.recipient_id == recipient_id, Notification.id == notification_id
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def between(
    session: AsyncSession,
    recipient_id: int,
    *,
    before: tuple[datetime, int] | None,
    after: tuple[datetime, int] | None,
    upwards: bool,
    types: Sequence[str] | None,
    limit: int,
) -> Sequence[AnyRow]:
    """`limit + 1` of the recipient's notifications between two list positions: newest first,
    or (`upwards`) the oldest above `after`, oldest first."""
    order = (Notification.created_at, Notification.id)
    statement = _VIEW.where(Notification.recipient_id == recipient_id, *_shown(recipient_id)).limit(limit + 1)
    statement = statement.order_by(*order) if upwards else statement.order_by(*(column.desc() for column in order))
    if before is not None:
        statement = statement.where(tuple_(*order) < tuple_(*before))
    if after is not None:
        statement = statement.where(tuple_(*order) > tuple_(*after))
    if types is not None:
        statement = statement.where(Notification.type.in_(types))
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows


async def one(session: AsyncSession, recipient_id: int, notification_id: int) -> AnyRow | None:
    statement = _VIEW.where(
        Notification.recipient_id == recipient_id, Notification.id == notification_id, *_shown(recipient_id)
    )
    row: AnyRow | None = (await session.execute(statement)).first()
    return row


async def delete(session: AsyncSession, recipient_id: int, notification_id: int | None) -> int:
    """Delete one of the recipient's notifications (all of them if None); how many went."""
    statement = sqlalchemy_delete(Notification).where(Notification.recipient_id == recipient_id)
    if notification_id is not None:
        statement = statement.where(Notification.id == notification_id)
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_read_through(session: AsyncSession, recipient_id: int, through: tuple[datetime, int]) -> int:
    """Mark read every notification of the recipient up to and including the position `through`."""
    order = tuple_(Notification.created_at, Notification.id)
    statement = update(Notification).where(
        Notification.recipient_id == recipient_id, ~Notification.read, order <= tuple_(*through)
    )
    result = await session.execute(statement.values(read=True).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


# The read marker as Mastodon clients see it: the newest notification before the oldest unread
# one (the newest of all when none is unread).
_LAST_READ = text("""
WITH oldest_unread AS (
    SELECT created_at, id FROM notification
    WHERE recipient_id = :recipient AND NOT read ORDER BY created_at, id LIMIT 1
)
SELECT id, created_at FROM notification
WHERE recipient_id = :recipient
  AND (NOT EXISTS (SELECT FROM oldest_unread)
       OR (created_at, id) < ((SELECT created_at FROM oldest_unread), (SELECT id FROM oldest_unread)))
ORDER BY created_at DESC, id DESC
LIMIT 1
""")


async def last_read(session: AsyncSession, recipient_id: int) -> tuple[int, datetime] | None:
    row = (await session.execute(_LAST_READ, {"recipient": recipient_id})).first()
    return None if row is None else (row[0], row[1])
