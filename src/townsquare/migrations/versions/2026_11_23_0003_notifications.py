"""notifications and the job queue: the notification table and procrastinate's schema

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCRASTINATE_SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0.sql"

DROP_PROCRASTINATE = """
DO $$
DECLARE routine regprocedure;
BEGIN
    FOR routine IN
        SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE 'DROP ROUTINE ' || routine || ' CASCADE';
    END LOOP;
END;
$$;
DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers;
DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status;
"""


def _run_script(script: str) -> None:
    # Several statements and PL/pgSQL `%` placeholders: run on psycopg itself, with no parameters.
    op.get_bind().connection.driver_connection.execute(script)  # type: ignore[union-attr]


def upgrade() -> None:
    _run_script(PROCRASTINATE_SCHEMA.read_text())
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("read", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(type = 'like' AND post_id IS NOT NULL AND comment_id IS NULL) OR (type = 'comment' AND post_id IS NOT NULL AND comment_id IS NOT NULL) OR (type = 'follow' AND post_id IS NULL AND comment_id IS NULL)",
            name=op.f("ck_notification_type_matches_target"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_notification_actor_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comment.id"], name=op.f("fk_notification_comment_id_comment"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_notification_post_id_post"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["user_account.id"],
            name=op.f("fk_notification_recipient_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
    )
    op.create_index(op.f("ix_notification_actor_id"), "notification", ["actor_id"], unique=False)
    op.create_index(op.f("ix_notification_comment_id"), "notification", ["comment_id"], unique=False)
    op.create_index(op.f("ix_notification_post_id"), "notification", ["post_id"], unique=False)
    op.create_index(
        "ix_notification_recipient_id_created_at",
        "notification",
        ["recipient_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_notification_recipient_id_unread",
        "notification",
        ["recipient_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("NOT read"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_notification_recipient_id_unread", table_name="notification", postgresql_where=sa.text("NOT read")
    )
    op.drop_index("ix_notification_recipient_id_created_at", table_name="notification")
    op.drop_index(op.f("ix_notification_post_id"), table_name="notification")
    op.drop_index(op.f("ix_notification_comment_id"), table_name="notification")
    op.drop_index(op.f("ix_notification_actor_id"), table_name="notification")
    op.drop_table("notification")
    _run_script(DROP_PROCRASTINATE)
