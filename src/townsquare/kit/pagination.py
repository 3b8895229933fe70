"""Keyset (cursor) pagination: opaque cursors, `limit` 1..100, never OFFSET."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from townsquare.kit.errors import InvalidRequest
from townsquare.kit.hot_routes import HotRequest, NotPlain

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
CURSOR_MAX_LENGTH = 200
CursorParam = Annotated[
    str | None, Query(max_length=CURSOR_MAX_LENGTH, description="`next_cursor` of the previous page.")
]


T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class InvalidCursor(InvalidRequest):
    code = "invalid-cursor"
    title = "Invalid cursor"

    def __init__(self) -> None:
        super().__init__("The cursor is not one this server issued.", loc=("query", "cursor"))


def encode_cursor(*key: int | str | float) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *shape: type) -> tuple[object, ...]:
    """The key written in `cursor`, checked against the expected types; InvalidCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor() from None
    if not isinstance(key, list) or len(key) != len(shape):
        raise InvalidCursor()
    for value, expected in zip(key, shape, strict=True):
        # bool is an int in Python; a cursor never carries one.
        if isinstance(value, bool) or not isinstance(value, expected):
            raise InvalidCursor()
    return tuple(key)


def decode_id_cursor(cursor: str | None) -> int | None:
    """Most lists page by descending or ascending id: the cursor is the last id seen."""
    if cursor is None:
        return None
    (last_id,) = decode_cursor(cursor, int)
    assert isinstance(last_id, int)
    if not 0 < last_id < 2**63:
        raise InvalidCursor()
    return last_id


def plain_limit(request: HotRequest) -> int:
    """`Limit` as a hot route reads it: absent, or a plain number from 1 to MAX_LIMIT."""
    raw = request.query("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and raw[0] != "0") or int(raw) > MAX_LIMIT:
        raise NotPlain()
    return int(raw)


def plain_cursor(request: HotRequest) -> str | None:
    """`CursorParam` as a hot route reads it: absent, or at most CURSOR_MAX_LENGTH characters."""
    raw = request.query("cursor")
    if raw is not None and len(raw) > CURSOR_MAX_LENGTH:
        raise NotPlain()
    return raw


def page_of(
    rows: Sequence[R], limit: int, cursor_key: Callable[[R], int | tuple[int | float | str, ...]]
) -> tuple[list[R], str | None]:
    """Split `limit + 1` fetched rows into the page and the cursor of the next one."""
    items = list(rows[:limit])
    if len(rows) <= limit:
        return items, None
    key = cursor_key(items[-1])
    return items, encode_cursor(*key) if isinstance(key, tuple) else encode_cursor(key)
