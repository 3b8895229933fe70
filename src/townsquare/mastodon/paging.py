"""Mastodon's paging: `max_id` (older than), `since_id` (newer than, newest first), `min_id`
(the page just above, as Mastodon returns it: newest first), `limit` clamped rather than
refused, and a `Link` header with `next` first (toot's parser reads only the first link)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response

from townsquare.db.ids import parse_id
from townsquare.mastodon.errors import Unprocessable

T = TypeVar("T")

IdQuery = Annotated[str | None, Query(max_length=40)]
LimitQuery = Annotated[str | None, Query(max_length=10)]


@dataclass(frozen=True, slots=True)
class Window:
    before: int | None
    after: int | None
    upwards: bool  # a min_id page: read oldest first, then turned newest first
    limit: int


def _id(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    value = parse_id(raw)
    if value is None:
        raise Unprocessable(f"{name} must be an id")
    return value


def window(
    *, max_id: str | None, since_id: str | None, min_id: str | None, limit: str | None, default: int, most: int
) -> Window:
    try:
        count = default if limit in (None, "") else int(limit)
    except ValueError:
        raise Unprocessable("limit must be a number") from None
    before = _id(max_id, "max_id")
    above_min, above_since = _id(min_id, "min_id"), _id(since_id, "since_id")
    upwards = above_min is not None
    return Window(
        before=before,
        after=above_min if upwards else above_since,
        upwards=upwards,
        limit=max(1, min(count, most)),
    )


def page(rows: Sequence[T], w: Window) -> list[T]:
    """The page from `limit + 1` rows read in the window's order, newest first."""
    items = list(rows[: w.limit])
    if w.upwards:
        items.reverse()
    return items


def link(request: Request, response: Response, *, newest: str | None, oldest: str | None, prev: bool = True) -> None:
    """Set `Link` for a page whose first (newest) and last (oldest) item have these paging ids."""
    if newest is None or oldest is None:
        return  # no links on an empty page
    links = [f'<{_with(request, "max_id", oldest)}>; rel="next"']
    if prev:
        links.append(f'<{_with(request, "min_id", newest)}>; rel="prev"')
    response.headers["Link"] = ", ".join(links)


def _with(request: Request, key: str, value: str) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "min_id", "since_id")]
    return str(request.url.replace(query=urlencode([*kept, (key, value)])))


def _window_of(default: int, most: int) -> Callable[..., Coroutine[Any, Any, Window]]:
    async def read(
        max_id: IdQuery = None, since_id: IdQuery = None, min_id: IdQuery = None, limit: LimitQuery = None
    ) -> Window:
        return window(max_id=max_id, since_id=since_id, min_id=min_id, limit=limit, default=default, most=most)

    return read


# The paging parameters of a list, with Mastodon's default and largest page: statuses...
StatusWindow = Annotated[Window, Depends(_window_of(20, 40))]
# ... and notifications and accounts.
LongWindow = Annotated[Window, Depends(_window_of(40, 80))]
