"""The rules of blocks, mutes, reports and moderation. Functions take the session first;
callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import service as auth_service
from townsquare.auth.limits import Limits
from townsquare.db.base import AnyRow
from townsquare.interactions import service as interactions_service
from townsquare.interactions.errors import CommentNotFound
from townsquare.kit.pagination import page_of
from townsquare.posts import service as posts_service
from townsquare.safety import repository
from townsquare.safety.errors import (
    CannotBlockSelf,
    CannotMuteSelf,
    CannotReportSelf,
    ModeratorProtected,
    NotModerator,
    ReportNotFound,
    ReportResolved,
)
from townsquare.safety.models import Report
from townsquare.safety.schemas import (
    AuditEntry,
    ModeratedAccount,
    ModeratedReport,
    MutedUser,
    ReportView,
    ReportWrite,
)
from townsquare.users import service as users_service
from townsquare.users.errors import UserNotFound
from townsquare.users.models import UserAccount
from townsquare.users.schemas import UserSummary

# Who the audit log names for an operator's `townsquare admin` command.
COMMAND_LINE = "(command line)"


async def block(session: AsyncSession, *, blocker_id: int, blocked_id: int) -> None:
    """Block (idempotent): follows between the two end, both ways, with their counters.

    Both user rows are held first, in id order, as a follow holds them: a follow racing the
    block either ends before it (and the block removes it) or starts after it (and is refused)."""
    if blocker_id == blocked_id:
        raise CannotBlockSelf()
    if not await users_service.lock_pair(session, blocker_id, blocked_id):
        raise UserNotFound()
    await repository.block(session, blocker_id=blocker_id, blocked_id=blocked_id)
    await users_service.unfollow(session, follower_id=blocker_id, followed_id=blocked_id)
    await users_service.unfollow(session, follower_id=blocked_id, followed_id=blocker_id)


async def unblock(session: AsyncSession, *, blocker_id: int, blocked_id: int) -> None:
    """Lift a block (idempotent); the follows it ended are not restored."""
    await repository.unblock(session, blocker_id=blocker_id, blocked_id=blocked_id)


async def blocks_page(
    session: AsyncSession, *, blocker_id: int, before: int | None, limit: int
) -> tuple[list[UserSummary], str | None]:
    rows = await repository.blocks(session, blocker_id, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.block_id))
    return [UserSummary(id=row.id, username=row.username) for row in page], cursor


async def mute(
    session: AsyncSession, *, muter_id: int, muted_id: int, notifications: bool, duration_seconds: int | None
) -> None:
    """Mute an account you can see (again: with these settings), for `duration_seconds` (None or
    0: until lifted). Follows stay; nothing changes for the muted account."""
    if muter_id == muted_id:
        raise CannotMuteSelf()
    await users_service.ensure_visible(session, user_id=muted_id, viewer_id=muter_id)
    expires_at = datetime.now(UTC) + timedelta(seconds=duration_seconds) if duration_seconds else None
    await repository.mute(
        session, muter_id=muter_id, muted_id=muted_id, notifications=notifications, expires_at=expires_at
    )


async def unmute(session: AsyncSession, *, muter_id: int, muted_id: int) -> None:
    """Lift a mute (idempotent)."""
    await repository.unmute(session, muter_id=muter_id, muted_id=muted_id)


async def mutes_page(
    session: AsyncSession, *, muter_id: int, before: int | None, limit: int
) -> tuple[list[MutedUser], str | None]:
    rows = await repository.mutes(session, muter_id, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.mute_id))
    items = [
        MutedUser(id=row.id, username=row.username, notifications=row.notifications, expires_at=row.expires_at)
        for row in page
    ]
    return items, cursor


async def muted_ids(session: AsyncSession, *, muter_id: int) -> set[int]:
    """Everyone the user mutes now (for live timelines, which test one new post at a time)."""
    return await repository.muted_ids(session, muter_id)


async def purge_expired_mutes(session: AsyncSession, *, batch: int = 10_000) -> int:
    return await repository.delete_expired_mutes(session, limit=batch)


@dataclass(frozen=True, slots=True)
class Relation:
    blocking: bool
    muting: bool
    muting_notifications: bool


async def relations(session: AsyncSession, *, viewer_id: int, user_ids: Sequence[int]) -> dict[int, Relation]:
    """The viewer's blocks and mutes of the users among `user_ids` that they may know of: not
    those that are suspended or that blocked them (hidden, as if they did not exist), but those
    they blocked themselves (so that they can lift the block)."""
    if not user_ids:
        return {}
    rows = await repository.relations(session, viewer_id, user_ids)
    return {
        int(row.id): Relation(row.blocking, row.muting, row.muting_notifications)
        for row in rows
        if not row.suspended and not row.blocked_by
    }


# --- reports ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    account_id: int
    content: str | None


async def report(session: AsyncSession, limits: Limits, *, reporter_id: int, body: ReportWrite) -> ReportView:
    """A report of something the reporter can see (404 otherwise), not their own; counted
    against the reporter's budget of reports once it is valid."""
    target = await _target(session, reporter_id, body)
    if target.account_id == reporter_id:
        raise CannotReportSelf()
    await limits.reported(str(reporter_id))
    made = await repository.insert_report(
        session,
        reporter_id=reporter_id,
        account_id=target.account_id,
        post_id=body.post_id,
        comment_id=body.comment_id,
        content=target.content,
        reason=body.reason,
    )
    return _report_view(made)


