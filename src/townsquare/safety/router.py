from fastapi import APIRouter, Response, status

from townsquare.auth.dependencies import CurrentViewer, Writer
from townsquare.db.session import SessionDep
from townsquare.kit.errors import Forbidden, problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit, Page, decode_id_cursor
from townsquare.safety import service
from townsquare.users.dependencies import UserRef, resolve_user
from townsquare.users.schemas import UserSummary

router = APIRouter(prefix="/users", tags=["safety"], route_class=DocumentedRoute)


@router.post(
    "/{user_id}/block",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404, 422),
)
async def block(user_id: UserRef, session: SessionDep, viewer: Writer) -> None:
    """Block a user (idempotent): follows between you end both ways; neither of you sees the
    other's profile, posts or comments, or can follow, like or comment; no notifications pass."""
    await service.block(session, blocker_id=viewer.id, blocked_id=resolve_user(user_id, viewer))


@router.delete(
    "/{user_id}/block",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404),
)
async def unblock(user_id: UserRef, session: SessionDep, viewer: Writer) -> None:
    """Lift a block (idempotent); the follows it ended are not restored."""
    await service.unblock(session, blocker_id=viewer.id, blocked_id=resolve_user(user_id, viewer))


@router.get("/{user_id}/blocks", response_model=Page[UserSummary], responses=problem_docs(401, 403, 404))
async def blocks(
    user_id: UserRef,
    session: SessionDep,
    viewer: CurrentViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[UserSummary]:
    """Whom you blocked, newest first (`me` only: nobody else sees it)."""
    if resolve_user(user_id, viewer) != viewer.id:
        raise Forbidden("Only you can see whom you blocked.")
    items, next_cursor = await service.blocks_page(
        session, blocker_id=viewer.id, before=decode_id_cursor(cursor), limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)
