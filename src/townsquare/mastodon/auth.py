"""Who is asking, on the Mastodon surface: an app token (opaque, long-lived) or a native access
token (a JWT: every scope), and whether its scopes allow the endpoint."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth.dependencies import NEVER, TokensDep, Viewer, viewer_of
from townsquare.auth.errors import InvalidToken
from townsquare.auth.limits import LimitsDep
from townsquare.auth.tokens import TokenIssuer
from townsquare.db.session import SessionDep
from townsquare.kit.rate_limits import enforce
from townsquare.mastodon.errors import InvalidAccessToken, NeedsUser, OutsideScopes
from townsquare.oauth import scopes as oauth_scopes
from townsquare.oauth import service as oauth_service

# App tokens do not expire by time; streams of theirs end with the session.
ALL_SCOPES = ("read", "write", "follow", "push")


@dataclass(frozen=True, slots=True)
class Access:
    """A request's credentials: the user (None for an app's own token), the app, the scopes."""

    viewer: Viewer | None
    app_id: int | None
    scopes: tuple[str, ...]


def bearer_token(request: Request) -> str | None:
    """From `Authorization: Bearer`, else `?access_token=` (streaming clients), else nothing."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or None


async def access_for(token: str, session: AsyncSession, tokens: TokenIssuer) -> Access:
    """The credentials a token carries; InvalidAccessToken if it is not a live token."""
    if len(token) > 4096:
        raise InvalidAccessToken("The access token is invalid")
    if "." in token:  # a native JWT: the user's own login, every scope
        try:
            native = await viewer_of(session, tokens, token)
        except InvalidToken:
            raise InvalidAccessToken("The access token is invalid") from None
        return Access(viewer=native, app_id=None, scopes=ALL_SCOPES)
    found = await oauth_service.authenticate(session, token)
    if found is None:
        raise InvalidAccessToken("The access token is invalid")
    viewer: Viewer | None = None
    if found.user_id is not None and found.session_id is not None:
        viewer = Viewer(id=found.user_id, session_id=found.session_id, token_expires_at=NEVER)
        structlog.contextvars.bind_contextvars(user_id=str(found.user_id))
    return Access(viewer=viewer, app_id=found.app_id, scopes=tuple(found.scopes))


async def _optional_access(request: Request, session: SessionDep, tokens: TokensDep) -> Access | None:
    token = bearer_token(request)
    return None if token is None else await access_for(token, session, tokens)


OptionalAccess = Annotated[Access | None, Depends(_optional_access)]


def _check(access: Access, scope: str) -> None:
    if not oauth_scopes.covers(access.scopes, scope):
        raise OutsideScopes("This action is outside the authorized scopes")


def user(scope: str, *, writes: bool = False) -> Callable[..., Coroutine[Any, Any, Viewer]]:
    """A dependency: the signed-in user, whose token has `scope`; `writes` applies the
    writes-per-user rate limit, as on the native API."""

    async def signed_in(access: OptionalAccess) -> Viewer:
        if access is None:
            raise InvalidAccessToken("The access token is invalid")
        _check(access, scope)
        if access.viewer is None:
            raise NeedsUser("This method requires an authenticated user")
        return access.viewer

    # `signed_in` as a default, not an annotation: annotations are strings here, resolved
    # without this function's scope.
    async def signed_in_writer(
        response: Response,
        limits: LimitsDep,
        viewer: Viewer = Depends(signed_in),  # noqa: B008
    ) -> Viewer:
        await enforce(limits.limiter, limits.writes_per_user, str(viewer.id), response)
        return viewer

    # Reads resolve no rate-limit dependency: the home timeline is the hottest route here.
    return signed_in_writer if writes else signed_in


def maybe_user(scope: str) -> Callable[..., Coroutine[Any, Any, Viewer | None]]:
    """A dependency for public reads: the user if a token came (it must then have `scope`)."""

    async def perhaps(access: OptionalAccess) -> Viewer | None:
        if access is None:
            return None
        _check(access, scope)
        return access.viewer

    return perhaps


async def any_token(access: OptionalAccess) -> Access:
    """A dependency: any live token, whatever its scopes (verifying an app's credentials)."""
    if access is None:
        raise InvalidAccessToken("The access token is invalid")
    return access


def app_or_user(scope: str) -> Callable[..., Coroutine[Any, Any, Access]]:
    """A dependency for what an app's own token may do too (registration, verify the app)."""

    async def any_token(access: OptionalAccess) -> Access:
        if access is None:
            raise InvalidAccessToken("The access token is invalid")
        _check(access, scope)
        return access

    return any_token
