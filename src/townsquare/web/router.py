"""The web client's pages: sign up, sign in, sign out, the home feed with "load more", compose."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from townsquare.auth import service as auth_service
from townsquare.auth.dependencies import PasswordsDep
from townsquare.auth.limits import LimitsDep, LoginAllowed, RegistrationAllowed
from townsquare.auth.schemas import PasswordChange, Registration
from townsquare.config import Settings
from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep
from townsquare.feed import service as feed_service
from townsquare.interactions import service as interactions_service
from townsquare.interactions.schemas import CommentWrite
from townsquare.kit.errors import DomainError
from townsquare.kit.origin import FORM_PAGE_REFERRER_POLICY, from_this_site
from townsquare.kit.pagination import InvalidCursor, decode_id_cursor
from townsquare.kit.rate_limits import enforce
from townsquare.oauth import service as oauth_service
from townsquare.posts import service as posts_service
from townsquare.posts.errors import PostNotFound
from townsquare.posts.schemas import PostWrite
from townsquare.search import service as search_service
from townsquare.users import service as users_service
from townsquare.users.errors import UserNotFound
from townsquare.users.models import UserAccount
from townsquare.users.schemas import ProfileUpdate
from townsquare.web.session import MaybeSignedIn, WebSession, clear_cookie, csrf_ok, set_cookie
from townsquare.worker.dependencies import JobsDep

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


# --- profiles, posts, search ---------------------------------------------------------------


async def _user_named(session: SessionDep, username: str) -> UserAccount:
    user = await users_service.find_by_username(session, username)
    if user is None:
        raise UserNotFound()
    return user


def _not_found(request: Request, web: WebSession | None, what: str) -> HTMLResponse:
    return _page(request, "base.html", 404, web=web, error=f"No such {what}.")


@router.get("/@{username}", response_class=HTMLResponse)
async def profile(
    request: Request, username: str, session: SessionDep, web: MaybeSignedIn, cursor: str | None = None
) -> Response:
    found = await users_service.find_by_username(session, username)
    if found is None:
        return _not_found(request, web, "account")
    viewer_id = web.viewer.id if web else None
    user, followed = await users_service.get_profile(session, user_id=found.id, viewer_id=viewer_id)
    try:
        before = decode_id_cursor(cursor)
    except InvalidCursor:
        before = None
    posts, next_cursor = await posts_service.author_page(
        session, author_id=user.id, viewer_id=viewer_id, before=before, limit=PAGE_SIZE
    )
    return _page(request, "profile.html", web=web, user=user, followed=followed, posts=posts, next_cursor=next_cursor)


@router.get("/@{username}/{post_id}", response_class=HTMLResponse)
async def post_page(request: Request, username: str, post_id: str, session: SessionDep, web: MaybeSignedIn) -> Response:
    found = parse_id(post_id)
    try:
        post = await posts_service.get_post_json(session, post_id=found or 0, viewer_id=web.viewer.id if web else None)
        comments, _ = await interactions_service.comments_page(session, post_id=found or 0, after=None, limit=100)
    except PostNotFound:
        return _not_found(request, web, "post")
    return _page(request, "post.html", web=web, post=post, comments=comments)


async def _acting(request: Request, web: WebSession | None, csrf: str, limits: LimitsDep) -> WebSession | Response:
    """The signed-in user of a state-changing form, within the write rate limit; else the answer."""
    if web is None:
        return RedirectResponse("/signin", status_code=303)
    if not csrf_ok(request, web, csrf):
        return _forbidden(request, web)
    try:
        await enforce(limits.limiter, limits.writes_per_user, str(web.viewer.id), Response())
    except DomainError as error:  # too many
        return _page(request, "base.html", error.status, web=web, error=_message(error))
    return web


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.post("/@{username}/{post_id}/like")
@router.post("/@{username}/{post_id}/unlike")
async def like(
    request: Request,
    username: str,
    post_id: str,
    session: SessionDep,
    jobs: JobsDep,
    limits: LimitsDep,
    web: MaybeSignedIn,
    csrf: FORM = "",
) -> Response:
    acting = await _acting(request, web, csrf, limits)
    if isinstance(acting, Response):
        return acting
    found = parse_id(post_id) or 0
    try:
        if request.url.path.endswith("/like"):
            await interactions_service.like(session, jobs, post_id=found, user_id=acting.viewer.id)
        else:
            await interactions_service.unlike(session, post_id=found, user_id=acting.viewer.id)
    except PostNotFound:
        return _not_found(request, acting, "post")
    return _back(_same_site_path(request) or f"/@{username}/{found}#post-{found}")


def _same_site_path(request: Request) -> str | None:
    """Where the form was, to go back to: only a page of this site (never a redirect elsewhere)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


