"""post_json (the feed's and the post page's answer) is byte for byte what PostView gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic_core
import pytest

from townsquare.kit.schemas import format_timestamp
from townsquare.posts.repository import PostRow
from townsquare.posts.schemas import PostView, post_json, post_view

CREATED = datetime(2026, 11, 23, 10, 15, 30, 123456, tzinfo=UTC)
ROWS = [
    PostRow(170399012345678, 42, "alice", "hello", CREATED, CREATED, 0, 0, None),
    PostRow(2**63 - 1, 2**62, "bob_2", "liked", CREATED, CREATED + timedelta(minutes=3), 7, 2, True),
    PostRow(1, 2, "carol", "not liked", CREATED, CREATED, 1, 0, False),
    # Another zone than UTC (the database session's may be any); a microsecond short of a second.
    PostRow(
        5,
        6,
        "dave",
        'é 🙂 "quoted" \\ back\nslash\t\x01 </script>',
        datetime(2026, 1, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 1, 2, 0, 0, 0, 0, tzinfo=timezone(timedelta(hours=-8))),
        2**31,
        3,
        None,
    ),
]


@pytest.mark.parametrize("row", ROWS)
def test_post_json_is_what_the_model_serializes_to(row: PostRow) -> None:
    assert pydantic_core.to_json(post_json(row)) == post_view(row).model_dump_json().encode()


def test_post_json_has_every_field_of_the_model_in_its_order() -> None:
    with_viewer: dict[str, Any] = post_json(ROWS[1])
    assert list(with_viewer) == list(PostView.model_fields)
    assert "liked_by_me" not in post_json(ROWS[0])  # no token, no flag


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (CREATED, "2026-11-23T10:15:30.123Z"),
        (datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=UTC), "2026-01-01T00:00:00.999Z"),  # truncated, not rounded
        (datetime(2026, 1, 1, 4, 0, 0, tzinfo=timezone(timedelta(hours=5))), "2025-12-31T23:00:00.000Z"),
    ],
)
def test_timestamps_are_utc_to_the_millisecond(moment: datetime, text: str) -> None:
    assert format_timestamp(moment) == text
