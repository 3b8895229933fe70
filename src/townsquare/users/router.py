from fastapi import APIRouter, Response, status

from townsquare.auth.dependencies import OPTIONAL_AUTH, OptionalViewer, Writer
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit, Page, decode_id_cursor
from townsquare.users import service
from townsquare.users.dependencies import UserRef, resolve_user
from townsquare.users.models import UserAccount
from townsquare.users.schemas import ProfileUpdate, UserPrivate, UserProfile, UserPublic, UserSummary
from townsquare.worker.dependencies import JobsDep

router = APIRouter(prefix="/users", tags=["users"], route_class=DocumentedRoute)


def _private_view(user: UserAccount) -> UserPrivate:
    # The owner sees their private fields; nobody follows themselves.
    return UserPrivate.model_validate(user).model_copy(update={"followed_by_me": False})


def _view(user: UserAccount, followed_by_me: bool | None, viewer: OptionalViewer) -> UserProfile:
    if viewer is not None and viewer.id == user.id:
        return _private_view(user)
    return UserPublic.model_validate(user).model_copy(update={"followed_by_me": followed_by_me})


@router.get(
    "/{user_id}",
    openapi_extra=OPTIONAL_AUTH,
    response_model=UserPrivate | UserPublic,
    responses=problem_docs(401, 404),
)
@reads_only
async def get_user(user_id: UserRef, session: SessionDep, viewer: OptionalViewer) -> UserProfile:
    """A profile; the owner (`me`) also sees their email."""
    target = resolve_user(user_id, viewer)
    user, followed_by_me = await service.get_profile(session, user_id=target, viewer_id=viewer.id if viewer else None)
    return _view(user, followed_by_me, viewer)


@router.put("/{user_id}", response_model=UserPrivate, responses=problem_docs(401, 403, 404, 409))
async def update_user(user_id: UserRef, body: ProfileUpdate, session: SessionDep, viewer: Writer) -> UserPrivate:
    """Change your username or bio; omitted fields stay as they are."""
    user = await service.update_profile(
        session, user_id=resolve_user(user_id, viewer), editor_id=viewer.id, changes=body
    )
    return _private_view(user)


@router.post(
    "/{user_id}/follow",
    response_model=UserPublic,
    responses=problem_docs(401, 404),
)
async def follow(user_id: UserRef, session: SessionDep, jobs: JobsDep, viewer: Writer) -> UserProfile:
    """Follow a user (idempotent); answers with their profile."""
    followed_id = resolve_user(user_id, viewer)
    user, followed_by_me = await service.follow(session, jobs, follower_id=viewer.id, followed_id=followed_id)
    return _view(user, followed_by_me, viewer)


@router.delete(
    "/{user_id}/follow",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404),
)
async def unfollow(user_id: UserRef, session: SessionDep, viewer: Writer) -> None:
    """Stop following a user (idempotent)."""
    await service.unfollow(session, follower_id=viewer.id, followed_id=resolve_user(user_id, viewer))


async def _follow_page(
    user_ref: str, session: SessionDep, viewer: OptionalViewer, limit: int, cursor: str | None, *, followers: bool
) -> Page[UserSummary]:
    user_id, before = resolve_user(user_ref, viewer), decode_id_cursor(cursor)
    items, next_cursor = await service.follow_page(
        session,
        user_id=user_id,
        viewer_id=viewer.id if viewer else None,
        followers=followers,
        before=before,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{user_id}/followers",
    openapi_extra=OPTIONAL_AUTH,
    response_model=Page[UserSummary],
    responses=problem_docs(401, 404),
)
@reads_only
async def followers(
    user_id: UserRef,
    session: SessionDep,
    viewer: OptionalViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[UserSummary]:
    """Who follows this user, newest follow first."""
    return await _follow_page(user_id, session, viewer, limit, cursor, followers=True)


@router.get(
    "/{user_id}/following",
    openapi_extra=OPTIONAL_AUTH,
    response_model=Page[UserSummary],
    responses=problem_docs(401, 404),
)
@reads_only
async def following(
    user_id: UserRef,
    session: SessionDep,
    viewer: OptionalViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[UserSummary]:
    """Whom this user follows, newest follow first."""
    return await _follow_page(user_id, session, viewer, limit, cursor, followers=False)
