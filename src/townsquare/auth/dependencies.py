"""Who is asking: typed dependencies for endpoints that need, or may use, a token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from townsquare.auth import service
from townsquare.auth.errors import InvalidToken
from townsquare.auth.passwords import Passwords
from townsquare.auth.tokens import InvalidAccessToken, TokenIssuer
from townsquare.db.session import SessionDep
from townsquare.users.models import UserAccount

# auto_error=False: a missing token is answered by our own 401 problem, not FastAPI's.
bearer = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)


@dataclass(frozen=True, slots=True)
class Viewer:
    user: UserAccount
    session_id: int

    @property
    def id(self) -> int:
        return self.user.id


def _passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


def _tokens(request: Request) -> TokenIssuer:
    tokens: TokenIssuer = request.app.state.tokens
    return tokens


PasswordsDep = Annotated[Passwords, Depends(_passwords)]
TokensDep = Annotated[TokenIssuer, Depends(_tokens)]


async def _optional_viewer(
    session: SessionDep, tokens: TokensDep, token: Annotated[str | None, Depends(bearer)]
) -> Viewer | None:
    if token is None:
        return None
    try:
        claims = tokens.decode(token)
    except InvalidAccessToken:
        # A token that was sent but is bad is an error even where none is needed.
        raise InvalidToken() from None
    user = await service.authenticate(session, claims)
    return Viewer(user=user, session_id=claims.session_id)


async def _viewer(viewer: Annotated[Viewer | None, Depends(_optional_viewer)]) -> Viewer:
    if viewer is None:
        raise InvalidToken("This endpoint needs a bearer token.")
    return viewer


# For routes that take a token but do not need one: OpenAPI then says "optional" ({}).
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}, {"OAuth2PasswordBearer": []}]}

CurrentViewer = Annotated[Viewer, Depends(_viewer)]
OptionalViewer = Annotated[Viewer | None, Depends(_optional_viewer)]
