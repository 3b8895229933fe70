"""Every query of the safety domain: blocks, mutes, reports and the moderators' audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, func, insert, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from townsquare.db.base import AnyRow
from townsquare.safety.models import ModerationAction, Report, UserBlock, UserMute
from townsquare.users.models import UserAccount

_BLOCK = text("""
INSERT INTO user_block (blocker_id, blocked_id) VALUES (:blocker, :blocked)
ON CONFLICT DO NOTHING
""")


async def block(session: AsyncSession, *, blocker_id: int, blocked_id: int) -> None:
    await session.execute(_BLOCK, {"blocker": blocker_id, "blocked": blocked_id})


async def unblock(session: AsyncSession, *, blocker_id: int, blocked_id: int) -> None:
    await session.execute(
        delete(UserBlock).where(UserBlock.blocker_id == blocker_id, UserBlock.blocked_id == blocked_id)
    )


async def blocks(
    session: AsyncSession, blocker_id: int, *, before: int | None, limit: int
) -> Sequence[Row[int, int, str]]:
    """Whom `blocker_id` blocked, newest first: rows of (block id, user id, username), `limit + 1`."""
    statement = (
        select(UserBlock.id.label("block_id"), UserAccount.id, UserAccount.username)
        .join(UserAccount, UserAccount.id == UserBlock.blocked_id)
        .where(UserBlock.blocker_id == blocker_id)
        .order_by(UserBlock.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        statement = statement.where(UserBlock.id < before)
    return (await session.execute(statement)).all()


_MUTE = text("""
INSERT INTO user_mute (muter_id, muted_id, notifications, expires_at)
VALUES (:muter, :muted, :notifications, :expires_at)
ON CONFLICT (muter_id, muted_id) DO UPDATE
SET notifications = excluded.notifications, expires_at = excluded.expires_at
""")


async def mute(
    session: AsyncSession, *, muter_id: int, muted_id: int, notifications: bool, expires_at: datetime | None
) -> None:
    """Mute, or change a mute's settings (the list keeps its first place)."""
    params = {"muter": muter_id, "muted": muted_id, "notifications": notifications, "expires_at": expires_at}
    await session.execute(_MUTE, params)


async def unmute(session: AsyncSession, *, muter_id: int, muted_id: int) -> None:
    await session.execute(delete(UserMute).where(UserMute.muter_id == muter_id, UserMute.muted_id == muted_id))


