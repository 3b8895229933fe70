"""Blocks, mutes and reports: what every user can do to keep others out of their way."""

from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from townsquare.auth.dependencies import CurrentViewer, Writer
from townsquare.auth.limits import LimitsDep
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import Forbidden, problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit, Page, decode_id_cursor
from townsquare.safety import service
from townsquare.safety.schemas import MutedUser, MuteWrite, ReportView, ReportWrite
from townsquare.users.dependencies import UserRef, resolve_user
from townsquare.users.schemas import UserSummary

router = APIRouter(tags=["safety"], route_class=DocumentedRoute)


@router.post(
    "/users/{user_id}/block",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404, 422),
)
async def block(user_id: UserRef, session: SessionDep, viewer: Writer) -> None:
    """Block a user (idempotent): follows between you end both ways; neither of you sees the
    other's profile, posts or comments, or can follow, like or comment; no notifications pass."""
    await service.block(session, blocker_id=viewer.id, blocked_id=resolve_user(user_id, viewer))


@router.delete(
    "/users/{user_id}/block",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404),
)
async def unblock(user_id: UserRef, session: SessionDep, viewer: Writer) -> None:
    """Lift a block (idempotent); the follows it ended are not restored."""
    await service.unblock(session, blocker_id=viewer.id, blocked_id=resolve_user(user_id, viewer))


def _only_me(user_id: str, viewer: CurrentViewer, what: str) -> None:
    if resolve_user(user_id, viewer) != viewer.id:
        raise Forbidden(f"Only you can see whom you {what}.")


@router.get("/users/{user_id}/blocks", response_model=Page[UserSummary], responses=problem_docs(401, 403, 404))
@reads_only
async def blocks(
    user_id: UserRef,
    session: SessionDep,
    viewer: CurrentViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[UserSummary]:
    """Whom you blocked, newest first (`me` only: nobody else sees it)."""
    _only_me(user_id, viewer, "blocked")
    items, next_cursor = await service.blocks_page(
        session, blocker_id=viewer.id, before=decode_id_cursor(cursor), limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/users/{user_id}/mute",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404, 422),
)
async def mute(
    user_id: UserRef, session: SessionDep, viewer: Writer, body: Annotated[MuteWrite | None, Body()] = None
) -> None:
    """Mute a user (again: with new settings): their posts leave your feed, search and the
    comments you read, and (unless `notifications` is false) their notifications stop, for
    `duration_seconds` or until lifted. Follows stay; they are not told and see no change."""
    settings = body or MuteWrite()
    await service.mute(
        session,
        muter_id=viewer.id,
        muted_id=resolve_user(user_id, viewer),
        notifications=settings.notifications,
        duration_seconds=settings.duration_seconds,
    )


@router.delete(
    "/users/{user_id}/mute",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404),
)
async def unmute(user_id: UserRef, session: SessionDep, viewer: Writer) -> None:
    """Lift a mute (idempotent)."""
    await service.unmute(session, muter_id=viewer.id, muted_id=resolve_user(user_id, viewer))


@router.get("/users/{user_id}/mutes", response_model=Page[MutedUser], responses=problem_docs(401, 403, 404))
@reads_only
async def mutes(
    user_id: UserRef,
    session: SessionDep,
    viewer: CurrentViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[MutedUser]:
    """Whom you mute now, newest first, with each mute's settings (`me` only)."""
    _only_me(user_id, viewer, "muted")
    items, next_cursor = await service.mutes_page(
        session, muter_id=viewer.id, before=decode_id_cursor(cursor), limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/reports",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportView,
    responses=problem_docs(401, 404, 422),
)
async def report(body: ReportWrite, session: SessionDep, viewer: Writer, limits: LimitsDep) -> ReportView:
    """Report an account, a post or a comment to the moderators, with a reason. The report
    keeps the reported text as it is now. Not your own; at most a few an hour."""
    return await service.report(session, limits, reporter_id=viewer.id, body=body)
