from typing import Annotated, Any

from pydantic import StringConstraints

from townsquare.kit.schemas import Id, RequestModel, ResponseModel, Timestamp, ViewerFlag
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
