"""Apps and OAuth 2: `POST /api/v1/apps`, the authorization page, the token endpoint, revocation.

The authorization page is one stateless HTML form (sign in and approve at once), so it works
without JavaScript and without a web session; `urn:ietf:wg:oauth:2.0:oob` shows the code.
"""

from __future__ import annotations

import base64
import binascii
import html
from datetime import timedelta
from typing import Annotated, Literal, TypeVar
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import Field

from townsquare.auth.dependencies import PasswordsDep
from townsquare.auth.limits import AppRegistrationAllowed, LimitsDep, LoginAllowed
from townsquare.config import Settings
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.errors import DomainError
from townsquare.kit.origin import FORM_PAGE_REFERRER_POLICY, from_this_site
from townsquare.mastodon.auth import Access, any_token
from townsquare.mastodon.errors import Unprocessable
from townsquare.mastodon.params import Params, collect, params
from townsquare.oauth import scopes
from townsquare.oauth import service as oauth
from townsquare.oauth.errors import InvalidClient, InvalidGrant, InvalidScope, OAuthError, UnsupportedGrantType
from townsquare.oauth.models import OAuthApp
from townsquare.oauth.service import OOB, Grant

router = APIRouter()


def lifetime(request: Request) -> timedelta:
    settings: Settings = request.app.state.settings
    return timedelta(days=settings.mastodon.token_lifetime_days)


class AppRegistration(Params):
    client_name: str = Field(min_length=1, max_length=200)
    redirect_uris: str | list[str] = OOB
    scopes: str | None = None
    website: str | None = Field(default=None, max_length=2000)


def _redirect_uris(value: str | list[str]) -> list[str]:
    uris = value.split() if isinstance(value, str) else [uri for item in value for uri in item.split()]
    if not uris or len(uris) > 20:
        raise Unprocessable("Validation failed: Redirect URI must be given (at most 20)")
    for uri in uris:
        parts = urlsplit(uri)
        # OOB, https, http (for development), or a native app's own scheme; never a script.
        if uri != OOB and (not parts.scheme or parts.scheme.lower() in ("javascript", "data", "vbscript")):
            raise Unprocessable("Validation failed: Redirect URI must be an absolute URI.")
        if parts.fragment or "#" in uri:  # RFC 6749 3.1.2: the code must not land in a fragment
            raise Unprocessable("Validation failed: Redirect URI cannot contain a fragment.")
        if len(uri) > 2000:
            raise Unprocessable("Validation failed: Redirect URI is too long")
    return uris


def _application(app: OAuthApp, *, secret: str | None = None) -> dict[str, object]:
    found: dict[str, object] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes,
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": app.redirect_uris,
        "vapid_key": "",
    }
    if secret is not None:
        found |= {"client_id": app.client_id, "client_secret": secret, "client_secret_expires_at": 0}
    return found


@router.post("/api/v1/apps", dependencies=[AppRegistrationAllowed])
async def create_app(
    body: Annotated[AppRegistration, Depends(params(AppRegistration))], session: SessionDep
) -> Response:
    asked = scopes.parse(body.scopes)
    if asked is None:
        raise Unprocessable("Validation failed: Scopes are not valid")
    registered = await oauth.register_app(
        session,
        name=body.client_name,
        website=body.website,
        redirect_uris=_redirect_uris(body.redirect_uris),
        scope=asked,
    )
    return JSONResponse(_application(registered.app, secret=registered.client_secret))


@router.get("/api/v1/apps/verify_credentials")
@reads_only
async def verify_app(access: Annotated[Access, Depends(any_token)], session: SessionDep) -> Response:
    app = await oauth.app_by_id(session, access.app_id) if access.app_id is not None else None
    if app is None:
        return JSONResponse({"name": "Townsquare", "website": None, "scopes": list(access.scopes), "vapid_key": ""})
    return JSONResponse(_application(app))


# --- the authorization page ---------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Townsquare</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1d2733}}
h1{{font-size:1.4rem}} label{{display:block;margin:.8rem 0 .2rem}}
input[type=text],input[type=password]{{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}}
button{{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;cursor:pointer}} .deny{{margin-left:.5rem}}
.error{{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem;border-radius:4px}}
code{{display:block;font-size:1.1rem;padding:.8rem;background:#eef2f6;word-break:break-all}}
ul{{padding-left:1.2rem}}
</style></head><body>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=html.escape(title), body=body),
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            "Cache-Control": "no-store",
            "Referrer-Policy": FORM_PAGE_REFERRER_POLICY,
        },
    )


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    return _page(
        "Authorization failed", f"<h1>Authorization failed</h1><p class=error>{html.escape(message)}</p>", status
    )