async def _target(session: AsyncSession, reporter_id: int, body: ReportWrite) -> _Target:
    if body.post_id is not None:
        post = await posts_service.get_post(session, post_id=body.post_id, viewer_id=reporter_id)
        return _Target(post.author.id, post.content)
    if body.comment_id is not None:
        found = await interactions_service.comments_by_ids(session, [body.comment_id], viewer_id=reporter_id)
        if not found:
            raise CommentNotFound()
        return _Target(int(found[0].author_id), str(found[0].content))
    assert body.account_id is not None
    await users_service.ensure_visible(session, user_id=body.account_id, viewer_id=reporter_id)
    return _Target(body.account_id, None)


def _report_view(report: Report) -> ReportView:
    return ReportView(
        id=report.id,
        account_id=report.account_id,
        post_id=report.post_id,
        comment_id=report.comment_id,
        reason=report.reason,
        created_at=report.created_at,
    )


# --- moderation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moderator:
    id: int
    username: str


async def moderator(session: AsyncSession, *, user_id: int) -> Moderator:
    """The signed-in user as a moderator; NotModerator unless they have the role now."""
    user = await users_service.get(session, user_id=user_id)
    if user is None or user.role != "moderator" or user.suspended_at is not None:
        raise NotModerator()
    return Moderator(user.id, user.username)


ReportStatus = Literal["open", "resolved", "all"]


async def reports_page(
    session: AsyncSession, *, status: ReportStatus, before: int | None, limit: int
) -> tuple[list[ModeratedReport], str | None]:
    rows = await repository.reports(session, status=status, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.Report.id))
    return [_moderated_report(row) for row in page], cursor


async def get_report(session: AsyncSession, *, report_id: int) -> ModeratedReport:
    row = await repository.report(session, report_id)
    if row is None:
        raise ReportNotFound()
    return _moderated_report(row)


async def resolve_report(session: AsyncSession, by: Moderator, *, report_id: int, note: str) -> ModeratedReport:
    """Close an open report (ReportResolved if another moderator did first)."""
    if not await repository.resolve_report(session, report_id=report_id, moderator_id=by.id, note=note):
        await get_report(session, report_id=report_id)  # ReportNotFound if there is none
        raise ReportResolved()
    await _record(session, by, "resolve-report", report_id=report_id, note=note or None)
    return await get_report(session, report_id=report_id)


