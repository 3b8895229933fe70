"""`Idempotency-Key` on status creates: the first request with a key makes the status; a retry
within the hour answers with that status instead of making another."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# A key is ours if new, or if the one stored is over an hour old. A retry sent while the first
# request is still running waits here for it to commit (the conflicting row is locked), then
# finds its status.
_CLAIM = text("""
INSERT INTO status_idempotency (user_id, key) VALUES (:user, :key)
ON CONFLICT (user_id, key) DO UPDATE SET status_id = NULL, created_at = now()
    WHERE status_idempotency.created_at < now() - interval '1 hour'
RETURNING true
""")
_MADE = text("SELECT status_id FROM status_idempotency WHERE user_id = :user AND key = :key")
_REMEMBER = text("UPDATE status_idempotency SET status_id = :status WHERE user_id = :user AND key = :key")
_FORGET_OLD = text("DELETE FROM status_idempotency WHERE created_at < now() - interval '1 hour'")


async def claim(session: AsyncSession, *, user_id: int, key: str) -> int | None:
    """None if this request is the key's first (it makes the status), else the status made."""
    params = {"user": user_id, "key": key}
    if (await session.execute(_CLAIM, params)).first() is not None:
        return None
    made: int | None = await session.scalar(_MADE, params)
    return made


async def remember(session: AsyncSession, *, user_id: int, key: str, status_id: int) -> None:
    await session.execute(_REMEMBER, {"user": user_id, "key": key, "status": status_id})


async def forget_old(session: AsyncSession) -> None:
    await session.execute(_FORGET_OLD)
