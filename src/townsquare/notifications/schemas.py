from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from townsquare.kit.schemas import Id, RequestModel, ResponseModel, Timestamp
from townsquare.users.schemas import UserSummary

NotificationType = Literal["like", "comment", "follow"]

_SUMMARIES: dict[str, str] = {
    "like": "{actor} liked your post",
    "comment": "{actor} commented on your post",
    "follow": "{actor} started following you",
}


class NotificationView(ResponseModel):
    id: Id
    type: NotificationType
    actor: UserSummary
    post_id: Id | None
    comment_id: Id | None
    content: str = Field(description="A short human-readable summary, e.g. `alice liked your post`.")
    read: bool
    created_at: Timestamp = Field(description="When the action happened (lists are ordered by it).")


def notification_view(row: Any) -> NotificationView:
    """From a row of (id, type, actor_id, actor_username, post_id, comment_id, read, created_at).

    The summary is written from the actor's current username, so it follows a rename."""
    return NotificationView(
        id=row.id,
        type=row.type,
        actor=UserSummary(id=row.actor_id, username=row.actor_username),
        post_id=row.post_id,
        comment_id=row.comment_id,
        content=_SUMMARIES[row.type].format(actor=row.actor_username),
        read=row.read,
        created_at=row.created_at,
    )


IdString = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}$")]


class MarkRead(RequestModel):
    """Either `{"ids": [...]}` (up to 100 of your notifications) or `{"all": true}`."""

    ids: list[IdString] | None = Field(default=None, max_length=100)
    all: Literal[True] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.ids is None) == (self.all is None):
            raise ValueError('give either "ids" or "all": true')
        return self


class ReadResult(ResponseModel):
    updated: int = Field(description="How many notifications went from unread to read.")


class UnreadCount(ResponseModel):
    count: int
