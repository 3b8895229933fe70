"""A comment named in a path, for the routers of every domain that acts on comments."""

from typing import Annotated

from fastapi import Path

from townsquare.db.ids import parse_id
from townsquare.interactions.errors import CommentNotFound

CommentRef = Annotated[str, Path(description="A comment id.", max_length=20)]


def comment_id_of(comment_ref: str) -> int:
    """The id a path names; CommentNotFound (404) when it cannot be one."""
    comment_id = parse_id(comment_ref)
    if comment_id is None:
        raise CommentNotFound()
    return comment_id
