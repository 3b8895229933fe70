"""The web client's pages: sign up, sign in, sign out, the home feed with "load more", compose."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from townsquare.auth import service as auth_service
from townsquare.auth.dependencies import PasswordsDep
from townsquare.auth.limits import LimitsDep, LoginAllowed, RegistrationAllowed
from townsquare.auth.schemas import Registration
from townsquare.config import Settings
from townsquare.db.session import SessionDep
from townsquare.feed import service as feed_service
from townsquare.kit.errors import DomainError
from townsquare.kit.origin import FORM_PAGE_REFERRER_POLICY, from_this_site
from townsquare.kit.pagination import InvalidCursor, decode_id_cursor
from townsquare.kit.rate_limits import enforce
from townsquare.oauth import service as oauth_service
from townsquare.posts import service as posts_service
from townsquare.posts.schemas import PostWrite
from townsquare.web.session import MaybeSignedIn, WebSession, clear_cookie, csrf_ok, set_cookie

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html: user text is never markup
router = APIRouter(include_in_schema=False)

# Only this server's own files: no inline script or style, nothing from elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FORM = Annotated[str, Form(max_length=1000)]
PAGE_SIZE = 20
MAX_POST = 500


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, {"max_post": MAX_POST, **context}, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = FORM_PAGE_REFERRER_POLICY
    return response


def _home() -> RedirectResponse:
    return RedirectResponse("/", status_code=303)  # after a post: a reload does not post again


def _message(error: DomainError) -> str:
    """A domain error as a person reads it."""
    if error.status == 401:
        return "Incorrect email, username or password."
    if error.status == 429:
        return f"Too many attempts. Try again in {error.headers.get('Retry-After', 'a few')} seconds."
    return error.detail


def _lifetime(request: Request) -> timedelta:
    settings: Settings = request.app.state.settings
    return timedelta(days=settings.mastodon.token_lifetime_days)


async def _signed_in(request: Request, session: SessionDep, user_id: int) -> RedirectResponse:
    app = await oauth_service.web_app(session)
    grant = await oauth_service.grant_for_user(
        session, app=app, user_id=user_id, scope=list(app.scopes), lifetime=_lifetime(request)
    )
    response = _home()
    set_cookie(request, response, grant.access_token, max_age=int(_lifetime(request).total_seconds()))
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep, web: MaybeSignedIn, cursor: str | None = None) -> Response:
    if web is None:
        return _page(request, "signin.html")
    try:
        before = decode_id_cursor(cursor)
    except InvalidCursor:
        before = None
    posts, next_cursor = await feed_service.home_page(session, viewer_id=web.viewer.id, before=before, limit=PAGE_SIZE)
    return _page(request, "home.html", web=web, posts=posts, next_cursor=next_cursor, more=cursor is not None)


@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request) -> Response:
    return _page(request, "signin.html")


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
        return _page(request, "signin.html", 403, error="This form can only be sent from this site.")
    try:
        user_id = await oauth_service.check_password(session, passwords, limits, login=login, password=password)
    except DomainError as error:
        return _page(request, "signin.html", error.status, error=_message(error), login=login)
    return await _signed_in(request, session, user_id)


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(request: Request) -> Response:
    return _page(request, "signup.html")


_FIELDS = {"email": "Email", "username": "Username", "password": "Password"}
_HINTS = {
    "username": "3 to 30 letters, digits or underscores.",
    "password": "8 to 128 characters.",
    "email": "an email address, like you@example.com.",
}


@router.post("/signup", response_class=HTMLResponse, dependencies=[RegistrationAllowed])
async def signup(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    email: FORM = "",
    username: FORM = "",
    password: FORM = "",
) -> Response:
    again = {"email": email, "username": username}
    if not from_this_site(request):
        return _page(request, "signup.html", 403, error="This form can only be sent from this site.", **again)
    try:
        valid = Registration(email=email, username=username, password=password)
    except ValidationError as error:
        field = str(error.errors()[0]["loc"][0])
        message = f"{_FIELDS.get(field, field)}: {_HINTS.get(field, 'not valid.')}"
        return _page(request, "signup.html", 422, error=message, **again)
    try:
        user = await auth_service.register(
            session, passwords, email=valid.email, username=valid.username, password=valid.password, bio=""
        )
    except DomainError as error:  # the email or username is taken
        return _page(request, "signup.html", error.status, error=_message(error), **again)
    return await _signed_in(request, session, user.id)


@router.post("/signout")
async def signout(request: Request, session: SessionDep, web: MaybeSignedIn, csrf: FORM = "") -> Response:
    if web is not None:
        if not csrf_ok(request, web, csrf):
            return _forbidden(request, web)
        app = await oauth_service.web_app(session)
        await oauth_service.revoke(session, app=app, token=web.token)  # its session ends with it
    response = _home()
    clear_cookie(request, response)
    return response


@router.post("/compose", response_class=HTMLResponse)
async def compose(
    request: Request,
    session: SessionDep,
    limits: LimitsDep,
    web: MaybeSignedIn,
    content: Annotated[str, Form(max_length=5000)] = "",
    csrf: FORM = "",
) -> Response:
    if web is None:
        return _home()
    if not csrf_ok(request, web, csrf):
        return _forbidden(request, web)
    try:
        body = PostWrite(content=content)
    except ValidationError:
        error = "Write something first." if not content.strip() else f"A post holds at most {MAX_POST} characters."
        posts, next_cursor = await feed_service.home_page(
            session, viewer_id=web.viewer.id, before=None, limit=PAGE_SIZE
        )
        return _page(
            request, "home.html", 422, web=web, posts=posts, next_cursor=next_cursor, error=error, draft=content
        )
    try:
        await enforce(limits.limiter, limits.writes_per_user, str(web.viewer.id), Response())  # as the API's
        await posts_service.create_post(session, author_id=web.viewer.id, content=body.content)
    except DomainError as error:
        return _page(request, "home.html", error.status, web=web, posts=[], next_cursor=None, error=_message(error))
    return _home()


def _forbidden(request: Request, web: WebSession) -> HTMLResponse:
    return _page(
        request,
        "home.html",
        403,
        web=web,
        posts=[],
        next_cursor=None,
        error="That form had expired or came from another site: nothing was changed. Try again.",
    )
