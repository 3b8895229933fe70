from fastapi import APIRouter, Response, status

from townsquare.auth.dependencies import OPTIONAL_AUTH, OptionalViewer, Writer
from townsquare.db.session import SessionDep, reads_only
from townsquare.interactions import service
from townsquare.interactions.dependencies import CommentRef, comment_id_of
from townsquare.interactions.schemas import CommentView, CommentWrite, LikeState
from townsquare.kit.errors import problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit, Page, decode_id_cursor
from townsquare.posts.dependencies import PostRef, post_id_of
from townsquare.users.schemas import UserSummary
from townsquare.worker.dependencies import JobsDep

router = APIRouter(tags=["interactions"], route_class=DocumentedRoute)


@router.post("/posts/{post_id}/likes", response_model=LikeState, responses=problem_docs(401, 404))
async def like(post_id: PostRef, session: SessionDep, jobs: JobsDep, viewer: Writer) -> LikeState:
    """Like a post (idempotent: liking twice counts once)."""
    return await service.like(session, jobs, post_id=post_id_of(post_id), user_id=viewer.id)


@router.delete("/posts/{post_id}/likes", response_model=LikeState, responses=problem_docs(401, 404))
async def unlike(post_id: PostRef, session: SessionDep, viewer: Writer) -> LikeState:
    """Take your like back (idempotent)."""
    return await service.unlike(session, post_id=post_id_of(post_id), user_id=viewer.id)


@router.get(
    "/posts/{post_id}/likes",
    response_model=Page[UserSummary],
    openapi_extra=OPTIONAL_AUTH,
    responses=problem_docs(401, 404),
)
@reads_only
async def likers(
    post_id: PostRef,
    session: SessionDep,
    viewer: OptionalViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[UserSummary]:
    """Who liked a post, newest first (with a token: but accounts a block hides from you)."""
    items, next_cursor = await service.likers_page(
        session,
        post_id=post_id_of(post_id),
        viewer_id=viewer.id if viewer else None,
        before=decode_id_cursor(cursor),
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/posts/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentView,
    responses=problem_docs(401, 404),
)
async def add_comment(
    post_id: PostRef, body: CommentWrite, session: SessionDep, jobs: JobsDep, viewer: Writer
) -> CommentView:
    """Comment on a post."""
    return await service.add_comment(
        session, jobs, post_id=post_id_of(post_id), author_id=viewer.id, content=body.content
    )


@router.get(
    "/posts/{post_id}/comments",
    response_model=Page[CommentView],
    openapi_extra=OPTIONAL_AUTH,
    responses=problem_docs(401, 404),
)
@reads_only
async def comments(
    post_id: PostRef,
    session: SessionDep,
    viewer: OptionalViewer,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[CommentView]:
    """A post's comments, oldest first (with a token: but those of accounts a block hides from you)."""
    items, next_cursor = await service.comments_page(
        session,
        post_id=post_id_of(post_id),
        viewer_id=viewer.id if viewer else None,
        after=decode_id_cursor(cursor),
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.delete(
    "/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 403, 404),
)
async def delete_comment(comment_id: CommentRef, session: SessionDep, viewer: Writer) -> None:
    """Delete a comment: yours, or any on your post."""
    await service.delete_comment(session, comment_id=comment_id_of(comment_id), user_id=viewer.id)
