from typing import Literal

from townsquare.kit.schemas import ResponseModel
from townsquare.posts.schemas import PostView
from townsquare.users.schemas import UserPublic

SearchType = Literal["all", "users", "posts"]


class SearchResults(ResponseModel):
    users: list[UserPublic]
    posts: list[PostView]
    next_cursor: str | None
