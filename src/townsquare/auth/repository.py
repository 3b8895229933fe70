"""Every query of the auth domain: login sessions and their refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth.gate import ALIVE
from townsquare.auth.models import RefreshSession, RefreshToken


async def create_session(session: AsyncSession, *, user_id: int, expires_at: datetime, token_hash: bytes | None) -> int:
    session_id: int | None = await session.scalar(
        insert(RefreshSession).values(user_id=user_id, expires_at=expires_at).returning(RefreshSession.id)
    )
    assert session_id is not None
    if token_hash is not None:
        await add_token(session, session_id=session_id, token_hash=token_hash)
    return session_id


async def add_token(session: AsyncSession, *, session_id: int, token_hash: bytes) -> None:
    await session.execute(insert(RefreshToken).values(session_id=session_id, token_hash=token_hash))


async def lock_session_of(session: AsyncSession, token_hash: bytes) -> RefreshSession | None:
    """The token's session, locked until commit: refreshes, logouts and password changes of
    one session run one at a time, and all of them lock the session before its tokens."""
    token_session = select(RefreshToken.session_id).where(RefreshToken.token_hash == token_hash).scalar_subquery()
    statement = select(RefreshSession).where(RefreshSession.id == token_session).with_for_update()
    return await session.scalar(statement)


async def claim_token(session: AsyncSession, token_hash: bytes) -> bool:
    """Mark the token used; False if it already was (it is being replayed)."""
    claimed = await session.scalar(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=func.now())
        .returning(RefreshToken.session_id)
    )
    return claimed is not None


async def delete_session(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(RefreshSession).where(RefreshSession.id == session_id))


async def delete_sessions_of(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(RefreshSession).where(RefreshSession.user_id == user_id))


# Run on every authenticated request but the hot reads' (whose own statement carries it,
# auth.gate): one primary-key lookup of the session. A session row exists only while its user
# does (ON DELETE CASCADE), so the user's row is not read; loading it as an ORM object cost more
# CPU than the rest of a feed request's statement (about 0.4 ms).
_SESSION_ALIVE = text(f"SELECT {ALIVE}")


async def session_alive(session: AsyncSession, *, session_id: int, user_id: int) -> bool:
    """Whether the user's login session exists and has not expired."""
    return bool(await session.scalar(_SESSION_ALIVE, {"session": session_id, "viewer": user_id}))


async def delete_expired_sessions(session: AsyncSession, *, limit: int) -> int:
    """Delete up to `limit` expired login sessions (their tokens cascade); how many went."""
    expired = select(RefreshSession.id).where(RefreshSession.expires_at <= func.now()).limit(limit)
    result = await session.execute(delete(RefreshSession).where(RefreshSession.id.in_(expired.scalar_subquery())))
    return int(result.rowcount)  # type: ignore[attr-defined]
