from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, CreatedAt, IdPk


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


class UserMute(Base):
    """One-way: the muter stops seeing the muted account in feeds, search, comments and (unless
    `notifications` is false) notifications; nothing changes for the muted account."""

    __tablename__ = "user_mute"

    muter_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    muted_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    id: Mapped[int] = mapped_column(BigInteger, server_default=text("next_id()"), unique=True)
    notifications: Mapped[bool] = mapped_column(server_default=text("true"))
    # NULL: until lifted. Past mutes are ignored at once and deleted by the upkeep job.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[CreatedAt]

    __table_args__ = (
        CheckConstraint("muter_id <> muted_id", name="not_self"),
        Index("ix_user_mute_muter_id_id", muter_id, id.desc()),
    )


class Report(Base):
    """A user's report of an account, or of one of its posts or comments. It keeps the ids and
    the reported text as it was, so it outlives an edit or the content's removal."""

    __tablename__ = "report"

    id: Mapped[IdPk]
    reporter_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # The reported account: the author, for a post or a comment.
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(BigInteger)
    comment_id: Mapped[int | None] = mapped_column(BigInteger)
    content: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[CreatedAt]
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    resolution: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        CheckConstraint("post_id IS NULL OR comment_id IS NULL", name="one_target"),
        Index("ix_report_open", "id", postgresql_where=text("resolved_at IS NULL")),
    )


class ModerationAction(Base):
    """The audit log: who did what to whom, when. Targets are ids without foreign keys, and the
    moderator's name is copied, so that an entry outlives everything it names."""

    __tablename__ = "moderation_action"

    id: Mapped[IdPk]
    # NULL with moderator "(command line)": an operator's `townsquare admin` command.
    moderator_id: Mapped[int | None] = mapped_column(BigInteger)
    moderator: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    post_id: Mapped[int | None] = mapped_column(BigInteger)
    comment_id: Mapped[int | None] = mapped_column(BigInteger)
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[CreatedAt]
