from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Computed, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, CreatedAt, IdPk


class Post(Base):
    __tablename__ = "post"

    id: Mapped[IdPk]
    author_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    like_count: Mapped[int] = mapped_column(server_default="0")
    comment_count: Mapped[int] = mapped_column(server_default="0")
    # Search: the content's English words (stemmed), kept by PostgreSQL itself on every write.
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('english'::regconfig, (content)::text)", persisted=True), deferred=True
    )

    __table_args__ = (CheckConstraint("like_count >= 0 AND comment_count >= 0", name="counts"),)


# The feed and a user's posts read each author's newest posts from this index.
Index("ix_post_author_id_id", Post.author_id, Post.id.desc())
# Full-text search over content.
Index("ix_post_search_vector", Post.search_vector, postgresql_using="gin")
