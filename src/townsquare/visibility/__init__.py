"""Who may see whom: the one rule every read path composes.

An account is hidden from a viewer when a block stands between them, either way (safety's
`user_block`). Hidden means absent: its profile, posts and comments answer 404, and lists,
search, feeds and notifications leave it out, as if it did not exist. Anonymous viewers
(`viewer` NULL) see everything public.

Each read path composes the rule in its own statement, as SQL text (`hidden_sql`) or as a
SQLAlchemy expression (`hidden`); both are two lookups by key, (blocker, blocked) and
(blocked, blocker). Writes that would cross a block (follow, like, comment) ask
`blocked_between` under their own locks.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from townsquare.safety.models import UserBlock

# Two lookups by key: (blocker, blocked), and (blocked, blocker) by its index.
_HIDDEN = (
    "(EXISTS (SELECT FROM user_block WHERE blocker_id = {viewer} AND blocked_id = {account})"
    " OR EXISTS (SELECT FROM user_block WHERE blocker_id = {account} AND blocked_id = {viewer}))"
)


def hidden_sql(account: str, viewer: str = ":viewer") -> str:
    """SQL that is true when a block stands between `viewer` and the account `account` names:
    a column or a bind parameter of our own statements, never text from a request."""
    return _HIDDEN.format(viewer=viewer, account=account)


def hidden(account: ColumnElement[int] | InstrumentedAttribute[int], viewer_id: int | None) -> ColumnElement[bool]:
    """The same as an expression: false for an anonymous viewer."""
    if viewer_id is None:
        return false()
    return or_(
        exists().where(and_(UserBlock.blocker_id == viewer_id, UserBlock.blocked_id == account)),
        exists().where(and_(UserBlock.blocker_id == account, UserBlock.blocked_id == viewer_id)),
    )


_BETWEEN = text(f"SELECT {hidden_sql(':a', ':b')}")


async def blocked_between(session: AsyncSession, a: int, b: int) -> bool:
    return bool((await session.execute(_BETWEEN, {"a": a, "b": b})).scalar_one())
