"""The rules of profiles and follows. Functions take the session first; callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare import visibility
from townsquare.db.hot import HotReads
from townsquare.kit.pagination import page_of
from townsquare.notifications import service as notifications
from townsquare.notifications.service import Deferrer
from townsquare.users import repository
from townsquare.users.errors import CannotFollowSelf, EmailTaken, NotProfileOwner, UsernameTaken, UserNotFound
from townsquare.users.models import UserAccount
from townsquare.users.schemas import ProfileUpdate, UserSummary


async def create_user(
    session: AsyncSession, *, email: str, username: str, hashed_password: str, bio: str
) -> UserAccount:
    try:
        return await repository.insert_user(
            session, email=email, username=username, hashed_password=hashed_password, bio=bio
        )
    except IntegrityError as error:
        raise _taken(error) from None


async def find_by_login(session: AsyncSession, login: str) -> UserAccount | None:
    return await repository.find_by_login(session, login)


async def hold_credentials(
    session: AsyncSession, *, user_id: int, hashed_password: str, for_update: bool = False
) -> Literal["held", "changed", "suspended"]:
    """Lock the account (shared, or exclusive to update it) if its hash is still
    `hashed_password`: "changed" if it is gone or its password changed, "suspended" if it was
    suspended meanwhile."""
    found = await repository.lock_if_password(session, user_id, hashed_password, exclusive=for_update)
    if found is False:
        return "changed"
    return "held" if found is None else "suspended"


async def set_password_hash(session: AsyncSession, *, user_id: int, hashed_password: str) -> None:
    await repository.update_user(session, user_id, {"hashed_password": hashed_password})


async def get_profile(session: AsyncSession, *, user_id: int, viewer_id: int | None) -> tuple[UserAccount, bool | None]:
    found = await repository.get_with_follow_state(session, user_id, viewer_id)
    if found is None or await _hidden(session, found[0], viewer_id):
        raise UserNotFound()  # suspended, or a block between you: as if they did not exist
    return found


async def _hidden(session: AsyncSession, user: UserAccount, viewer_id: int | None) -> bool:
    """The visibility rule for a loaded account: suspended (read from the row), or a block."""
    if user.suspended_at is not None:
        return True
    return viewer_id is not None and await visibility.is_hidden(session, account_id=user.id, viewer_id=viewer_id)


async def update_profile(session: AsyncSession, *, user_id: int, editor_id: int, changes: ProfileUpdate) -> UserAccount:
    if user_id != editor_id:
        raise NotProfileOwner()
    values = changes.model_dump(exclude_unset=True)
    try:
        user = await repository.update_user(session, user_id, values)
    except IntegrityError as error:
        raise _taken(error) from None
    if user is None:
        raise UserNotFound()
    return user


async def follow(
    session: AsyncSession, jobs: Deferrer, *, follower_id: int, followed_id: int
) -> tuple[UserAccount, bool | None]:
    if follower_id == followed_id:
        raise CannotFollowSelf()
    # Under both rows' locks, which a block takes too: a block and a follow never cross.
    if not await repository.lock_pair(session, follower_id, followed_id) or await visibility.is_hidden(
        session, account_id=followed_id, viewer_id=follower_id
    ):
        raise UserNotFound()  # suspended, or a block between you: as if they did not exist
    followed_at = await repository.follow(session, follower_id=follower_id, followed_id=followed_id)
    if followed_at is not None:
        await notifications.announce(
            session, jobs, type="follow", actor_id=follower_id, target_id=followed_id, at=followed_at
        )
    return await get_profile(session, user_id=followed_id, viewer_id=follower_id)


async def lock_pair(session: AsyncSession, a: int, b: int) -> bool:
    """Hold both users' rows (id order) until commit; whether both exist."""
    return await repository.lock_pair(session, a, b)


async def unfollow(session: AsyncSession, *, follower_id: int, followed_id: int) -> None:
    await repository.unfollow(session, follower_id=follower_id, followed_id=followed_id)


async def set_suspended(session: AsyncSession, *, user_id: int, suspended: bool) -> UserAccount:
    """Suspend the account (or lift it): its row is locked until commit, so a login racing this
    waits, then finds it suspended. UserNotFound if there is no such account."""
    user = await repository.update_user(session, user_id, {"suspended_at": func.now() if suspended else None})
    if user is None:
        raise UserNotFound()
    return user


