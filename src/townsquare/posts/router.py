from fastapi import APIRouter, Response, status

from townsquare.auth.dependencies import OPTIONAL_AUTH, OptionalUncheckedViewer, Viewer, Writer, hot_unchecked_viewer
from townsquare.db.hot import HotReads
from townsquare.db.ids import REF_MAX_LENGTH, parse_id
from townsquare.db.session import HotReadsDep, SessionDep, hot_reads_of, reads_only
from townsquare.kit.errors import problem_docs
from townsquare.kit.hot_routes import HotRequest, HotRoute, NotPlain
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import (
    DEFAULT_LIMIT,
    CursorParam,
    Limit,
    Page,
    decode_id_cursor,
    plain_cursor,
    plain_limit,
)
from townsquare.kit.responses import PreparedJSONResponse
from townsquare.posts import service
from townsquare.posts.dependencies import PostRef, post_id_of
from townsquare.posts.schemas import PostView, PostWrite
from townsquare.users.dependencies import UserRef, resolve_user

router = APIRouter(tags=["posts"], route_class=DocumentedRoute)


@router.post(
    "/posts",
    status_code=status.HTTP_201_CREATED,
    response_model=PostView,
    responses=problem_docs(401),
)
async def create_post(body: PostWrite, session: SessionDep, viewer: Writer) -> PostView:
    """Publish a post; it is in your followers' feeds as soon as this answers."""
    return await service.create_post(session, author_id=viewer.id, content=body.content)


@router.get("/posts/{post_id}", openapi_extra=OPTIONAL_AUTH, response_model=PostView, responses=problem_docs(404))
@reads_only
async def get_post(post_id: PostRef, reads: HotReadsDep, viewer: OptionalUncheckedViewer) -> Response:
    """A post; with a token it says whether you liked it."""
    return await _post_page(reads, post_id, viewer)


async def _post_page(reads: HotReads, post_id: str, viewer: Viewer | None) -> Response:
    # One statement: the post, gated on the token's session (auth.gate). An id that cannot be
    # one finds nothing (404, or 401 if the session ended, as on every route).
    post = await service.post_page(
        reads,
        post_id=parse_id(post_id) or 0,
        viewer_id=viewer.id if viewer else None,
        session_id=viewer.session_id if viewer else None,
    )
    return PreparedJSONResponse(post)


async def _hot_post_page(request: HotRequest) -> Response:
    post_id = _plain_ref(request, "post_id")
    return await _post_page(hot_reads_of(request.app), post_id, hot_unchecked_viewer(request))


def _plain_ref(request: HotRequest, name: str) -> str:
    # As PostRef and UserRef read it.
    ref = request.path_params[name]
    if len(ref) > REF_MAX_LENGTH:
        raise NotPlain()
    return ref


@router.put(
    "/posts/{post_id}",
    response_model=PostView,
    responses=problem_docs(401, 403, 404),
)
async def edit_post(post_id: PostRef, body: PostWrite, session: SessionDep, viewer: Writer) -> PostView:
    """Change your post's text."""
    return await service.edit_post(session, post_id=post_id_of(post_id), editor_id=viewer.id, content=body.content)


@router.delete(
    "/posts/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 403, 404),
)
async def delete_post(post_id: PostRef, session: SessionDep, viewer: Writer) -> None:
    """Delete your post with its likes and comments."""
    await service.delete_post(session, post_id=post_id_of(post_id), user_id=viewer.id)


@router.get(
    "/users/{user_id}/posts",
    openapi_extra=OPTIONAL_AUTH,
    response_model=Page[PostView],
    tags=["users"],
    responses=problem_docs(401, 404),
)
@reads_only
async def user_posts(
    user_id: UserRef,
    reads: HotReadsDep,
    viewer: OptionalUncheckedViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Response:
    """A user's posts, newest first."""
    return await _user_posts(reads, user_id, viewer, cursor=cursor, limit=limit)


async def _hot_user_posts(request: HotRequest) -> Response:
    user_id = _plain_ref(request, "user_id")
    viewer = hot_unchecked_viewer(request)
    limit = plain_limit(request)
    return await _user_posts(hot_reads_of(request.app), user_id, viewer, cursor=plain_cursor(request), limit=limit)


async def _user_posts(
    reads: HotReads, user_id: str, viewer: Viewer | None, *, cursor: str | None, limit: int
) -> Response:
    # One statement, gated on the token's session (auth.gate).
    items, next_cursor = await service.user_posts_page(
        reads,
        author_id=resolve_user(user_id, viewer) if user_id == "me" else parse_id(user_id) or 0,
        viewer_id=viewer.id if viewer else None,
        session_id=viewer.session_id if viewer else None,
        before=decode_id_cursor(cursor),
        limit=limit,
    )
    return PreparedJSONResponse({"items": items, "next_cursor": next_cursor})


HOT_ROUTES = (HotRoute("/posts/{post_id}", _hot_post_page), HotRoute("/users/{user_id}/posts", _hot_user_posts))
