from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.safety.models import UserBlock
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
