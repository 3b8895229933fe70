from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import StringConstraints

from townsquare.kit.schemas import Id, RequestModel, ResponseModel, Timestamp
from townsquare.users.schemas import UserSummary

if TYPE_CHECKING:
    from townsquare.interactions.repository import CommentRow, NewComment

CommentContent = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class LikeState(ResponseModel):
    post_id: Id
    like_count: int
    liked: bool


class CommentWrite(RequestModel):
    content: CommentContent


class CommentView(ResponseModel):
    id: Id
    post_id: Id
    author: UserSummary
    content: str
    created_at: Timestamp


def comment_view(row: CommentRow | NewComment) -> CommentView:
    return CommentView(
        id=row.id,
        post_id=row.post_id,
        author=UserSummary(id=row.author_id, username=row.username),
        content=row.content,
        created_at=row.created_at,
    )