class AuthorizeQuery(Params):
    response_type: str = ""
    client_id: str = Field(default="", max_length=100)
    redirect_uri: str = Field(default="", max_length=2000)
    scope: str | None = Field(default=None, max_length=2000)
    state: str | None = Field(default=None, max_length=2000)
    # RFC 7636 4.2: 43 to 128 unreserved characters.
    code_challenge: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._~-]{43,128}$")
    code_challenge_method: str | None = Field(default=None, max_length=10)


class AuthorizeForm(AuthorizeQuery):
    login: str = Field(default="", max_length=320)
    password: str = Field(default="", max_length=1000)
    decision: Literal["approve", "deny"] = "approve"


async def _checked(session: SessionDep, query: AuthorizeQuery) -> tuple[OAuthApp, list[str]] | HTMLResponse:
    """The app and the scopes asked for, or the page that says why not (never a redirect to an
    address the app did not register)."""
    if query.response_type != "code":
        return _error_page("This server only supports response_type=code.")
    app = await oauth.app_by_client_id(session, query.client_id) if query.client_id else None
    if app is None:
        return _error_page("Unknown app (client_id).")
    if not oauth.redirect_allowed(
        app, query.redirect_uri or (app.redirect_uris[0] if len(app.redirect_uris) == 1 else "")
    ):
        return _error_page("The redirect_uri is not one this app registered.")
    try:
        asked = oauth.granted_scopes(app, query.scope)
    except InvalidScope:
        return _error_page("The app asks for scopes it did not register.")
    if query.code_challenge is not None and query.code_challenge_method != "S256":
        # RFC 7636 makes `plain` the default: only S256 is served, and it must be said.
        return _error_page("Only the S256 code challenge method is supported (code_challenge_method=S256).")
    return app, asked


def _form(app: OAuthApp, query: AuthorizeQuery, asked: list[str], *, error: str | None = None) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in (
            ("response_type", "code"),
            ("client_id", app.client_id),
            ("redirect_uri", query.redirect_uri or app.redirect_uris[0]),
            ("scope", " ".join(asked)),
            ("state", query.state or ""),
            ("code_challenge", query.code_challenge or ""),
            ("code_challenge_method", query.code_challenge_method or ""),
        )
        if value or name in ("state",)
    )
    site = (
        f' (<a href="{html.escape(app.website)}" rel="noopener noreferrer">{html.escape(app.website)}</a>)'
        if (app.website and urlsplit(app.website).scheme in ("http", "https"))
        else ""
    )
    target = query.redirect_uri or app.redirect_uris[0]
    where = "show you a code to copy into it" if target == OOB else f"send you back to {html.escape(target)}"
    return (
        f"<h1>Authorize {html.escape(app.name)}</h1>"
        + (f'<p class=error role="alert">{html.escape(error)}</p>' if error else "")
        + f"<p><strong>{html.escape(app.name)}</strong>{site} asks to use your Townsquare account with these"
        " permissions:</p><ul>"
        + "".join(f"<li>{html.escape(scope)}</li>" for scope in asked)
        + f"</ul><p>Approving will {where}.</p>"
        + '<form method="post" action="/oauth/authorize">'
        + hidden
        + '<label for="login">Email or username</label>'
        + '<input type="text" id="login" name="login" autocomplete="username" required autofocus>'
        + '<label for="password">Password</label>'
        + '<input type="password" id="password" name="password" autocomplete="current-password" required>'
        + '<button type="submit" name="decision" value="approve">Approve</button>'
        + '<button type="submit" name="decision" value="deny" class="deny" formnovalidate>Deny</button>'
        + "</form>"
    )


@router.get("/oauth/authorize", response_class=HTMLResponse)
@router.get("/oauth/authorize/", response_class=HTMLResponse)
@reads_only
async def authorize_page(request: Request, session: SessionDep) -> Response:
    found = await _authorization(request, session, AuthorizeQuery)
    if isinstance(found, HTMLResponse):
        return found
    query, app, asked = found
    return _page(f"Authorize {app.name}", _form(app, query, asked))


Q = TypeVar("Q", bound=AuthorizeQuery)


async def _authorization(
    request: Request, session: SessionDep, shape: type[Q]
) -> tuple[Q, OAuthApp, list[str]] | HTMLResponse:
    """The request read as `shape` with its app and scopes, or the page that says what is wrong."""
    try:
        query = shape.model_validate(await collect(request))
    except ValueError:
        return _error_page("The authorization request is malformed.")
    checked = await _checked(session, query)
    if isinstance(checked, HTMLResponse):
        return checked
    return query, *checked


def _redirect(uri: str, **values: str | None) -> RedirectResponse:
    query = urlencode({key: value for key, value in values.items() if value is not None})
    return RedirectResponse(uri + ("&" if "?" in uri else "?") + query, status_code=303)


