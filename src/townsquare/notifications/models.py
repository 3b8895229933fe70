from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, IdPk

TYPES = ("like", "comment", "follow")


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[IdPk]
    recipient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("post.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    # One notification per action however often its job runs: `like:<actor>:<post>`,
    # `comment:<comment>`, `follow:<actor>:<followed>` (see notifications.service.dedupe_key).
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    read: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The time of the action, not of the job: lists are ordered by it whenever the worker ran.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "(type = 'like' AND post_id IS NOT NULL AND comment_id IS NULL)"
            " OR (type = 'comment' AND post_id IS NOT NULL AND comment_id IS NOT NULL)"
            " OR (type = 'follow' AND post_id IS NULL AND comment_id IS NULL)",
            name="type_matches_target",
        ),
    )


# The owner's list, newest first, and its unread part (which also serves the unread count).
Index(
    "ix_notification_recipient_id_created_at",
    Notification.recipient_id,
    Notification.created_at.desc(),
    Notification.id.desc(),
)
Index(
    "ix_notification_recipient_id_unread",
    Notification.recipient_id,
    Notification.created_at.desc(),
    Notification.id.desc(),
    postgresql_where=~Notification.read,
)
