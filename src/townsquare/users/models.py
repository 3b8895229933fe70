from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Computed, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, CreatedAt, IdPk


class UserAccount(Base):
    __tablename__ = "user_account"

    id: Mapped[IdPk]
    email: Mapped[str] = mapped_column(String(320))
    username: Mapped[str] = mapped_column(String(30))
    hashed_password: Mapped[str] = mapped_column(String(255))
    bio: Mapped[str] = mapped_column(String(300), server_default="")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Denormalised counts, changed in the same transaction as the rows they count.
    followers_count: Mapped[int] = mapped_column(server_default="0")
    following_count: Mapped[int] = mapped_column(server_default="0")
    posts_count: Mapped[int] = mapped_column(server_default="0")
    # Set by a moderator (townsquare.safety): the account cannot sign in, and the visibility
    # rule hides it and everything it wrote, from everyone, until it is lifted.
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "moderator" is granted on the command line only (townsquare admin grant-moderator).
    role: Mapped[str] = mapped_column(String(20), server_default="user")
    # Search: the bio's English words, kept by PostgreSQL itself.
    bio_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('english'::regconfig, (bio)::text)", persisted=True), deferred=True
    )

    __table_args__ = (
        # Case-insensitive uniqueness lives in the database, not in a check-then-insert.
        Index("uq_user_account_lower_email", func.lower(email), unique=True),
        Index("uq_user_account_lower_username", func.lower(username), unique=True),
        # Search: username prefixes (LIKE 'abc%'), typos (trigram distance), bio words.
        Index(
            "ix_user_account_lower_username_pattern",
            func.lower(username).label("lower_username"),
            postgresql_ops={"lower_username": "text_pattern_ops"},
            postgresql_include=["id", "username"],  # ranked by length from the index alone
        ),
        Index(
            "ix_user_account_lower_username_trgm",
            func.lower(username).label("lower_username"),
            postgresql_using="gist",
            postgresql_ops={"lower_username": "gist_trgm_ops"},
        ),
        Index("ix_user_account_bio_vector", bio_vector, postgresql_using="gin"),
        CheckConstraint("followers_count >= 0 AND following_count >= 0 AND posts_count >= 0", name="counts"),
        CheckConstraint("role IN ('user', 'moderator')", name="role"),
        # The few suspended accounts, which the visibility rule reads for every statement it is in.
        Index("ix_user_account_suspended", "id", postgresql_where=text("suspended_at IS NOT NULL")),
    )


class Follow(Base):
    __tablename__ = "follow"

    follower_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    followed_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    # Its own time-sortable id orders "newest follow first" and serves as the list cursor.
    id: Mapped[int] = mapped_column(BigInteger, server_default=text("next_id()"), unique=True)
    created_at: Mapped[CreatedAt]

    __table_args__ = (
        CheckConstraint("follower_id <> followed_id", name="not_self"),
        Index("ix_follow_followed_id_id", followed_id, id.desc()),
        Index("ix_follow_follower_id_id", follower_id, id.desc()),
    )
