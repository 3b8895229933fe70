"""OAuth scopes as Mastodon defines them: `read`, `write`, `follow`, `push`, `profile` and
their granular forms (`read:statuses`, `write:follows` ...)."""

from __future__ import annotations

from collections.abc import Iterable

_READ = ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications")
_READ_MORE = ("search", "statuses")
_WRITE = (
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
)
TOP_LEVEL = frozenset({"read", "write", "follow", "push", "profile"})
KNOWN = TOP_LEVEL | {f"read:{name}" for name in (*_READ, *_READ_MORE)} | {f"write:{name}" for name in _WRITE}
# `follow` is the older name of these (Mastodon keeps it as an alias).
FOLLOW_COVERS = frozenset({"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"})
DEFAULT = ("read",)


def parse(text: str | Iterable[str] | None) -> list[str] | None:
    """Scopes from a space-separated string (`+` too, as some clients send it) or a list, in
    order and without repeats; the default (`read`) when none is given; None if one is unknown."""
    if text is None:
        return list(DEFAULT)
    words = text.replace("+", " ").split() if isinstance(text, str) else [w for part in text for w in part.split()]
    if not words:
        return list(DEFAULT)
    if any(word not in KNOWN for word in words):
        return None
    return list(dict.fromkeys(words))


def covers(granted: Iterable[str], required: str) -> bool:
    """Whether a token with `granted` scopes may do what needs `required` (`read:statuses`)."""
    granted = set(granted)
    if required in granted:
        return True
    family = required.partition(":")[0]
    if family in ("read", "write") and family in granted:
        return True
    if required in FOLLOW_COVERS and "follow" in granted:
        return True
    # `profile` is the least a token may have to read its own account.
    return required == "profile" and bool(granted & {"read", "read:accounts"})


def subset(asked: Iterable[str], allowed: Iterable[str]) -> bool:
    """Whether every scope asked for is one the app registered (or one its scopes cover)."""
    allowed = list(allowed)
    return all(scope in allowed or covers(allowed, scope) for scope in asked)
