from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, CreatedAt, IdPk


class PostLike(Base):
    __tablename__ = "post_like"

    post_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("post.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    # Orders "who liked, newest first" and is that list's cursor.
    id: Mapped[int] = mapped_column(BigInteger, server_default=text("next_id()"), unique=True)
    created_at: Mapped[CreatedAt]

    __table_args__ = (
        Index("ix_post_like_post_id_id", post_id, id.desc()),
        Index("ix_post_like_user_id", user_id),
    )


class Comment(Base):
    __tablename__ = "comment"

    id: Mapped[IdPk]
    post_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("post.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    content: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[CreatedAt]


# A post's comments, oldest first.
Index("ix_comment_post_id_id", Comment.post_id, Comment.id)
