"""oauth apps, tokens and codes; Idempotency-Key of status creates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

For the Mastodon client API: apps registered by clients, their access tokens (each in a login
session, so that logout, password change and deletion end them), single-use authorization
codes, and the Idempotency-Key of `POST /api/v1/statuses`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_app",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("next_id()"), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("client_secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("website", sa.String(length=2000), nullable=True),
        sa.Column("redirect_uris", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_app")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_app_client_id")),
    )
    op.create_table(
        "oauth_code",
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["oauth_app.id"], name=op.f("fk_oauth_code_app_id_oauth_app"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_oauth_code_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oauth_code")),
    )
    op.create_index(op.f("ix_oauth_code_app_id"), "oauth_code", ["app_id"], unique=False)
    op.create_index(op.f("ix_oauth_code_expires_at"), "oauth_code", ["expires_at"], unique=False)
    op.create_index(op.f("ix_oauth_code_user_id"), "oauth_code", ["user_id"], unique=False)
    op.create_table(
        "status_idempotency",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_status_idempotency_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_status_idempotency")),
    )
    op.create_index(op.f("ix_status_idempotency_created_at"), "status_idempotency", ["created_at"], unique=False)
    op.create_table(
        "oauth_token",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("refresh_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["oauth_app.id"], name=op.f("fk_oauth_token_app_id_oauth_app"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["refresh_session.id"],
            name=op.f("fk_oauth_token_session_id_refresh_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oauth_token")),
        sa.UniqueConstraint("refresh_hash", name=op.f("uq_oauth_token_refresh_hash")),
    )
    op.create_index(op.f("ix_oauth_token_app_id"), "oauth_token", ["app_id"], unique=False)
    op.create_index(op.f("ix_oauth_token_session_id"), "oauth_token", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_oauth_token_session_id"), table_name="oauth_token")
    op.drop_index(op.f("ix_oauth_token_app_id"), table_name="oauth_token")
    op.drop_table("oauth_token")
    op.drop_index(op.f("ix_status_idempotency_created_at"), table_name="status_idempotency")
    op.drop_table("status_idempotency")
    op.drop_index(op.f("ix_oauth_code_user_id"), table_name="oauth_code")
    op.drop_index(op.f("ix_oauth_code_expires_at"), table_name="oauth_code")
    op.drop_index(op.f("ix_oauth_code_app_id"), table_name="oauth_code")
    op.drop_table("oauth_code")
    op.drop_table("oauth_app")