@router.post("/@{username}/{post_id}/comment", response_class=HTMLResponse)
async def comment(
    request: Request,
    username: str,
    post_id: str,
    session: SessionDep,
    jobs: JobsDep,
    limits: LimitsDep,
    web: MaybeSignedIn,
    content: Annotated[str, Form(max_length=3000)] = "",
    csrf: FORM = "",
) -> Response:
    acting = await _acting(request, web, csrf, limits)
    if isinstance(acting, Response):
        return acting
    found = parse_id(post_id) or 0
    try:
        body = CommentWrite(content=content)
    except ValidationError:
        return _page(request, "base.html", 422, web=acting, error="A comment holds 1 to 300 characters.")
    try:
        await interactions_service.add_comment(
            session, jobs, post_id=found, author_id=acting.viewer.id, content=body.content
        )
    except PostNotFound:
        return _not_found(request, acting, "post")
    return _back(f"/@{username}/{found}")


@router.post("/@{username}/follow")
@router.post("/@{username}/unfollow")
async def follow(
    request: Request,
    username: str,
    session: SessionDep,
    jobs: JobsDep,
    limits: LimitsDep,
    web: MaybeSignedIn,
    csrf: FORM = "",
) -> Response:
    acting = await _acting(request, web, csrf, limits)
    if isinstance(acting, Response):
        return acting
    try:
        user = await _user_named(session, username)
        if request.url.path.endswith("/follow"):
            await users_service.follow(session, jobs, follower_id=acting.viewer.id, followed_id=user.id)
        else:
            await users_service.unfollow(session, follower_id=acting.viewer.id, followed_id=user.id)
    except DomainError as error:  # nobody by that name; following yourself
        return _page(request, "base.html", error.status, web=acting, error=_message(error))
    return _back(f"/@{user.username}")


@router.post("/@{username}/bio", response_class=HTMLResponse)
async def bio(
    request: Request,
    username: str,
    session: SessionDep,
    limits: LimitsDep,
    web: MaybeSignedIn,
    bio: Annotated[str, Form(max_length=3000)] = "",
    csrf: FORM = "",
) -> Response:
    acting = await _acting(request, web, csrf, limits)
    if isinstance(acting, Response):
        return acting
    try:
        changes = ProfileUpdate(bio=bio)
    except ValidationError:
        return _page(request, "base.html", 422, web=acting, error="A bio holds at most 300 characters.")
    try:
        user = await _user_named(session, username)
        await users_service.update_profile(session, user_id=user.id, editor_id=acting.viewer.id, changes=changes)
    except DomainError as error:  # not yours
        return _page(request, "base.html", error.status, web=acting, error=_message(error))
    return _back(f"/@{user.username}")


@router.get("/explore", response_class=HTMLResponse)
async def explore(
    request: Request, session: SessionDep, web: MaybeSignedIn, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    text = q.strip()
    if not text or len(text) > 100 or "\x00" in text:
        return _page(request, "explore.html", web=web, q=text[:100])
    found = await search_service.search(
        session, q=text, kind="all", cursor=None, limit=PAGE_SIZE, viewer_id=web.viewer.id if web else None
    )
    posts = [post.model_dump(mode="json", exclude_none=True) for post in found.posts]
    return _page(request, "explore.html", web=web, q=text, users=found.users, posts=posts)


# --- settings ---------------------------------------------------------------------------------


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, web: MaybeSignedIn) -> Response:
    if web is None:
        return RedirectResponse("/signin", status_code=303)
    return _page(request, "settings.html", web=web)


def _signed_out_page(request: Request, notice: str) -> HTMLResponse:
    response = _page(request, "signin.html", notice=notice)
    clear_cookie(request, response)
    return response


@router.post("/settings/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    limits: LimitsDep,
    web: MaybeSignedIn,
    current_password: FORM = "",
    new_password: FORM = "",
    csrf: FORM = "",
) -> Response:
    if web is None:
        return RedirectResponse("/signin", status_code=303)
    if not csrf_ok(request, web, csrf):
        return _forbidden(request, web)
    try:
        change = PasswordChange(current_password=current_password, new_password=new_password)
    except ValidationError:
        return _page(request, "settings.html", 422, web=web, error="The new password needs 8 to 128 characters.")
    try:
        await auth_service.change_password(
            session,
            passwords,
            limits,
            user_id=web.viewer.id,
            current_password=change.current_password,
            new_password=change.new_password,
        )
    except DomainError as error:  # the current password is wrong; too many attempts
        return _page(request, "settings.html", error.status, web=web, error=_message(error))
    # As in the API, every session ends, this one too.
    return _signed_out_page(request, "Your password was changed. Sign in with the new one.")


@router.post("/settings/delete", response_class=HTMLResponse)
async def delete_account(
    request: Request,
    session: SessionDep,
    passwords: PasswordsDep,
    limits: LimitsDep,
    web: MaybeSignedIn,
    password: FORM = "",
    csrf: FORM = "",
) -> Response:
    if web is None:
        return RedirectResponse("/signin", status_code=303)
    if not csrf_ok(request, web, csrf):
        return _forbidden(request, web)
    try:
        await auth_service.delete_account(session, passwords, limits, user_id=web.viewer.id, password=password[:128])
    except DomainError as error:
        return _page(request, "settings.html", error.status, web=web, error=_message(error))
    return _signed_out_page(request, "Your account and everything it made were deleted.")
