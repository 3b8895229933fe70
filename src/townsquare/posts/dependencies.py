"""A post named in a path, for the routers of every domain that acts on posts."""

from typing import Annotated

from fastapi import Path

from townsquare.db.ids import REF_MAX_LENGTH, parse_id
from townsquare.posts.errors import PostNotFound

PostRef = Annotated[str, Path(description="A post id.", max_length=REF_MAX_LENGTH)]


def post_id_of(post_ref: str) -> int:
    """The id a path names; PostNotFound (404) when it cannot be one."""
    post_id = parse_id(post_ref)
    if post_id is None:
        raise PostNotFound()
    return post_id
