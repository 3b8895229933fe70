"""Every query of notifications.

Reads join `user_account` for the actor's name: a deliberate read-side exception to "a domain
talks to another only through its service", like the feed's, to keep a page one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.db.base import AnyRow
from townsquare.notifications.models import Notification
from townsquare.users.models import UserAccount

# Postgres NOTIFY channel on which new notifications are published (see hub.py).
CHANNEL = "townsquare_notification"

# One notification for an action, if its target still exists and the actor is not its owner.
# The dedupe key makes a second run of the same job (or a like after an unlike) insert nothing.
_INSERT = text("""
WITH target AS (
    SELECT post.author_id AS recipient_id, post.id AS post_id, NULL::bigint AS comment_id
    FROM post WHERE :type = 'like' AND post.id = :target
    UNION ALL
    SELECT post.author_id, post.id, comment.id
    FROM comment JOIN post ON post.id = comment.post_id
    WHERE :type = 'comment' AND comment.id = :target
    UNION ALL
    SELECT user_account.id, NULL, NULL
    FROM user_account WHERE :type = 'follow' AND user_account.id = :target
), inserted AS (
    INSERT INTO notification (recipient_id, actor_id, type, post_id, comment_id, dedupe_key, created_at)
    SELECT target.recipient_id, actor.id, :type, target.post_id, target.comment_id, :key, :at
    FROM target JOIN user_account AS actor ON actor.id = :actor
    WHERE target.recipient_id <> actor.id
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, recipient_id, actor_id, type, post_id, comment_id, read, created_at
)
SELECT inserted.*, actor.username AS actor_username
FROM inserted JOIN user_account AS actor ON actor.id = inserted.actor_id
""")


async def insert(
    session: AsyncSession, *, type: str, actor_id: int, target_id: int, key: str, at: datetime
) -> AnyRow | None:
    """The new notification, or None if there is none to make (or it was already made).

    IntegrityError if the target or an account is deleted while this runs."""
    params = {"type": type, "actor": actor_id, "target": target_id, "key": key, "at": at}
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


async def page(
    session: AsyncSession, recipient_id: int, *, unread: bool, before: tuple[datetime, int] | None, limit: int
) -> Sequence[AnyRow]:
    """The recipient's notifications, newest action first; `limit + 1` rows."""
    statement = (
        _VIEW.where(Notification.recipient_id == recipient_id)
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
        _VIEW.where(Notification.recipient_id == recipient_id, Notification.id > after_id)
        .order_by(Notification.id)
        .limit(limit)
    )
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows


async def unread_count(session: AsyncSession, recipient_id: int) -> int:
    statement = select(func.count()).where(Notification.recipient_id == recipient_id, ~Notification.read)
    return int((await session.execute(statement)).scalar_one())


async def mark_read(session: AsyncSession, recipient_id: int, ids: Sequence[int] | None) -> int:
    """Mark the recipient's notifications `ids` (all of them if None) read; how many changed."""
    statement = update(Notification).where(Notification.recipient_id == recipient_id, ~Notification.read)
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = await session.execute(statement.values(read=True).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
