"""Who may see whom: the one rule every read path composes.

An account is *hidden* from a viewer when a block stands between them, either way (safety's
`user_block`), or when a moderator suspended it (`user_account.suspended_at`). Hidden means
absent: its profile, posts and comments answer 404, and lists, search, feeds and notifications
leave it out, as if it did not exist. Anonymous viewers (`viewer` NULL) see every account that
is not suspended.

An account is *muted* by a viewer who muted it (safety's `user_mute`, until it expires): it
stays visible, but the viewer's feed, search, the comments under posts and (unless the mute
spares them) notifications leave it out. Nothing changes for the muted account.

Each read path composes the rule in its own statement, as SQL text (`hidden_sql`, `muted_sql`)
or as SQLAlchemy expressions (`hidden`, `muted`). Each is `account IN (a subquery that names
no column of the outer query)`: PostgreSQL runs the subquery once per statement (a few index
lookups by the viewer's id and the partial index of suspended accounts) into a hash, and each
row then costs one hash probe, however many rows the statement looks at. Writes that would reach
a hidden account (follow, like, comment, a notification's delivery) ask `is_hidden`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import func

from townsquare.safety.models import UserBlock, UserMute
from townsquare.users.models import UserAccount

_SUSPENDED = "SELECT id FROM user_account WHERE suspended_at IS NOT NULL"
_BLOCKED = (
    "SELECT blocked_id FROM user_block WHERE blocker_id = {viewer}"
    " UNION ALL SELECT blocker_id FROM user_block WHERE blocked_id = {viewer}"
    " UNION ALL "
)
_HIDDEN_ACCOUNT = (
    "({suspended_at} IS NOT NULL"
    " OR EXISTS (SELECT FROM user_block WHERE blocker_id = {viewer} AND blocked_id = {account})"
    " OR EXISTS (SELECT FROM user_block WHERE blocker_id = {account} AND blocked_id = {viewer}))"
)
_MUTED = (
    "({account} IN (SELECT muted_id FROM user_mute WHERE muter_id = {viewer}{notifications}"
    " AND (expires_at IS NULL OR expires_at > now())))"
)


def hidden_sql(account: str, viewer: str | None = ":viewer") -> str:
    """SQL that is true when the account `account` names is hidden from `viewer` (None: an
    anonymous viewer). Both are columns or bind parameters of our own statements, never text
    from a request."""
    blocked = "" if viewer is None else _BLOCKED.format(viewer=viewer)
    return f"({account} IN ({blocked}{_SUSPENDED}))"


def hidden_account_sql(account: str, suspended_at: str, viewer: str | None = ":viewer") -> str:
    """`hidden_sql` for a statement about one account (a post page, a user's posts) that has
    the account's row joined (`suspended_at`: its column). Two index probes, run once when
    `account` is a bind parameter, instead of a subquery hashed over every block of the viewer
    and every suspended account: on the post page that subquery cost PostgreSQL more than the
    page itself."""
    if viewer is None:
        return f"({suspended_at} IS NOT NULL)"
    return _HIDDEN_ACCOUNT.format(account=account, suspended_at=suspended_at, viewer=viewer)


def muted_sql(account: str, viewer: str = ":viewer", *, notifications: bool = False) -> str:
    """SQL that is true when `viewer` muted the account (`notifications`: with a mute that also
    silences its notifications)."""
    only = " AND notifications" if notifications else ""
    return _MUTED.format(account=account, viewer=viewer, notifications=only)


Account = ColumnElement[int] | InstrumentedAttribute[int]


def hidden(account: Account, viewer_id: int | None) -> ColumnElement[bool]:
    """`hidden_sql` as an expression."""
    suspended = select(UserAccount.id).where(UserAccount.suspended_at.is_not(None))
    if viewer_id is None:
        return account.in_(suspended)
    return account.in_(
        union_all(
            select(UserBlock.blocked_id).where(UserBlock.blocker_id == viewer_id),
            select(UserBlock.blocker_id).where(UserBlock.blocked_id == viewer_id),
            suspended,
        )
    )


def muted(account: Account, viewer_id: int | None, *, notifications: bool = False) -> ColumnElement[bool]:
    """`muted_sql` as an expression: false for an anonymous viewer."""
    if viewer_id is None:
        return false()
    active = or_(UserMute.expires_at.is_(None), UserMute.expires_at > func.now())
    condition = and_(UserMute.muter_id == viewer_id, active)
    if notifications:
        condition = and_(condition, UserMute.notifications)
    return account.in_(select(UserMute.muted_id).where(condition))


_IS_HIDDEN = text(f"SELECT {hidden_sql(':account')}")
_IS_HIDDEN_ANONYMOUS = text(f"SELECT {hidden_sql(':account', viewer=None)}")
_IS_SILENCED = text(f"SELECT {hidden_sql(':account')} OR {muted_sql(':account', notifications=True)}")


async def is_hidden(session: AsyncSession, *, account_id: int, viewer_id: int | None) -> bool:
    """Whether the account is hidden from the viewer (for writes and single lookups)."""
    if viewer_id is None:
        found = await session.execute(_IS_HIDDEN_ANONYMOUS, {"account": account_id})
    else:
        found = await session.execute(_IS_HIDDEN, {"account": account_id, "viewer": viewer_id})
    return bool(found.scalar_one())


async def is_silenced(session: AsyncSession, *, actor_id: int, recipient_id: int) -> bool:
    """Whether a notification from `actor_id` must not reach `recipient_id`: the actor is hidden
    from them, or muted with its notifications."""
    found = await session.execute(_IS_SILENCED, {"account": actor_id, "viewer": recipient_id})
    return bool(found.scalar_one())
