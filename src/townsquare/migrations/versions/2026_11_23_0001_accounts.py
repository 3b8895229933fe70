"""accounts: users, follows and login sessions

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Milliseconds since 2026-01-01T00:00:00Z in the high 48 bits, a wrapping sequence in the
# low 16: time-sortable across processes, 65,536 ids per millisecond, made by the database.
NEXT_ID = """
CREATE FUNCTION next_id() RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1767225600000) << 16)
         | (nextval('id_sequence') % 65536)
$$
"""


def upgrade() -> None:
    op.execute("CREATE SEQUENCE id_sequence")
    op.execute(NEXT_ID)

    op.create_table(
        "user_account",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("hashed_password", sa.String(length=255), nullable=False),
        sa.Column("bio", sa.String(length=300), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("followers_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("following_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("posts_count", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "followers_count >= 0 AND following_count >= 0 AND posts_count >= 0",
            name=op.f("ck_user_account_counts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
    )
    op.create_index("uq_user_account_lower_email", "user_account", [sa.literal_column("lower(email)")], unique=True)
    op.create_index(
        "uq_user_account_lower_username", "user_account", [sa.literal_column("lower(username)")], unique=True
    )

    op.create_table(
        "follow",
        sa.Column("follower_id", sa.BigInteger(), nullable=False),
        sa.Column("followed_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("follower_id <> followed_id", name=op.f("ck_follow_not_self")),
        sa.ForeignKeyConstraint(
            ["followed_id"],
            ["user_account.id"],
            name=op.f("fk_follow_followed_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["user_account.id"],
            name=op.f("fk_follow_follower_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follower_id", "followed_id", name=op.f("pk_follow")),
        sa.UniqueConstraint("id", name=op.f("uq_follow_id")),
    )
    # Followers / following lists, newest follow first.
    op.create_index("ix_follow_followed_id_id", "follow", ["followed_id", sa.literal_column("id DESC")])
    op.create_index("ix_follow_follower_id_id", "follow", ["follower_id", sa.literal_column("id DESC")])

    op.create_table(
        "refresh_session",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_refresh_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_session")),
    )
    op.create_index(op.f("ix_refresh_session_expires_at"), "refresh_session", ["expires_at"])
    op.create_index(op.f("ix_refresh_session_user_id"), "refresh_session", ["user_id"])

    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["refresh_session.id"],
            name=op.f("fk_refresh_token_session_id_refresh_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_token")),
    )
    op.create_index(op.f("ix_refresh_token_session_id"), "refresh_token", ["session_id"])


def downgrade() -> None:
    op.drop_table("refresh_token")
    op.drop_table("refresh_session")
    op.drop_table("follow")
    op.drop_table("user_account")
    op.execute("DROP FUNCTION next_id()")
    op.execute("DROP SEQUENCE id_sequence")
