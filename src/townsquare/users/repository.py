"""Every query of the users domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exists, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare import visibility
from townsquare.db.hot import HotReads, statement
from townsquare.users.models import Follow, UserAccount

EMAIL_INDEX = "uq_user_account_lower_email"
USERNAME_INDEX = "uq_user_account_lower_username"


def violated_constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


async def get(session: AsyncSession, user_id: int) -> UserAccount | None:
    return await session.get(UserAccount, user_id)


# Whether an account exists and is not hidden from the viewer (townsquare.visibility), as a
# hot read: for a hot page that found nothing, to tell "no such account" from "nothing yet".
_VISIBLE_SQL = "SELECT EXISTS (SELECT FROM user_account WHERE id = :account) AND NOT {hidden} AS visible"
_VISIBLE = statement(_VISIBLE_SQL.format(hidden=visibility.hidden_sql(":account", ":viewer")))
_VISIBLE_ANONYMOUS = statement(_VISIBLE_SQL.format(hidden=visibility.hidden_sql(":account", None)))


async def hot_visible(reads: HotReads, account_id: int, *, viewer_id: int | None) -> bool:
    if viewer_id is None:
        return bool(await reads.value(_VISIBLE_ANONYMOUS, {"account": account_id}))
    return bool(await reads.value(_VISIBLE, {"account": account_id, "viewer": viewer_id}))


async def username(session: AsyncSession, user_id: int) -> str | None:
    found = await session.execute(select(UserAccount.username).where(UserAccount.id == user_id))
    return found.scalar_one_or_none()


async def role(session: AsyncSession, user_id: int) -> str | None:
    found = await session.execute(select(UserAccount.role).where(UserAccount.id == user_id))
    return found.scalar_one_or_none()


async def get_with_follow_state(
    session: AsyncSession, user_id: int, viewer_id: int | None
) -> tuple[UserAccount, bool | None] | None:
    """The user and whether `viewer_id` follows them (None without a viewer), in one query."""
    followed = (
        exists().where(Follow.follower_id == viewer_id, Follow.followed_id == UserAccount.id)
        if viewer_id is not None
        else literal(None)
    )
    row = (await session.execute(select(UserAccount, followed).where(UserAccount.id == user_id))).one_or_none()
    return None if row is None else (row[0], row[1])


async def find_by_login(session: AsyncSession, login: str) -> UserAccount | None:
    """By email when it has an @ (usernames cannot), else by username; case-insensitive."""
    column = UserAccount.email if "@" in login else UserAccount.username
    return await session.scalar(select(UserAccount).where(func.lower(column) == login.lower()))


async def insert_user(
    session: AsyncSession, *, email: str, username: str, hashed_password: str, bio: str
) -> UserAccount:
    statement = (
        insert(UserAccount)
        .values(email=email, username=username, hashed_password=hashed_password, bio=bio)
        .returning(UserAccount)
    )
    user = await session.scalar(statement)
    assert user is not None
    return user


async def update_user(session: AsyncSession, user_id: int, values: dict[str, Any]) -> UserAccount | None:
    statement = (
        update(UserAccount)
        .where(UserAccount.id == user_id)
        .values(**values, updated_at=func.now())
        .returning(UserAccount)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(statement)


# Lock order, everywhere: user rows in id order first, follow rows after. Transactions
# that follow, unfollow and delete accounts at once then cannot wait on each other in a cycle.
_LOCK_PAIR = text(
    "SELECT id FROM user_account WHERE id = ANY(ARRAY[:follower, :followed]::bigint[]) ORDER BY id FOR NO KEY UPDATE"
)

# Both counters change in one statement, only when the follow row was really inserted or deleted.
_FOLLOW = text("""
WITH inserted AS (
    INSERT INTO follow (follower_id, followed_id) VALUES (:follower, :followed)
    ON CONFLICT DO NOTHING
    RETURNING created_at
)
UPDATE user_account
SET followers_count = followers_count + (id = :followed)::int,
    following_count = following_count + (id = :follower)::int
WHERE id = ANY(ARRAY[:follower, :followed]::bigint[]) AND EXISTS (SELECT FROM inserted)
RETURNING (SELECT created_at FROM inserted)
""")

_UNFOLLOW = text("""
WITH deleted AS (
    DELETE FROM follow WHERE follower_id = :follower AND followed_id = :followed
    RETURNING 1
)
UPDATE user_account
SET followers_count = followers_count - (id = :followed)::int,
    following_count = following_count - (id = :follower)::int
