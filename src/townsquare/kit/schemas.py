"""Shared schema base classes and field types."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator


def no_nul(value: str) -> str:
    # PostgreSQL text cannot store NUL: refuse it as bad input, not later as a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class RequestModel(BaseModel):
    """Request bodies: unknown fields are an error, so nothing can be slipped in (mass assignment)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return no_nul(value) if isinstance(value, str) else value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _format_id(value: int) -> str:
    return str(value)


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC to the millisecond (truncated), `Z` suffix: `2026-11-23T10:15:30.123Z`."""
    # isoformat ends in "+00:00" once in UTC; it is a few times cheaper than strftime. Rows
    # come in UTC already (the API's connections have TimeZone=UTC: db/session.py).
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"


# Ids travel as strings: JavaScript numbers cannot hold 64-bit integers.
Id = Annotated[
    int,
    PlainSerializer(_format_id, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]+$", "examples": ["170399012345678"]}),
]
# RFC 3339, UTC, millisecond precision, `Z` suffix.
Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-23T10:15:30.123Z"]}),
]

# A fact about the caller (`liked_by_me`, `followed_by_me`): only in answers to a request with a token.
ViewerFlag = Annotated[
    bool | None,
    Field(exclude_if=lambda value: value is None, description="Present only when the request carries a token."),
]
