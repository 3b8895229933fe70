"""post_term: the posts' words as an inverted list, newest post first, kept by triggers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

One row per (lexeme of post.search_vector, post id); see townsquare.search.models. Triggers on
`post` keep it exact in the writing transaction: rows added with a post (one statement for
many posts, COPY included), replaced when its text changes, removed with it (a user's posts
deleted with the account included) and emptied with it. The existing posts are filled in:
about 25 s for 1M posts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (function, trigger) pairs, one statement each.
TRIGGERS = [
    (
        """CREATE FUNCTION post_term_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO post_term (term, post_id)
    SELECT unnest(tsvector_to_array(added.search_vector)), added.id FROM added;
    RETURN NULL;
END
$$""",
        """CREATE TRIGGER post_term_add AFTER INSERT ON post
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION post_term_add()""",
    ),
    (
        """CREATE FUNCTION post_term_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM post_term USING (
        SELECT unnest(tsvector_to_array(removed.search_vector)) AS term, removed.id FROM removed
    ) AS gone
    WHERE post_term.term = gone.term AND post_term.post_id = gone.id;
    RETURN NULL;
END
$$""",
        """CREATE TRIGGER post_term_remove AFTER DELETE ON post
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION post_term_remove()""",
    ),
    # Per row, and only when the words change: a like updates the post's counters, not its text.
    (
        """CREATE FUNCTION post_term_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM post_term WHERE post_id = OLD.id AND term = ANY (tsvector_to_array(OLD.search_vector));
    INSERT INTO post_term (term, post_id) SELECT unnest(tsvector_to_array(NEW.search_vector)), NEW.id;
    RETURN NULL;
END
$$""",
        """CREATE TRIGGER post_term_replace AFTER UPDATE OF content ON post FOR EACH ROW
    WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector) EXECUTE FUNCTION post_term_replace()""",
    ),
    (
        """CREATE FUNCTION post_term_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM post_term;  -- not TRUNCATE: `TRUNCATE post, post_term` holds post_term open
    RETURN NULL;
END
$$""",
        "CREATE TRIGGER post_term_empty AFTER TRUNCATE ON post FOR EACH STATEMENT EXECUTE FUNCTION post_term_empty()",
    ),
]


def upgrade() -> None:
    op.create_table(
        "post_term",
        sa.Column("term", sa.Text(collation="C"), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
    )
    # Filled before the key is made: one sorted index build instead of millions of inserts.
    op.execute("INSERT INTO post_term (term, post_id) SELECT unnest(tsvector_to_array(search_vector)), id FROM post")
    op.create_primary_key("pk_post_term", "post_term", ["term", "post_id"])
    # Per-word frequencies for the planner, which picks the rarest word to walk first.
    op.execute("ALTER TABLE post_term ALTER COLUMN term SET STATISTICS 1000")
    for function, trigger in TRIGGERS:
        op.execute(function)
        op.execute(trigger)
    op.execute("ANALYZE post_term")


def downgrade() -> None:
    for name in ("post_term_add", "post_term_remove", "post_term_replace", "post_term_empty"):
        op.execute(f"DROP TRIGGER {name} ON post")
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("post_term")