WHERE id = ANY(ARRAY[:follower, :followed]::bigint[]) AND EXISTS (SELECT FROM deleted)
""")


async def lock_pair(session: AsyncSession, a: int, b: int) -> bool:
    """Hold both user rows until commit, in id order (as a follow does); whether both exist."""
    found = (await session.execute(_LOCK_PAIR, {"follower": a, "followed": b})).all()
    return len(found) == 2


async def follow(session: AsyncSession, *, follower_id: int, followed_id: int) -> datetime | None:
    """Insert the follow if missing; its time when it was new. The caller holds both user rows
    (`lock_pair`)."""
    params = {"follower": follower_id, "followed": followed_id}
    followed_at: datetime | None = (await session.execute(_FOLLOW, params)).scalars().first()
    return followed_at


async def unfollow(session: AsyncSession, *, follower_id: int, followed_id: int) -> bool:
    params = {"follower": follower_id, "followed": followed_id}
    await session.execute(_LOCK_PAIR, params)
    result = await session.execute(_UNFOLLOW, params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def follow_list(
    session: AsyncSession, user_id: int, *, viewer_id: int | None, followers: bool, before: int | None, limit: int
) -> Sequence[Row[int, int, str]]:
    """Who follows `user_id` (followers=True) or whom they follow, newest follow first.

    Rows of (follow_id, id, username); `limit + 1` of them, for the page and its cursor.
    """
    subject, other = (Follow.followed_id, Follow.follower_id) if followers else (Follow.follower_id, Follow.followed_id)
    statement = (
        select(Follow.id.label("follow_id"), UserAccount.id, UserAccount.username)
        .join(UserAccount, UserAccount.id == other)
        .where(subject == user_id, ~visibility.hidden(other, viewer_id))
        .order_by(Follow.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        statement = statement.where(Follow.id < before)
    return (await session.execute(statement)).all()


async def lock_if_password(
    session: AsyncSession, user_id: int, hashed_password: str, *, exclusive: bool
) -> datetime | bool | None:
    """Lock the row if its hash is still `hashed_password`: its `suspended_at` (None: not
    suspended); False if the account is gone or its password changed."""
    statement = (
        select(UserAccount.suspended_at)
        .where(UserAccount.id == user_id, UserAccount.hashed_password == hashed_password)
        .with_for_update(read=not exclusive, key_share=exclusive)
    )
    found = (await session.execute(statement)).first()
    return False if found is None else found[0]


# In id order, like every other path that locks user rows. The neighbours only get their
# counters changed (NO KEY UPDATE: their own likes and posts, which take a KEY SHARE lock for
# the foreign key, go on); the leaver's row is then locked FOR UPDATE, so that nothing
# referencing it can start.
_LOCK_USER_AND_NEIGHBOURS = text("""
SELECT id FROM user_account
WHERE id = :user
   OR id IN (SELECT followed_id FROM follow WHERE follower_id = :user)
   OR id IN (SELECT follower_id FROM follow WHERE followed_id = :user)
ORDER BY id
FOR NO KEY UPDATE
""")
_LOCK_USER_EXCLUSIVELY = text("SELECT id FROM user_account WHERE id = :user FOR UPDATE")


async def lock_with_follows(session: AsyncSession, user_id: int) -> bool:
    """Lock, in id order, the user and everyone they follow or are followed by; False if gone."""
    await session.execute(_LOCK_USER_AND_NEIGHBOURS, {"user": user_id})
    return (await session.execute(_LOCK_USER_EXCLUSIVELY, {"user": user_id})).first() is not None


# Run with the rows locked (see `lock_with_follows`), so no follow of or by them can start meanwhile.
_UNCOUNT_FOLLOWS = (
    text("""
    UPDATE user_account SET followers_count = followers_count - 1
    FROM follow WHERE follow.follower_id = :user AND user_account.id = follow.followed_id
    """),
    text("""
    UPDATE user_account SET following_count = following_count - 1
    FROM follow WHERE follow.followed_id = :user AND user_account.id = follow.follower_id
    """),
)


async def uncount_follows(session: AsyncSession, user_id: int) -> None:
    """Take a leaving user's follows off everyone else's counters."""
    for uncount in _UNCOUNT_FOLLOWS:
        await session.execute(uncount, {"user": user_id})


async def delete_user(session: AsyncSession, user_id: int) -> None:
    # Follows and sessions go with the row (ON DELETE CASCADE).
    await session.execute(delete(UserAccount).where(UserAccount.id == user_id))


async def get_many(session: AsyncSession, user_ids: Sequence[int]) -> Sequence[UserAccount]:
    return (await session.scalars(select(UserAccount).where(UserAccount.id.in_(user_ids)))).all()


_RELATIONSHIPS = text("""
SELECT other.id,
       EXISTS (SELECT FROM follow WHERE follower_id = :viewer AND followed_id = other.id) AS following,
       EXISTS (SELECT FROM follow WHERE follower_id = other.id AND followed_id = :viewer) AS followed_by
FROM user_account AS other WHERE other.id = ANY(:ids)
""")


async def relationships(session: AsyncSession, viewer_id: int, user_ids: Sequence[int]) -> dict[int, tuple[bool, bool]]:
    """For each existing user among `user_ids`: (the viewer follows them, they follow the viewer)."""
    rows = (await session.execute(_RELATIONSHIPS, {"viewer": viewer_id, "ids": list(user_ids)})).all()
    return {row.id: (row.following, row.followed_by) for row in rows}
