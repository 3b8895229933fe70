"""Path parameters that name a user."""

from typing import Annotated

from fastapi import Path

from townsquare.auth.dependencies import Viewer
from townsquare.auth.errors import InvalidToken
from townsquare.db.ids import REF_MAX_LENGTH, parse_id
from townsquare.users.errors import UserNotFound

UserRef = Annotated[str, Path(description="A user id, or `me` for the caller.", max_length=REF_MAX_LENGTH)]


def resolve_user(user_ref: str, viewer: Viewer | None) -> int:
    """`me` is the caller (a token is needed); anything that is not an id names nobody."""
    if user_ref == "me":
        if viewer is None:
            raise InvalidToken("`me` needs a bearer token.")
        return viewer.id
    user_id = parse_id(user_ref)
    if user_id is None:
        raise UserNotFound()
    return user_id