async def remove_post(session: AsyncSession, by: Moderator, *, post_id: int, note: str) -> None:
    author_id = await posts_service.remove_post(session, post_id=post_id)
    await _record(session, by, "remove-post", account_id=author_id, post_id=post_id, note=note or None)


async def remove_comment(session: AsyncSession, by: Moderator, *, comment_id: int, note: str) -> None:
    found = await interactions_service.remove_comment(session, comment_id=comment_id)
    await _record(
        session,
        by,
        "remove-comment",
        account_id=int(found.author_id),
        post_id=int(found.post_id),
        comment_id=comment_id,
        note=note or None,
    )


async def suspend(session: AsyncSession, by: Moderator, *, user_id: int, reason: str) -> ModeratedAccount:
    """Suspend an account (again: no change): every login of it ends at once, it cannot sign in,
    and the visibility rule hides it and all it wrote until the suspension is lifted."""
    user = await users_service.get(session, user_id=user_id)
    if user is None:
        raise UserNotFound()
    if user.role == "moderator":
        raise ModeratorProtected()
    if user.suspended_at is None:
        user = await users_service.set_suspended(session, user_id=user_id, suspended=True)
        await auth_service.end_sessions(session, user_id=user_id)
        await _record(session, by, "suspend", account_id=user_id, note=reason)
    return _moderated_account(user)


async def unsuspend(session: AsyncSession, by: Moderator, *, user_id: int) -> None:
    user = await users_service.get(session, user_id=user_id)
    if user is None:
        raise UserNotFound()
    if user.suspended_at is not None:
        await users_service.set_suspended(session, user_id=user_id, suspended=False)
        await _record(session, by, "unsuspend", account_id=user_id)


async def moderated_account(session: AsyncSession, *, user_id: int) -> ModeratedAccount:
    """Any account as moderators see it, suspended or not."""
    user = await users_service.get(session, user_id=user_id)
    if user is None:
        raise UserNotFound()
    return _moderated_account(user)


async def audit_page(session: AsyncSession, *, before: int | None, limit: int) -> tuple[list[AuditEntry], str | None]:
    rows = await repository.audit_log(session, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.id))
    return [AuditEntry.model_validate(row) for row in page], cursor


async def set_moderator(session: AsyncSession, *, login: str, moderator: bool) -> ModeratedAccount:
    """Grant or revoke the moderator role (an operator's command, never the API), logged."""
    user = await users_service.find_by_login(session, login)
    if user is None:
        raise UserNotFound()
    await users_service.set_role(session, user_id=user.id, role="moderator" if moderator else "user")
    action = "grant-moderator" if moderator else "revoke-moderator"
    await repository.record(session, moderator_id=None, moderator=COMMAND_LINE, action=action, account_id=user.id)
    return await moderated_account(session, user_id=user.id)


async def _record(session: AsyncSession, by: Moderator, action: str, **targets: Any) -> None:
    """An audit log entry of `by`'s action (targets: account_id, post_id, comment_id, report_id, note)."""
    await repository.record(session, moderator_id=by.id, moderator=by.username, action=action, **targets)


def _moderated_report(row: AnyRow) -> ModeratedReport:
    report: Report = row.Report
    return ModeratedReport(
        id=report.id,
        account_id=report.account_id,
        post_id=report.post_id,
        comment_id=report.comment_id,
        reason=report.reason,
        created_at=report.created_at,
        reporter=_summary(report.reporter_id, row.reporter_username),
        account=UserSummary(id=report.account_id, username=row.account_username),
        content=report.content,
        status="open" if report.resolved_at is None else "resolved",
        resolved_at=report.resolved_at,
        resolved_by=_summary(report.resolved_by, row.resolver_username),
        resolution=report.resolution,
    )


def _summary(user_id: int | None, username: str | None) -> UserSummary | None:
    """A user a report names, None once their account is gone."""
    return None if user_id is None or username is None else UserSummary(id=user_id, username=username)


def _moderated_account(user: UserAccount) -> ModeratedAccount:
    return ModeratedAccount.model_validate(user, from_attributes=True)
