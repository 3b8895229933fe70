"""Mastodon's entities as its documentation lists them (docs.joinmastodon.org/entities), for
holding our answers to: every key a client reads must be there, with the documented type."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Entity(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class Account(Entity):
    id: str
    username: str
    acct: str
    url: str
    uri: str
    display_name: str
    note: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    locked: bool
    bot: bool
    group: bool
    discoverable: bool | None
    created_at: str
    last_status_at: str | None
    statuses_count: int
    followers_count: int
    following_count: int
    emojis: list[Any]
    fields: list[Any]


class Mention(Entity):
    id: str
    username: str
    url: str
    acct: str


class Status(Entity):
    id: str
    uri: str
    url: str | None
    created_at: str
    edited_at: str | None
    account: Account
    content: str
    visibility: Literal["public", "unlisted", "private", "direct"]
    sensitive: bool
    spoiler_text: str
    media_attachments: list[Any]
    application: dict[str, Any] | None
    mentions: list[Mention]
    tags: list[Any]
    emojis: list[Any]
    reblogs_count: int
    favourites_count: int
    replies_count: int
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    reblog: dict[str, Any] | None
    poll: dict[str, Any] | None
    card: dict[str, Any] | None
    language: str | None


class Notification(Entity):
    id: str
    type: Literal["mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update"]
    created_at: str
    account: Account
    status: Status | None = None


class Relationship(Entity):
    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    domain_blocking: bool
    endorsed: bool
    note: str
