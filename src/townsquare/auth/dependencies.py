"""Who is asking: typed dependencies for endpoints that need, or may use, a token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import service
from townsquare.auth.errors import InvalidToken
from townsquare.auth.limits import LimitsDep
from townsquare.auth.passwords import Passwords
from townsquare.auth.tokens import AccessClaims, InvalidAccessToken, TokenIssuer
from townsquare.db.session import SessionDep
from townsquare.kit.hot_routes import HotRequest, NotPlain
from townsquare.kit.rate_limits import enforce

# auto_error=False: a missing token is answered by our own 401 problem, not FastAPI's.
bearer = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user (by id: routes that need the account's row read it themselves)."""

    id: int
    session_id: int
    # When the access token stops being accepted (long-lived streams end then).
    token_expires_at: datetime


# The expiry of a token that has none of its own (an app's token, the web client's sign-in):
# it lasts as long as its session.
NEVER = datetime.max.replace(tzinfo=UTC)


# async although they wait for nothing: FastAPI runs a plain `def` dependency in a worker
# thread, a hand-off that cost every authenticated request about 90 µs of CPU.
async def _passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


async def _tokens(request: Request) -> TokenIssuer:
    tokens: TokenIssuer = request.app.state.tokens
    return tokens


PasswordsDep = Annotated[Passwords, Depends(_passwords)]
TokensDep = Annotated[TokenIssuer, Depends(_tokens)]


async def _optional_viewer(
    session: SessionDep, tokens: TokensDep, token: Annotated[str | None, Depends(bearer)]
) -> Viewer | None:
    if token is None:
        return None
    return await viewer_of(session, tokens, token)


async def viewer_of(session: AsyncSession, tokens: TokenIssuer, token: str) -> Viewer:
    """Who a native access token speaks for, while its session lives; InvalidToken otherwise."""
    claims = _claims(tokens, token)
    await service.authenticate(session, claims)
    return _signed_in(claims)


def _claims(tokens: TokenIssuer, token: str) -> AccessClaims:
    try:
        return tokens.decode(token)
    except InvalidAccessToken:
        # A token that was sent but is bad is an error even where none is needed.
        raise InvalidToken() from None


def _signed_in(claims: AccessClaims) -> Viewer:
    # Every line logged for the rest of the request names its user (observability/requests.py).
    structlog.contextvars.bind_contextvars(user_id=str(claims.user_id))
    return Viewer(id=claims.user_id, session_id=claims.session_id, token_expires_at=claims.expires_at)


async def _optional_unchecked_viewer(tokens: TokensDep, token: Annotated[str | None, Depends(bearer)]) -> Viewer | None:
    return None if token is None else _signed_in(_claims(tokens, token))


def hot_unchecked_viewer(request: HotRequest) -> Viewer | None:
    """`OptionalUncheckedViewer` for a hot route (kit.hot_routes): None without a token;
    NotPlain for a token FastAPI's route refuses (it says why)."""
    token = request.bearer_token()
    if token is None:
        return None
    tokens: TokenIssuer = request.app.state.tokens
    try:
        return _signed_in(tokens.decode(token))
    except InvalidAccessToken:
        raise NotPlain() from None


async def _unchecked_viewer(viewer: Annotated[Viewer | None, Depends(_optional_unchecked_viewer)]) -> Viewer:
    if viewer is None:
        raise InvalidToken("This endpoint needs a bearer token.")
    return viewer


async def _viewer_by_header_or_query(
    session: SessionDep,
    tokens: TokensDep,
    header_token: Annotated[str | None, Depends(bearer)],
    access_token: Annotated[
        str | None,
        Query(
            max_length=4096,
            description="The access token, for clients that cannot send headers (a browser's EventSource). "
            "The Authorization header is preferred: URLs end up in logs and histories.",
        ),
    ] = None,
) -> Viewer:
    viewer = await _optional_viewer(session, tokens, header_token or access_token)
    if viewer is None:
        raise InvalidToken("This endpoint needs a bearer token (header or `access_token`).")
    return viewer


async def _viewer(viewer: Annotated[Viewer | None, Depends(_optional_viewer)]) -> Viewer:
    if viewer is None:
        raise InvalidToken("This endpoint needs a bearer token.")
    return viewer


async def _writer(viewer: Annotated[Viewer, Depends(_viewer)], response: Response, limits: LimitsDep) -> Viewer:
    await enforce(limits.limiter, limits.writes_per_user, str(viewer.id), response)
    return viewer


# For routes that take a token but do not need one: OpenAPI then says "optional" ({}).
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}, {"OAuth2PasswordBearer": []}]}

CurrentViewer = Annotated[Viewer, Depends(_viewer)]
# A signed-in user making content or connections (posts, likes, comments, follows): the
# writes-per-user rate limit applies.
Writer = Annotated[Viewer, Depends(_writer)]
OptionalViewer = Annotated[Viewer | None, Depends(_optional_viewer)]
# A validly signed token whose session is NOT checked yet: for a route whose one statement checks
# it (auth.gate) and answers InvalidToken when it finds the session gone.
UncheckedViewer = Annotated[Viewer, Depends(_unchecked_viewer)]
OptionalUncheckedViewer = Annotated[Viewer | None, Depends(_optional_unchecked_viewer)]
# For event streams: browsers' EventSource cannot send an Authorization header.
ViewerByHeaderOrQuery = Annotated[Viewer, Depends(_viewer_by_header_or_query)]
