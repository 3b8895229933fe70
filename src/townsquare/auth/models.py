from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, CreatedAt, IdPk


class RefreshSession(Base):
    """A login: lives until logout, password change, refresh-token reuse or expiry.

    Access tokens name their session (`sid`), so deleting the row ends them at once too.
    """

    __tablename__ = "refresh_session"

    id: Mapped[IdPk]
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class RefreshToken(Base):
    """Every refresh token a session was given; a rotated one is kept to recognise its reuse."""

    __tablename__ = "refresh_token"

    # SHA-256 of the token: tokens are 256 random bits, so a fast hash is enough.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("refresh_session.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[CreatedAt]
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
