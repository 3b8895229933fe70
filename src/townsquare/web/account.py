"""Signing up, in and out, and the settings: the password and deleting the account."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import service as auth_service
from townsquare.auth.dependencies import PasswordsDep
from townsquare.auth.limits import LimitsDep, LoginAllowed
from townsquare.auth.schemas import PasswordChange, Registration
from townsquare.config import Settings
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import DomainError
from townsquare.kit.origin import from_this_site
from townsquare.kit.rate_limits import client_address
from townsquare.oauth import service as oauth_service
from townsquare.safety import service as safety_service
from townsquare.web.render import FORM, ActingOnAccount, acting, first_problem, go, message, page
from townsquare.web.session import MaybeSignedIn, WebSession, clear_cookie, set_cookie

router = APIRouter(include_in_schema=False)
NOT_HERE = "This form can only be sent from this site."


def _lifetime(request: Request) -> timedelta:
    settings: Settings = request.app.state.settings
    return timedelta(days=settings.mastodon.token_lifetime_days)


async def _signed_in(request: Request, session: SessionDep, user_id: int) -> Response:
    app = await oauth_service.web_app(session)
    grant = await oauth_service.grant_for_user(
        session, app=app, user_id=user_id, scope=list(app.scopes), lifetime=_lifetime(request)
    )
    response = go("/")
    set_cookie(request, response, grant.access_token, max_age=int(_lifetime(request).total_seconds()))
    return response


@router.get("/signin", response_class=HTMLResponse)
@reads_only
async def signin_page(request: Request) -> Response:
    return page(request, "signin.html")


@router.post("/signin", response_class=HTMLResponse, dependencies=[LoginAllowed])
async def signin(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    limits: LimitsDep,
    login: FORM = "",
    password: FORM = "",
) -> Response:
    if not from_this_site(request):
        return page(request, "signin.html", 403, error=NOT_HERE)
    try:
        user_id = await oauth_service.check_password(session, passwords, limits, login=login, password=password)
    except DomainError as error:
        return page(request, "signin.html", error.status, error=message(error), login=login)
    return await _signed_in(request, session, user_id)


@router.get("/signup", response_class=HTMLResponse)
@reads_only
async def signup_page(request: Request) -> Response:
    return page(request, "signup.html")


@router.post("/signup", response_class=HTMLResponse)
async def signup(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    limits: LimitsDep,
    email: FORM = "",
    username: FORM = "",
    password: FORM = "",
) -> Response:
    again = {"email": email, "username": username}
    if not from_this_site(request):
        return page(request, "signup.html", 403, error=NOT_HERE, **again)
    try:
        valid = Registration(email=email, username=username, password=password)
    except ValidationError as error:
        return page(request, "signup.html", 422, error=first_problem(error), **again)
    try:
        user = await auth_service.register(
            session,
            passwords,
            limits,
            address=client_address(request),
            email=valid.email,
            username=valid.username,
            password=valid.password,
            bio="",
        )
    except DomainError as error:  # the email or username is taken; too many sign-ups
        return page(request, "signup.html", error.status, error=message(error), **again)
    return await _signed_in(request, session, user.id)


@router.post("/signout")
async def signout(request: Request, session: SessionDep, web: MaybeSignedIn, csrf: FORM = "") -> Response:
    if web is not None:
        await acting(request, web, csrf, None)
        app = await oauth_service.web_app(session)
        await oauth_service.revoke(session, app=app, token=web.token)  # its session ends with it
    response = go("/")
    clear_cookie(request, response)
    return response


@router.get("/settings", response_class=HTMLResponse)
@reads_only
async def settings_page(request: Request, session: SessionDep, web: MaybeSignedIn) -> Response:
    if web is None:
        return go("/signin")
    return await _settings(request, session, web)


LISTED = 100  # blocked and muted accounts the settings page lists, of each


async def _settings(
    request: Request, session: AsyncSession, web: WebSession, status: int = 200, error: str | None = None
) -> Response:
    """The settings page, with whom you blocked and muted (where either is lifted)."""
    me = web.viewer.id
    blocked, _ = await safety_service.blocks_page(session, blocker_id=me, before=None, limit=LISTED)
    muted, _ = await safety_service.mutes_page(session, muter_id=me, before=None, limit=LISTED)
    return page(request, "settings.html", status, web=web, error=error, blocked=blocked, muted=muted)


def _signed_out_page(request: Request, notice: str) -> HTMLResponse:
    response = page(request, "signin.html", notice=notice)
    clear_cookie(request, response)
    return response


@router.post("/settings/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    limits: LimitsDep,
    signed_in: ActingOnAccount,
    current_password: FORM = "",
    new_password: FORM = "",
) -> Response:
    try:
        change = PasswordChange(current_password=current_password, new_password=new_password)
    except ValidationError:
        return await _settings(request, session, signed_in, 422, "The new password needs 8 to 128 characters.")
    try:
        await auth_service.change_password(
            session,
            passwords,
            limits,
            user_id=signed_in.viewer.id,
            current_password=change.current_password,
            new_password=change.new_password,
        )
    except DomainError as error:  # the current password is wrong; too many attempts
        return await _settings(request, session, signed_in, error.status, message(error))
    # As in the API, every session ends, this one too.
    return _signed_out_page(request, "Your password was changed. Sign in with the new one.")


@router.post("/settings/delete", response_class=HTMLResponse)
async def delete_account(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    limits: LimitsDep,
    signed_in: ActingOnAccount,
    password: FORM = "",
) -> Response:
    try:
        await auth_service.delete_account(
            session, passwords, limits, user_id=signed_in.viewer.id, password=password[:128]
        )
    except DomainError as error:
        return await _settings(request, session, signed_in, error.status, message(error))
    return _signed_out_page(request, "Your account and everything it made were deleted.")
