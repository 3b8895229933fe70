"""Mutes, reports and moderation (townsquare.safety); suspension and the moderator role

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

user_account gains `suspended_at` (a suspended account's content is hidden everywhere: the
visibility rule reads the few suspended ids from a partial index) and `role`. user_mute is
keyed like user_block, with the list's (muter, id) index. report keeps what was reported (ids
and the content as it was), so it outlives the content; the open queue has a partial index.
moderation_action is the audit log: it names its targets by id without foreign keys, so that it
outlives them too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("user_account", sa.Column("role", sa.String(20), server_default="user", nullable=False))
    op.create_check_constraint("role", "user_account", "role IN ('user', 'moderator')")
    op.create_index(
        "ix_user_account_suspended", "user_account", ["id"], postgresql_where=sa.text("suspended_at IS NOT NULL")
    )
    op.create_table(
        "user_mute",
        sa.Column("muter_id", sa.BigInteger(), nullable=False),
        sa.Column("muted_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("notifications", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("muter_id <> muted_id", name=op.f("ck_user_mute_not_self")),
        sa.ForeignKeyConstraint(
            ["muted_id"], ["user_account.id"], name=op.f("fk_user_mute_muted_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["muter_id"], ["user_account.id"], name=op.f("fk_user_mute_muter_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("muter_id", "muted_id", name=op.f("pk_user_mute")),
        sa.UniqueConstraint("id", name=op.f("uq_user_mute_id")),
    )
    op.create_index("ix_user_mute_muter_id_id", "user_mute", ["muter_id", sa.literal_column("id DESC")], unique=False)
    op.create_index("ix_user_mute_muted_id", "user_mute", ["muted_id"], unique=False)
    op.create_index("ix_user_mute_expires_at", "user_mute", ["expires_at"], unique=False)
    op.create_table(
        "report",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=True),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.Column("resolution", sa.String(1000), nullable=True),
        sa.CheckConstraint("post_id IS NULL OR comment_id IS NULL", name=op.f("ck_report_one_target")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["user_account.id"], name=op.f("fk_report_account_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["user_account.id"], name=op.f("fk_report_reporter_id_user_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["user_account.id"], name=op.f("fk_report_resolved_by_user_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
    )
    op.create_index("ix_report_account_id", "report", ["account_id"], unique=False)
    op.create_index("ix_report_reporter_id", "report", ["reporter_id"], unique=False)
    op.create_index("ix_report_resolved_by", "report", ["resolved_by"], unique=False)
    op.create_index("ix_report_open", "report", ["id"], postgresql_where=sa.text("resolved_at IS NULL"))
    op.create_table(
        "moderation_action",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("moderator_id", sa.BigInteger(), nullable=True),
        sa.Column("moderator", sa.String(30), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_action")),
    )


def downgrade() -> None:
    op.drop_table("moderation_action")
    op.drop_index("ix_report_open", table_name="report")
    op.drop_index("ix_report_resolved_by", table_name="report")
    op.drop_index("ix_report_reporter_id", table_name="report")
    op.drop_index("ix_report_account_id", table_name="report")
    op.drop_table("report")
    op.drop_index("ix_user_mute_expires_at", table_name="user_mute")
    op.drop_index("ix_user_mute_muted_id", table_name="user_mute")
    op.drop_index("ix_user_mute_muter_id_id", table_name="user_mute")
    op.drop_table("user_mute")
    op.drop_index("ix_user_account_suspended", table_name="user_account")
    op.drop_constraint("role", "user_account", type_="check")
    op.drop_column("user_account", "role")
    op.drop_column("user_account", "suspended_at")
