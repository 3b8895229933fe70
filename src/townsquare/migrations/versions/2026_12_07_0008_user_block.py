"""user_block: who blocked whom (townsquare.safety)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

The visibility rule looks a pair up both ways: (blocker, blocked) by the key, (blocked,
blocker) by its own index. A user's list of blocks, newest first, by (blocker, id).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_block",
        sa.Column("blocker_id", sa.BigInteger(), nullable=False),
        sa.Column("blocked_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("blocker_id <> blocked_id", name=op.f("ck_user_block_not_self")),
        sa.ForeignKeyConstraint(
            ["blocked_id"], ["user_account.id"], name=op.f("fk_user_block_blocked_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["blocker_id"], ["user_account.id"], name=op.f("fk_user_block_blocker_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_user_block")),
        sa.UniqueConstraint("id", name=op.f("uq_user_block_id")),
    )
    op.create_index("ix_user_block_blocked_id_blocker_id", "user_block", ["blocked_id", "blocker_id"], unique=False)
    op.create_index(
        "ix_user_block_blocker_id_id", "user_block", ["blocker_id", sa.literal_column("id DESC")], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_user_block_blocker_id_id", table_name="user_block")
    op.drop_index("ix_user_block_blocked_id_blocker_id", table_name="user_block")
    op.drop_table("user_block")
