"""posts and interactions: posts, likes and comments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("like_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("comment_count", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("like_count >= 0 AND comment_count >= 0", name=op.f("ck_post_counts")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_post_author_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post")),
    )
    op.create_index("ix_post_author_id_id", "post", ["author_id", sa.literal_column("id DESC")], unique=False)
    op.create_table(
        "comment",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_comment_author_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_comment_post_id_post"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    op.create_index(op.f("ix_comment_author_id"), "comment", ["author_id"], unique=False)
    op.create_index("ix_comment_post_id_id", "comment", ["post_id", "id"], unique=False)
    op.create_table(
        "post_like",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"], name=op.f("fk_post_like_post_id_post"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_post_like_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_like")),
        sa.UniqueConstraint("id", name=op.f("uq_post_like_id")),
    )
    op.create_index("ix_post_like_post_id_id", "post_like", ["post_id", sa.literal_column("id DESC")], unique=False)
    op.create_index("ix_post_like_user_id", "post_like", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_post_like_user_id", table_name="post_like")
    op.drop_index("ix_post_like_post_id_id", table_name="post_like")
    op.drop_table("post_like")
    op.drop_index("ix_comment_post_id_id", table_name="comment")
    op.drop_index(op.f("ix_comment_author_id"), table_name="comment")
    op.drop_table("comment")
    op.drop_index("ix_post_author_id_id", table_name="post")
    op.drop_table("post")
