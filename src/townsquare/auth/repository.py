"""Every query of the auth domain: login sessions and their refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth.models import RefreshSession, RefreshToken
from townsquare.users.models import UserAccount


async def create_session(session: AsyncSession, *, user_id: int, expires_at: datetime, token_hash: bytes) -> int:
    session_id: int | None = await session.scalar(
        insert(RefreshSession).values(user_id=user_id, expires_at=expires_at).returning(RefreshSession.id)
    )
    assert session_id is not None
    await add_token(session, session_id=session_id, token_hash=token_hash)
    return session_id


async def add_token(session: AsyncSession, *, session_id: int, token_hash: bytes) -> None:
    await session.execute(insert(RefreshToken).values(session_id=session_id, token_hash=token_hash))


async def lock_token(session: AsyncSession, token_hash: bytes) -> tuple[RefreshToken, RefreshSession] | None:
    """The token and its session, the session locked so that one refresh runs at a time."""
    statement = (
        select(RefreshToken, RefreshSession)
        .join(RefreshSession, RefreshSession.id == RefreshToken.session_id)
        .where(RefreshToken.token_hash == token_hash)
        .with_for_update(of=RefreshSession)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])


async def mark_rotated(session: AsyncSession, token_hash: bytes) -> None:
    await session.execute(
        update(RefreshToken).where(RefreshToken.token_hash == token_hash).values(rotated_at=func.now())
    )


async def delete_session(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(RefreshSession).where(RefreshSession.id == session_id))


async def delete_sessions_of(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(RefreshSession).where(RefreshSession.user_id == user_id))


async def session_user(session: AsyncSession, *, session_id: int, user_id: int) -> UserAccount | None:
    """The user of a live session: one indexed lookup on every authenticated request."""
    statement = (
        select(UserAccount)
        .join(RefreshSession, RefreshSession.user_id == UserAccount.id)
        .where(RefreshSession.id == session_id, UserAccount.id == user_id, RefreshSession.expires_at > func.now())
    )
    return await session.scalar(statement)
