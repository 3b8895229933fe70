"""The web client's sign-in cookie and its CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request, Response

from townsquare.auth.dependencies import NEVER, Viewer
from townsquare.config import Settings
from townsquare.db.session import SessionDep
from townsquare.kit.origin import from_this_site
from townsquare.notifications import service as notifications_service
from townsquare.oauth import service as oauth_service
from townsquare.users import service as users_service

COOKIE = "townsquare_session"
UNREAD_SHOWN = 100  # the badge counts to 99, then says 99+


@dataclass(frozen=True, slots=True)
class WebSession:
    viewer: Viewer
    username: str
    token: str
    csrf: str
    unread: int  # notifications, for the badge every page shows

    @property
    def me(self) -> str:
        """The viewer's id as the JSON of posts and users gives ids."""
        return str(self.viewer.id)


def _csrf_for(request: Request, token: str) -> str:
    """A CSRF token bound to this sign-in: the same for all its forms, useless for another's."""
    settings: Settings = request.app.state.settings
    key = hashlib.sha256(("web-csrf:" + settings.jwt_secret()).encode()).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


async def _web_session(request: Request, session: SessionDep) -> WebSession | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100 or "." in token:
        return None
    found = await oauth_service.authenticate(session, token)
    if found is None or found.user_id is None or found.session_id is None:
        return None  # signed out, password changed, account deleted: as if no cookie
    username = await users_service.username(session, user_id=found.user_id)
    if username is None:
        return None
    structlog.contextvars.bind_contextvars(user_id=str(found.user_id))  # on every line of the request
    viewer = Viewer(id=found.user_id, session_id=found.session_id, token_expires_at=NEVER)
    unread = await notifications_service.unread_count(session, user_id=found.user_id, at_most=UNREAD_SHOWN)
    # Its connection goes back to the pool: a page that then reads as a hot read (the home feed)
    # would otherwise hold two at once, and under load every request held one while waiting for
    # a second (the pool's deadlock: 1 page a second, the rest timed out). Nothing is written yet.
    await session.commit()
    return WebSession(viewer=viewer, username=username, token=token, csrf=_csrf_for(request, token), unread=unread)


MaybeSignedIn = Annotated[WebSession | None, Depends(_web_session)]


def csrf_ok(request: Request, web: WebSession | None, given: str) -> bool:
    """A state-changing form may go on: it comes from this site, and (signed in) carries the
    sign-in's CSRF token."""
    if not from_this_site(request):
        return False
    return web is None or hmac.compare_digest(web.csrf, given)


def set_cookie(request: Request, response: Response, token: str, *, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        httponly=True,  # no script reads it
        secure=request.url.scheme == "https",
        samesite="lax",  # not sent with other sites' form posts
        path="/",
    )


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, secure=request.url.scheme == "https", samesite="lax")
