"""search: full-text vectors of posts and bios, username prefix and trigram indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Adding the stored generated columns rewrites `post` and `user_account` once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Trusted extensions: the database's owner may create them (PostgreSQL >= 13). pg_trgm for
    # username similarity, fuzzystrmatch for the edit distance of typos. Left in place on
    # downgrade: something else may use them.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
    op.add_column(
        "post",
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, (content)::text)", persisted=True),
            nullable=False,
        ),
    )
    op.create_index("ix_post_search_vector", "post", ["search_vector"], unique=False, postgresql_using="gin")
    op.add_column(
        "user_account",
        sa.Column(
            "bio_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, (bio)::text)", persisted=True),
            nullable=False,
        ),
    )
    op.create_index("ix_user_account_bio_vector", "user_account", ["bio_vector"], unique=False, postgresql_using="gin")
    op.create_index(
        "ix_user_account_lower_username_pattern",
        "user_account",
        [sa.literal_column("lower(username)").label("lower_username")],
        unique=False,
        postgresql_ops={"lower_username": "text_pattern_ops"},
    )
    op.create_index(
        "ix_user_account_lower_username_trgm",
        "user_account",
        [sa.literal_column("lower(username)").label("lower_username")],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"lower_username": "gist_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index(
        "ix_user_account_lower_username_trgm",
        table_name="user_account",
        postgresql_using="gist",
        postgresql_ops={"lower_username": "gist_trgm_ops"},
    )
    op.drop_index(
        "ix_user_account_lower_username_pattern",
        table_name="user_account",
        postgresql_ops={"lower_username": "text_pattern_ops"},
    )
    op.drop_index("ix_user_account_bio_vector", table_name="user_account", postgresql_using="gin")
    op.drop_column("user_account", "bio_vector")
    op.drop_index("ix_post_search_vector", table_name="post", postgresql_using="gin")
    op.drop_column("post", "search_vector")