async def set_role(session: AsyncSession, *, user_id: int, role: str) -> None:
    if await repository.update_user(session, user_id, {"role": role}) is None:
        raise UserNotFound()


async def role(session: AsyncSession, *, user_id: int) -> str | None:
    """The account's role ("user" or "moderator"), None if there is no such account."""
    return await repository.role(session, user_id)


async def get(session: AsyncSession, *, user_id: int) -> UserAccount | None:
    return await repository.get(session, user_id)


async def username(session: AsyncSession, *, user_id: int) -> str | None:
    """The user's username, None if there is no such user (cheaper than loading the account)."""
    return await repository.username(session, user_id)


async def ensure_visible(session: AsyncSession, *, user_id: int, viewer_id: int | None) -> None:
    """UserNotFound unless the user exists and is not hidden from the viewer (townsquare.visibility)."""
    user = await repository.get(session, user_id)
    if user is None or await _hidden(session, user, viewer_id):
        raise UserNotFound()


async def ensure_visible_hot(reads: HotReads, *, user_id: int, viewer_id: int | None) -> None:
    """`ensure_visible` as a hot read (townsquare.db.hot), for hot pages that found nothing."""
    if not await repository.hot_visible(reads, user_id, viewer_id=viewer_id):
        raise UserNotFound()


async def follow_page(
    session: AsyncSession,
    *,
    user_id: int,
    viewer_id: int | None = None,
    followers: bool,
    before: int | None,
    limit: int,
) -> tuple[list[UserSummary], str | None]:
    """Followers or following, newest first; with a viewer, but the accounts a block hides."""
    await ensure_visible(session, user_id=user_id, viewer_id=viewer_id)
    rows = await repository.follow_list(
        session, user_id, viewer_id=viewer_id, followers=followers, before=before, limit=limit
    )
    page, cursor = page_of(rows, limit, lambda row: int(row.follow_id))
    return [UserSummary(id=row.id, username=row.username) for row in page], cursor


async def get_many(session: AsyncSession, *, user_ids: Sequence[int]) -> dict[int, UserAccount]:
    """The existing users among `user_ids`, by id."""
    if not user_ids:
        return {}
    return {user.id: user for user in await repository.get_many(session, sorted(set(user_ids)))}


async def find_by_username(session: AsyncSession, username: str) -> UserAccount | None:
    # No stored name is longer or has an @ (an @ would make it an email), and PostgreSQL text
    # cannot hold NUL.
    if len(username) > 30 or "@" in username or "\x00" in username:
        return None
    return await repository.find_by_login(session, username)


async def find_visible(session: AsyncSession, username: str, *, viewer_id: int | None) -> UserAccount | None:
    """The user with this username, unless hidden from the viewer (townsquare.visibility)."""
    user = await find_by_username(session, username)
    return None if user is None or await _hidden(session, user, viewer_id) else user


async def relationships(
    session: AsyncSession, *, viewer_id: int, user_ids: Sequence[int]
) -> dict[int, tuple[bool, bool]]:
    """(following, followed_by) between the viewer and each existing user among `user_ids`."""
    return await repository.relationships(session, viewer_id, user_ids) if user_ids else {}


async def lock(session: AsyncSession, *, user_id: int) -> None:
    """Hold the user's row until commit (and, in id order, those of everyone linked by a
    follow): no follow, post, like or comment of theirs can start meanwhile."""
    if not await repository.lock_with_follows(session, user_id):
        raise UserNotFound()


async def delete_user(session: AsyncSession, *, user_id: int) -> None:
    """Remove the user and all their rows, keeping everyone else's follow counts exact.

    Call `lock` first, in the same transaction, before touching any other domain's rows."""
    await repository.uncount_follows(session, user_id)
    await repository.delete_user(session, user_id)


def _taken(error: IntegrityError) -> Exception:
    constraint = repository.violated_constraint(error)
    if constraint == repository.USERNAME_INDEX:
        return UsernameTaken()
    if constraint == repository.EMAIL_INDEX:
        return EmailTaken()
    return error
