from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.kit.pagination import page_of
from townsquare.safety import repository
from townsquare.safety.errors import CannotBlockSelf
from townsquare.users import service as users_service
from townsquare.users.errors import UserNotFound
from townsquare.users.schemas import UserSummary


async def block(session: AsyncSession, *, blocker_id: int, blocked_id: int) -> None:
    """Block (idempotent): follows between the two end, both ways, with their counters.

    Both user rows are held first, in id order, as a follow holds them: a follow racing the
    block either ends before it (and the block removes it) or starts after it (and is refused)."""
    if blocker_id == blocked_id:
        raise CannotBlockSelf()
    if not await users_service.lock_pair(session, blocker_id, blocked_id):
        raise UserNotFound()
    await repository.block(session, blocker_id=blocker_id, blocked_id=blocked_id)
    await users_service.unfollow(session, follower_id=blocker_id, followed_id=blocked_id)
    await users_service.unfollow(session, follower_id=blocked_id, followed_id=blocker_id)


async def unblock(session: AsyncSession, *, blocker_id: int, blocked_id: int) -> None:
    """Lift a block (idempotent); the follows it ended are not restored."""
    await repository.unblock(session, blocker_id=blocker_id, blocked_id=blocked_id)


async def blocks_page(
    session: AsyncSession, *, blocker_id: int, before: int | None, limit: int
) -> tuple[list[UserSummary], str | None]:
    rows = await repository.blocks(session, blocker_id, before=before, limit=limit)
    page, cursor = page_of(rows, limit, lambda row: int(row.block_id))
    return [UserSummary(id=row.id, username=row.username) for row in page], cursor
