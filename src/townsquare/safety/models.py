from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, CreatedAt


class UserBlock(Base):
    __tablename__ = "user_block"

    blocker_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    # Orders "my blocks, newest first" and is that list's cursor.
    id: Mapped[int] = mapped_column(BigInteger, server_default=text("next_id()"), unique=True)
    created_at: Mapped[CreatedAt]

    __table_args__ = (
        CheckConstraint("blocker_id <> blocked_id", name="not_self"),
        # The other direction of the visibility rule's two lookups (the key serves the first),
        # and the blocked account's deletion.
        Index("ix_user_block_blocked_id_blocker_id", blocked_id, blocker_id),
        Index("ix_user_block_blocker_id_id", blocker_id, id.desc()),
    )