@router.post("/oauth/authorize", response_class=HTMLResponse, dependencies=[LoginAllowed])
@router.post("/oauth/authorize/", response_class=HTMLResponse, dependencies=[LoginAllowed])
async def authorize(request: Request, session: SessionDep, passwords: PasswordsDep, limits: LimitsDep) -> Response:
    if not from_this_site(request):
        return _error_page("This form can only be sent from this server's own page.", status=403)
    found = await _authorization(request, session, AuthorizeForm)
    if isinstance(found, HTMLResponse):
        return found
    form, app, asked = found
    redirect_uri = form.redirect_uri or app.redirect_uris[0]
    if form.decision == "deny":
        if redirect_uri == OOB:
            return _page("Authorization denied", "<h1>Authorization denied</h1><p>You can close this page.</p>")
        return _redirect(redirect_uri, error="access_denied", state=form.state)
    try:
        user_id = await oauth.check_password(session, passwords, limits, login=form.login, password=form.password)
    except DomainError as error:  # wrong credentials, or too many attempts
        message = "Incorrect email, username or password." if error.status == 401 else error.detail
        return _page(f"Authorize {app.name}", _form(app, form, asked, error=message), status=error.status)
    code = await oauth.issue_code(
        session, app=app, user_id=user_id, redirect_uri=redirect_uri, scope=asked, code_challenge=form.code_challenge
    )
    if redirect_uri == OOB:
        return _page(
            "Authorization code",
            "<h1>Authorization code</h1><p>Copy this code and paste it into the app:</p>"
            f'<code id="code">{html.escape(code)}</code>',
        )
    return _redirect(redirect_uri, code=code, state=form.state)


# --- the token endpoint -------------------------------------------------------------------


class TokenRequest(Params):
    grant_type: str = ""
    client_id: str = Field(default="", max_length=100)
    client_secret: str = Field(default="", max_length=200)
    code: str | None = Field(default=None, max_length=200)
    redirect_uri: str | None = Field(default=None, max_length=2000)
    code_verifier: str | None = Field(default=None, max_length=200)
    username: str = Field(default="", max_length=1000)
    password: str = Field(default="", max_length=1000)
    scope: str | None = Field(default=None, max_length=2000)
    refresh_token: str | None = Field(default=None, max_length=200)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, ValueError):  # not base64, not ASCII, not UTF-8
        raise InvalidClient() from None
    return client_id, secret


def _token(grant: Grant) -> Response:
    body: dict[str, object] = {
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "scope": " ".join(grant.scopes),
        "created_at": int(grant.created_at.timestamp()),
    }
    if grant.refresh_token is not None:
        body["refresh_token"] = grant.refresh_token
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.post("/oauth/token", dependencies=[LoginAllowed])
async def token(
    request: Request,
    body: Annotated[TokenRequest, Depends(params(TokenRequest))],
    session: SessionDep,
    passwords: PasswordsDep,
    limits: LimitsDep,
) -> Response:
    client_id, client_secret = _basic_credentials(request) or (body.client_id, body.client_secret)
    app = await oauth.authenticate_client(session, client_id=client_id, client_secret=client_secret)
    if body.grant_type == "authorization_code":
        if not body.code:
            raise InvalidGrant("The code is missing.")
        grant = await oauth.exchange_code(
            session,
            app=app,
            code=body.code,
            redirect_uri=body.redirect_uri,
            code_verifier=body.code_verifier,
            lifetime=lifetime(request),
        )
    elif body.grant_type == "password":
        asked = oauth.granted_scopes(app, body.scope)
        try:
            grant = await oauth.password_grant(
                session,
                passwords,
                limits,
                app=app,
                login=body.username,
                password=body.password,
                scope=asked,
                lifetime=lifetime(request),
            )
        except DomainError as error:
            if error.status == 429 or isinstance(error, OAuthError):
                raise
            raise InvalidGrant("The username or password is incorrect.") from None
    elif body.grant_type == "client_credentials":
        grant = await oauth.client_credentials_grant(session, app=app, scope=oauth.granted_scopes(app, body.scope))
    elif body.grant_type == "refresh_token":
        if not body.refresh_token:
            raise InvalidGrant("The refresh_token is missing.")
        try:
            grant = await oauth.refresh_grant(session, app=app, refresh_token=body.refresh_token)
        except DomainError as error:
            if isinstance(error, OAuthError):
                raise
            raise InvalidGrant() from None
    else:
        raise UnsupportedGrantType()
    return _token(grant)


class Revocation(Params):
    client_id: str = Field(default="", max_length=100)
    client_secret: str = Field(default="", max_length=200)
    token: str = Field(default="", max_length=4096)


@router.post("/oauth/revoke")
async def revoke(
    request: Request, body: Annotated[Revocation, Depends(params(Revocation))], session: SessionDep
) -> Response:
    client_id, client_secret = _basic_credentials(request) or (body.client_id, body.client_secret)
    app = await oauth.authenticate_client(session, client_id=client_id, client_secret=client_secret)
    await oauth.revoke(session, app=app, token=body.token)
    return JSONResponse({})
