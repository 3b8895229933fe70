"""Mastodon's entities (Account, Status, Notification, Relationship ...) as JSON-ready dicts,
built from our rows: every key its clients read is there, with neutral values for what this
server does not have (media, polls, boosts, custom emoji).

Built as plain dicts rather than models: a home timeline page holds 20 statuses of 30 keys with
their accounts, and models would cost more CPU than the page's query (see posts.schemas.post_json).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from townsquare.kit.schemas import format_timestamp
from townsquare.mastodon.html import from_plain
from townsquare.notifications.schemas import NotificationType, NotificationView
from townsquare.users.models import UserAccount

AVATAR_PATH = "/avatars/original/missing.png"
HEADER_PATH = "/headers/original/missing.png"

# Our notification types in Mastodon's names: a comment on your post is a reply to you.
NOTIFICATION_TYPES = {"like": "favourite", "comment": "mention", "follow": "follow"}
OUR_TYPES: dict[str, NotificationType] = {"favourite": "like", "mention": "comment", "follow": "follow"}

Json = dict[str, Any]


def account(
    base: str,
    user_id: int,
    username: str,
    bio: str,
    created_at: datetime,
    followers_count: int,
    following_count: int,
    posts_count: int,
) -> Json:
    user = str(user_id)
    return {
        "id": user,
        "username": username,
        "acct": username,  # local accounts have no domain part
        "display_name": username,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "noindex": False,
        "hide_collections": False,
        "created_at": format_timestamp(created_at),
        "note": from_plain(bio),
        "url": f"{base}/@{username}",
        "uri": f"{base}/users/{user}",
        "avatar": base + AVATAR_PATH,
        "avatar_static": base + AVATAR_PATH,
        "header": base + HEADER_PATH,
        "header_static": base + HEADER_PATH,
        "followers_count": followers_count,
        "following_count": following_count,
        "statuses_count": posts_count,
        "last_status_at": None,
        "emojis": [],
        "fields": [],
        "roles": [],
    }


def account_of(base: str, user: UserAccount) -> Json:
    return account(
        base,
        user.id,
        user.username,
        user.bio,
        user.created_at,
        user.followers_count,
        user.following_count,
        user.posts_count,
    )


def credential_account(base: str, user: UserAccount) -> Json:
    """The signed-in user's own account, with `source` (the bio as written)."""
    return {
        **account_of(base, user),
        "source": {
            "note": user.bio,
            "fields": [],
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "follow_requests_count": 0,
        },
    }


def _status(
    base: str,
    *,
    status_id: int,
    author: Json,
    content: str,
    created_at: datetime,
    edited_at: datetime | None,
    favourites_count: int,
    replies_count: int,
    favourited: bool | None,
    in_reply_to: tuple[int, Json] | None,
) -> Json:
    sid = str(status_id)
    status: Json = {
        "id": sid,
        "uri": f"{author['uri']}/statuses/{sid}",
        "url": f"{author['url']}/{sid}",
        "created_at": format_timestamp(created_at),
        "edited_at": None if edited_at is None else format_timestamp(edited_at),
        "account": author,
        "content": from_plain(content),
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "language": None,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "application": None,
        "reblogs_count": 0,
        "favourites_count": favourites_count,
        "replies_count": replies_count,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "poll": None,
        "card": None,
        "filtered": [],
    }
    if in_reply_to is not None:
        post_id, post_author = in_reply_to
        status["in_reply_to_id"] = str(post_id)
        status["in_reply_to_account_id"] = post_author["id"]
        status["mentions"] = [
            {
                "id": post_author["id"],
                "username": post_author["username"],
                "acct": post_author["acct"],
                "url": post_author["url"],
            }
        ]
    if favourited is not None:  # only for a signed-in viewer
        status.update(favourited=favourited, reblogged=False, muted=False, bookmarked=False, pinned=False)
    return status


def post_status(base: str, row: Any, authors: dict[int, Json] | None = None) -> Json:
    """A post as a Status, from a post view row with the author's columns (posts.repository
    AUTHOR_COLUMNS), read by position; `authors` keeps one Account per author across a page."""
    (
        post_id,
        author_id,
        username,
        content,
        created_at,
        updated_at,
        like_count,
        comment_count,
        liked_by_me,
        bio,
        author_created_at,
        followers_count,
        following_count,
        posts_count,
    ) = row
    author = authors.get(author_id) if authors is not None else None
    if author is None:
        author = account(
            base, author_id, username, bio, author_created_at, followers_count, following_count, posts_count
        )
        if authors is not None:
            authors[author_id] = author
    return _status(
        base,
        status_id=post_id,
        author=author,
        content=content,
        created_at=created_at,
        edited_at=updated_at if updated_at != created_at else None,
        favourites_count=like_count,
        replies_count=comment_count,
        favourited=liked_by_me,
        in_reply_to=None,
    )


def comment_status(base: str, row: Any, *, signed_in: bool) -> Json:
    """A comment as a reply Status to its post, from interactions' comments-with-authors row."""
    (
        comment_id,
        post_id,
        author_id,
        username,
        content,
        created_at,
        post_author_id,
        post_author_username,
        bio,
        author_created_at,
        followers_count,
        following_count,
        posts_count,
    ) = row
    author = account(base, author_id, username, bio, author_created_at, followers_count, following_count, posts_count)
    replied_to = _mention_only(base, post_author_id, post_author_username)  # all a reply shows of it
    return _status(
        base,
        status_id=comment_id,
        author=author,
        content=content,
        created_at=created_at,
        edited_at=None,
        favourites_count=0,  # comments cannot be liked here
        replies_count=0,  # nor answered: replies to a comment go to its post
        favourited=False if signed_in else None,
        in_reply_to=(post_id, replied_to),
    )


def _mention_only(base: str, user_id: int, username: str) -> Json:
    return {"id": str(user_id), "username": username, "acct": username, "url": f"{base}/@{username}"}


def relationship(
    user_id: int,
    *,
    following: bool,
    followed_by: bool,
    blocking: bool = False,
    muting: bool = False,
    muting_notifications: bool = False,
) -> Json:
    # `blocked_by` is always false: an account that blocked the viewer is absent for them.
    return {
        "id": str(user_id),
        "following": following,
        "showing_reblogs": following,
        "notifying": False,
        "languages": None,
        "followed_by": followed_by,
        "blocking": blocking,
        "blocked_by": False,
        "muting": muting,
        "muting_notifications": muting_notifications,
        "requested": False,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def notification(item: NotificationView, actor: Json, status: Json | None) -> Json:
    found: Json = {
        "id": str(item.id),
        "type": NOTIFICATION_TYPES[item.type],
        "created_at": format_timestamp(item.created_at),
        "group_key": f"ungrouped-{item.id}",
        "account": actor,
    }
    if status is not None:
        found["status"] = status
    return found