async def mutes(session: AsyncSession, muter_id: int, *, before: int | None, limit: int) -> Sequence[AnyRow]:
    """Whom `muter_id` mutes now, newest first: (mute id, user id, username, notifications,
    expires_at) rows, `limit + 1`."""
    statement = (
        select(
            UserMute.id.label("mute_id"),
            UserAccount.id,
            UserAccount.username,
            UserMute.notifications,
            UserMute.expires_at,
        )
        .join(UserAccount, UserAccount.id == UserMute.muted_id)
        .where(UserMute.muter_id == muter_id, or_(UserMute.expires_at.is_(None), UserMute.expires_at > func.now()))
        .order_by(UserMute.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        statement = statement.where(UserMute.id < before)
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows


async def muted_ids(session: AsyncSession, muter_id: int) -> set[int]:
    active = or_(UserMute.expires_at.is_(None), UserMute.expires_at > func.now())
    rows = await session.scalars(select(UserMute.muted_id).where(UserMute.muter_id == muter_id, active))
    return set(rows.all())


async def delete_expired_mutes(session: AsyncSession, *, limit: int) -> int:
    """Delete up to `limit` mutes past their end (the rule ignores them already); how many went."""
    expired = select(UserMute.muter_id, UserMute.muted_id).where(UserMute.expires_at <= func.now()).limit(limit)
    result = await session.execute(delete(UserMute).where(tuple_(UserMute.muter_id, UserMute.muted_id).in_(expired)))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def insert_report(
    session: AsyncSession,
    *,
    reporter_id: int,
    account_id: int,
    post_id: int | None,
    comment_id: int | None,
    content: str | None,
    reason: str,
) -> Report:
    statement = (
        insert(Report)
        .values(
            reporter_id=reporter_id,
            account_id=account_id,
            post_id=post_id,
            comment_id=comment_id,
            content=content,
            reason=reason,
        )
        .returning(Report)
    )
    report = await session.scalar(statement)
    assert report is not None
    return report


_REPORTER = aliased(UserAccount, name="reporter")
_ACCOUNT = aliased(UserAccount, name="account")
_RESOLVER = aliased(UserAccount, name="resolver")
_REPORT_VIEW = (
    select(
        Report,
        _REPORTER.username.label("reporter_username"),
        _ACCOUNT.username.label("account_username"),
        _RESOLVER.username.label("resolver_username"),
    )
    .join(_ACCOUNT, _ACCOUNT.id == Report.account_id)
    .outerjoin(_REPORTER, _REPORTER.id == Report.reporter_id)
    .outerjoin(_RESOLVER, _RESOLVER.id == Report.resolved_by)
)


async def reports(session: AsyncSession, *, status: str, before: int | None, limit: int) -> Sequence[AnyRow]:
    """Reports newest first (`status`: open, resolved or all): `limit + 1` rows of (Report,
    reporter_username, account_username, resolver_username)."""
    statement = _REPORT_VIEW.order_by(Report.id.desc()).limit(limit + 1)
    if status == "open":
        statement = statement.where(Report.resolved_at.is_(None))
    elif status == "resolved":
        statement = statement.where(Report.resolved_at.is_not(None))
    if before is not None:
        statement = statement.where(Report.id < before)
    rows: Sequence[AnyRow] = (await session.execute(statement)).all()
    return rows


async def report(session: AsyncSession, report_id: int) -> AnyRow | None:
    row: AnyRow | None = (await session.execute(_REPORT_VIEW.where(Report.id == report_id))).one_or_none()
    return row


async def resolve_report(session: AsyncSession, *, report_id: int, moderator_id: int, note: str) -> bool:
    """Resolve the report if it is open (one moderator wins a race); whether this did."""
    statement = (
        update(Report)
        .where(Report.id == report_id, Report.resolved_at.is_(None))
        .values(resolved_at=func.now(), resolved_by=moderator_id, resolution=note)
        .returning(Report.id)
    )
    return await session.scalar(statement) is not None


async def record(
    session: AsyncSession,
    *,
    moderator_id: int | None,
    moderator: str,
    action: str,
    account_id: int | None = None,
    post_id: int | None = None,
    comment_id: int | None = None,
    report_id: int | None = None,
    note: str | None = None,
) -> None:
    """Write an entry of the audit log, in the action's own transaction."""
    await session.execute(
        insert(ModerationAction).values(
            moderator_id=moderator_id,
            moderator=moderator,
            action=action,
            account_id=account_id,
            post_id=post_id,
            comment_id=comment_id,
            report_id=report_id,
            note=note,
        )
    )


async def audit_log(session: AsyncSession, *, before: int | None, limit: int) -> Sequence[ModerationAction]:
    statement = select(ModerationAction).order_by(ModerationAction.id.desc()).limit(limit + 1)
    if before is not None:
        statement = statement.where(ModerationAction.id < before)
    return (await session.scalars(statement)).all()


_RELATIONS = text("""
SELECT other.id, other.suspended_at IS NOT NULL AS suspended,
       EXISTS (SELECT FROM user_block WHERE blocker_id = :viewer AND blocked_id = other.id) AS blocking,
       EXISTS (SELECT FROM user_block WHERE blocker_id = other.id AND blocked_id = :viewer) AS blocked_by,
       mute.muted_id IS NOT NULL AS muting, coalesce(mute.notifications, false) AS muting_notifications
FROM user_account AS other
LEFT JOIN user_mute AS mute ON mute.muter_id = :viewer AND mute.muted_id = other.id
     AND (mute.expires_at IS NULL OR mute.expires_at > now())
WHERE other.id = ANY(:ids)
""")


async def relations(session: AsyncSession, viewer_id: int, user_ids: Sequence[int]) -> Sequence[AnyRow]:
    """For each existing user among `user_ids`: (id, suspended, blocking, blocked_by, muting,
    muting_notifications), as seen by the viewer."""
    rows: Sequence[AnyRow] = (await session.execute(_RELATIONS, {"viewer": viewer_id, "ids": list(user_ids)})).all()
    return rows
