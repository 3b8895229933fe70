"""Instance-wide counts for the instance documents (estimates: exact counts would scan tables)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The planner's row estimates, kept by ANALYZE: cheap at any size; -1 before the first ANALYZE.
_COUNTS = text("""
SELECT (SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = 'user_account'::regclass),
       (SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = 'post'::regclass),
       (SELECT count(*) FROM (SELECT FROM user_account LIMIT 1000) AS few_users),
       (SELECT count(*) FROM (SELECT FROM post LIMIT 1000) AS few_posts)
""")


async def counts(session: AsyncSession) -> tuple[int, int]:
    """(users, statuses): exact below 1,000, the planner's estimate above."""
    users_estimate, posts_estimate, few_users, few_posts = (await session.execute(_COUNTS)).one()
    users = few_users if few_users < 1000 else max(users_estimate, few_users)
    posts = few_posts if few_posts < 1000 else max(posts_estimate, few_posts)
    return int(users), int(posts)
