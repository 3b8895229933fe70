from typing import Annotated, Any

from pydantic import StringConstraints

from townsquare.kit.schemas import Id, RequestModel, ResponseModel, Timestamp, ViewerFlag, format_timestamp
from townsquare.users.schemas import UserSummary

PostContent = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class PostWrite(RequestModel):
    content: PostContent


class PostView(ResponseModel):
    id: Id
    author: UserSummary
    content: str
    created_at: Timestamp
    updated_at: Timestamp
    like_count: int
    comment_count: int
    liked_by_me: ViewerFlag = None


def post_view(row: Any) -> PostView:
    """From a row of the post view query (posts.repository.view, or the feed's)."""
    return PostView(
        id=row.id,
        author=UserSummary(id=row.author_id, username=row.username),
        content=row.content,
        created_at=row.created_at,
        updated_at=row.updated_at,
        like_count=row.like_count,
        comment_count=row.comment_count,
        liked_by_me=row.liked_by_me,
    )


def post_json(row: Any) -> dict[str, Any]:
    """What `post_view(row)` serializes to, made without the model: the feed and post pages
    answer with it (PreparedJSONResponse), where building and validating models cost more
    than their queries. The row's columns are read by position, in the order of the post view
    query (id, author_id, username, content, created_at, updated_at, like_count,
    comment_count, liked_by_me): a SQLAlchemy row's attribute lookup costs as much again."""
    post_id, author_id, username, content, created_at, updated_at, like_count, comment_count, liked_by_me = row
    created = format_timestamp(created_at)
    post = {
        "id": str(post_id),
        "author": {"id": str(author_id), "username": username},
        "content": content,
        "created_at": created,
        # Most posts were never edited: one timestamp to format, not two.
        "updated_at": created if updated_at == created_at else format_timestamp(updated_at),
        "like_count": like_count,
        "comment_count": comment_count,
    }
    if liked_by_me is not None:  # ViewerFlag: only in answers to a request with a token
        post["liked_by_me"] = liked_by_me
    return post
