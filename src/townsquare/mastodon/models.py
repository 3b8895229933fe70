from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base


class StatusIdempotency(Base):
    """`Idempotency-Key` of a status create: a retried request answers with the status the
    first one made (Mastodon keeps a key for an hour, and so do we)."""

    __tablename__ = "status_idempotency"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    # The post or comment made (ids never collide between the two); NULL while being made.
    status_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
