"""What every page of the web client shares: the templates, the answer and its headers, errors
as sentences, and the checks a form that changes something passes first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from townsquare.auth.limits import Limits, LimitsDep
from townsquare.kit.errors import DomainError
from townsquare.kit.origin import FORM_PAGE_REFERRER_POLICY
from townsquare.kit.pagination import InvalidCursor, decode_id_cursor
from townsquare.kit.rate_limits import enforce
from townsquare.web.session import MaybeSignedIn, WebSession, csrf_ok

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html: user text is never markup

# Only this server's own files: no inline script or style, nothing from elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FORM = Annotated[str, Form(max_length=1000)]
TEXT = Annotated[str, Form(max_length=5000)]  # a post, comment or bio: its own rule says how long
PAGE_SIZE = 20
MAX_POST = 500
MAX_COMMENT = 300
MAX_BIO = 300


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page, or, for web.js updating a page in place (`X-Fragment: 1`), only the part
    that template is: a post card, a thread, an error."""
    response = templates.TemplateResponse(
        request, name, {"max_post": MAX_POST, "max_comment": MAX_COMMENT, "max_bio": MAX_BIO, **context}, status
    )
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = FORM_PAGE_REFERRER_POLICY
    return response


def wants_fragment(request: Request) -> bool:
    return request.headers.get("x-fragment") == "1"


def error_page(request: Request, web: WebSession | None, status: int, error: str) -> HTMLResponse:
    """An error as a sentence: a page of its own, or the alert web.js shows beside the form."""
    return page(request, "_error.html" if wants_fragment(request) else "base.html", status, web=web, error=error)


def message(error: DomainError) -> str:
    """A domain error as a person reads it."""
    if error.status == 401:
        return "Incorrect email, username or password."
    if error.status == 429:
        return f"Too many attempts. Try again in {error.headers.get('Retry-After', 'a few')} seconds."
    return error.detail


_FIELDS = {"email": "Email", "username": "Username", "password": "Password"}
_HINTS = {
    "username": "3 to 30 letters, digits or underscores.",
    "password": "8 to 128 characters.",
    "email": "an email address, like you@example.com.",
}


def first_problem(error: ValidationError) -> str:
    """The first field a form got wrong, as a sentence: "Username: 3 to 30 letters..."."""
    field = str(error.errors()[0]["loc"][0])
    return f"{_FIELDS.get(field, field.capitalize())}: {_HINTS.get(field, 'not valid.')}"


def not_found(request: Request, web: WebSession | None, what: str) -> HTMLResponse:
    return error_page(request, web, 404, f"No such {what}.")


def forbidden(request: Request, web: WebSession | None) -> HTMLResponse:
    return error_page(
        request, web, 403, "That form had expired or came from another site: nothing was changed. Try again."
    )


def go(path: str) -> RedirectResponse:
    """After a form: the browser loads `path` (303), so a reload does not send the form again."""
    return RedirectResponse(path, status_code=303)


def same_site_path(request: Request) -> str | None:
    """Where the form was, to go back to: only a page of this site (never a redirect elsewhere)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def before(cursor: str | None) -> int | None:
    """A "load more" link's cursor; a mangled one starts from the top, as a fresh visit."""
    try:
        return decode_id_cursor(cursor)
    except InvalidCursor:
        return None


class Refused(Exception):
    """A form may not go on: `response` is the answer instead (app.py renders it)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def acting(request: Request, web: WebSession | None, csrf: str, limits: Limits | None) -> WebSession:
    """The signed-in user a state-changing form acts for; else Refused, answered with the
    sign-in page, a refusal (CSRF), or too many writes (the API's per-user write limit, given
    `limits`)."""
    if web is None:
        raise Refused(go("/signin"))
    if not csrf_ok(request, web, csrf):
        raise Refused(forbidden(request, web))
    if limits is not None:
        try:
            await enforce(limits.limiter, limits.writes_per_user, str(web.viewer.id), Response())
        except DomainError as error:  # too many
            raise Refused(error_page(request, web, error.status, message(error))) from None
    return web


async def _acting(request: Request, web: MaybeSignedIn, limits: LimitsDep, csrf: FORM = "") -> WebSession:
    return await acting(request, web, csrf, limits)


async def _acting_on_account(request: Request, web: MaybeSignedIn, csrf: FORM = "") -> WebSession:
    return await acting(request, web, csrf, None)


# The user of a state-changing form (its `csrf` field), as `acting` checks it: within the
# API's per-user write budget, or, for the account's own forms (password, deletion, marking
# notifications read), under those forms' own limits.
Acting = Annotated[WebSession, Depends(_acting)]
ActingOnAccount = Annotated[WebSession, Depends(_acting_on_account)]


async def refused(request: Request, exc: Exception) -> Response:
    """The exception handler that answers a Refused form (app.py installs it)."""
    assert isinstance(exc, Refused)
    answer: Response = exc.response
    return answer
