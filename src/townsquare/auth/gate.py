"""The access token's session check as SQL, for a hot read to carry in its own statement.

A request with a native access token is honoured while the token's login session lives
(auth.service.authenticate). A page that is one statement (the home feed) checks that in the
same statement instead of a round trip before it: its rows are gated on ALIVE, so a page with
rows proves the session alive, and only an empty page needs `session_alive` to tell an empty
page from a dead session (`ensure_alive`). Parameters: `:session` (the token's session id), `:viewer` (its user).
"""

from __future__ import annotations

from townsquare.auth.errors import InvalidToken
from townsquare.db.hot import HotReads, statement

ALIVE_WHERE = (
    "refresh_session.id = :session AND refresh_session.user_id = :viewer AND refresh_session.expires_at > now()"
)
ALIVE = f"EXISTS (SELECT FROM refresh_session WHERE {ALIVE_WHERE})"

_ALIVE = statement(f"SELECT {ALIVE} AS alive")


async def session_alive(reads: HotReads, *, user_id: int, session_id: int) -> bool:
    """Whether the user's login session exists and has not expired (as a hot read)."""
    return bool(await reads.value(_ALIVE, {"session": session_id, "viewer": user_id}))


async def ensure_alive(reads: HotReads, *, user_id: int | None, session_id: int | None) -> None:
    """InvalidToken (401) unless that session lives; nothing to check without one (an
    anonymous request, or the web client's, whose cookie was checked before)."""
    if user_id is None or session_id is None:
        return
    if not await session_alive(reads, user_id=user_id, session_id=session_id):
        raise InvalidToken()
