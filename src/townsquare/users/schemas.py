from typing import Annotated, Any

from pydantic import StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from townsquare.kit.schemas import Id, RequestModel, ResponseModel, Timestamp, ViewerFlag

Username = Annotated[str, StringConstraints(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$")]
Bio = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class UserSummary(ResponseModel):
    id: Id
    username: str


class UserProfile(UserSummary):
    bio: str
    created_at: Timestamp
    followers_count: int
    following_count: int
    posts_count: int


class UserPublic(UserProfile):
    followed_by_me: ViewerFlag = None


class UserPrivate(UserPublic):
    """What only the owner sees."""

    email: str


class ProfileUpdate(RequestModel):
    """Any of the fields; omitted ones stay as they are."""

    username: Username | SkipJsonSchema[None] = None
    bio: Bio | SkipJsonSchema[None] = None

    @field_validator("username", "bio", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Omitting a field keeps it; sending null is a mistake, not a way to clear it.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value
