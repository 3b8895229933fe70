from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from townsquare.auth import service
from townsquare.auth.dependencies import CurrentViewer, PasswordsDep, TokensDep
from townsquare.auth.limits import LimitsDep, LoginAllowed
from townsquare.auth.schemas import AccountDeletion, PasswordChange, RefreshRequest, Registration, TokenPair
from townsquare.auth.service import IssuedTokens
from townsquare.db.session import SessionDep
from townsquare.kit.errors import problem_docs
from townsquare.kit.openapi import DocumentedRoute
from townsquare.kit.rate_limits import client_address
from townsquare.users.schemas import UserPrivate

router = APIRouter(tags=["auth"], route_class=DocumentedRoute)


def _pair(issued: IssuedTokens) -> TokenPair:
    return TokenPair(access_token=issued.access_token, expires_in=issued.expires_in, refresh_token=issued.refresh_token)


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPrivate,
    responses=problem_docs(409, 429),
)
async def register(
    request: Request, body: Registration, session: SessionDep, passwords: PasswordsDep, limits: LimitsDep
) -> UserPrivate:
    """Create an account.

    Rate-limited per client address: 5 accounts made a minute (50 a day), and 30 attempts a
    minute, made or not (a malformed request is a 422 and counts for neither)."""
    user = await service.register(
        session,
        passwords,
        limits,
        address=client_address(request),
        email=body.email,
        username=body.username,
        password=body.password,
        bio=body.bio,
    )
    return UserPrivate.model_validate(user)


@router.post("/auth/login", response_model=TokenPair, responses=problem_docs(401), dependencies=[LoginAllowed])
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    passwords: PasswordsDep,
    tokens: TokensDep,
    limits: LimitsDep,
) -> TokenPair:
    """Log in with email or username and password (OAuth2 password flow).

    Rate-limited per client address, and per account: after 5 password attempts in a minute
    (20 in an hour; a correct password clears the count) the answer is 429 until the window frees.
    """
    issued = await service.login(session, passwords, tokens, limits, login=form.username, password=form.password)
    return _pair(issued)


@router.post("/auth/refresh", response_model=TokenPair, responses=problem_docs(401), dependencies=[LoginAllowed])
async def refresh(body: RefreshRequest, session: SessionDep, tokens: TokensDep) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    return _pair(await service.refresh(session, tokens, refresh_token=body.refresh_token))


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=problem_docs(401)
)
async def logout(viewer: CurrentViewer, session: SessionDep) -> None:
    """End this session: its refresh token and access tokens stop working at once."""
    await service.logout(session, session_id=viewer.session_id)


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 403),
)
async def change_password(
    body: PasswordChange, viewer: CurrentViewer, session: SessionDep, passwords: PasswordsDep, limits: LimitsDep
) -> None:
    """Change the password; every session of the account ends."""
    await service.change_password(
        session,
        passwords,
        limits,
        user_id=viewer.id,
        current_password=body.current_password,
        new_password=body.new_password,
    )


@router.delete(
    "/users/me",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["users"],
    responses=problem_docs(401, 403),
)
async def delete_account(
    body: AccountDeletion, viewer: CurrentViewer, session: SessionDep, passwords: PasswordsDep, limits: LimitsDep
) -> None:
    """Delete your account and everything it made (needs the password)."""
    await service.delete_account(session, passwords, limits, user_id=viewer.id, password=body.password)
