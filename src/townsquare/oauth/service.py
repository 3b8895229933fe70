"""The rules of OAuth 2 for apps: registration, the four grants, revocation, token checks.

A user's app token lives in a login session of its own, started by the grant: logout, a
password change or account deletion end the session, and the token with it. App tokens are
opaque and do not expire by time (Mastodon's clients never refresh); a refresh token comes
along for those that do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import service as auth_service
from townsquare.auth.limits import Limits
from townsquare.auth.passwords import Passwords
from townsquare.oauth import repository, scopes
from townsquare.oauth.errors import InvalidClient, InvalidGrant, InvalidScope, UnauthorizedClient
from townsquare.oauth.models import OAuthApp

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True, slots=True)
class RegisteredApp:
    app: OAuthApp
    client_secret: str


@dataclass(frozen=True, slots=True)
class Grant:
    access_token: str
    scopes: list[str]
    created_at: datetime
    refresh_token: str | None


@dataclass(frozen=True, slots=True)
class AppAccess:
    """Who an app token speaks for: a user (with the session), or only the app."""

    app_id: int
    scopes: list[str]
    user_id: int | None
    session_id: int | None


async def register_app(
    session: AsyncSession, *, name: str, website: str | None, redirect_uris: list[str], scope: list[str]
) -> RegisteredApp:
    client_secret = secrets.token_urlsafe(32)
    app = await repository.insert_app(
        session,
        client_id=secrets.token_urlsafe(32),
        secret_hash=_hash(client_secret),
        name=name,
        website=website,
        redirect_uris=redirect_uris,
        scopes=scope,
    )
    return RegisteredApp(app=app, client_secret=client_secret)


async def app_by_client_id(session: AsyncSession, client_id: str) -> OAuthApp | None:
    return await repository.app_by_client_id(session, client_id)


async def app_by_id(session: AsyncSession, app_id: int) -> OAuthApp | None:
    return await repository.app_by_id(session, app_id)


async def authenticate_client(session: AsyncSession, *, client_id: str, client_secret: str) -> OAuthApp:
    app = await repository.app_by_client_id(session, client_id) if len(client_id) <= 64 else None
    # Compared in constant time, and as hashes: the stored one is all there is.
    if app is None or not hmac.compare_digest(app.client_secret_hash, _hash(client_secret)):
        raise InvalidClient()
    return app


def granted_scopes(app: OAuthApp, asked: str | None) -> list[str]:
    """The scopes a grant gives: those asked for (`read` when none are, as Mastodon), within the app's."""
    wanted = scopes.parse(asked)
    if wanted is None or not scopes.subset(wanted, app.scopes):
        raise InvalidScope()
    return wanted


def redirect_allowed(app: OAuthApp, redirect_uri: str) -> bool:
    return redirect_uri in app.redirect_uris


async def issue_code(
    session: AsyncSession,
    *,
    app: OAuthApp,
    user_id: int,
    redirect_uri: str,
    scope: list[str],
    code_challenge: str | None,
) -> str:
    code = secrets.token_urlsafe(32)
    await repository.insert_code(
        session,
        code_hash=_hash(code),
        app_id=app.id,
        user_id=user_id,
        redirect_uri=redirect_uri,
        scopes=scope,
        code_challenge=code_challenge,
        expires_at=datetime.now(UTC) + CODE_LIFETIME,
    )
    return code


def pkce_challenge(code_verifier: str) -> str:
    """S256 (RFC 7636 4.2): BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


async def exchange_code(
    session: AsyncSession,
    *,
    app: OAuthApp,
    code: str,
    redirect_uri: str | None,
    code_verifier: str | None,
    lifetime: timedelta,
) -> Grant:
    found = await repository.take_code(session, _hash(code))
    if found is None or found.app_id != app.id or found.expires_at <= datetime.now(UTC):
        raise InvalidGrant()
    if redirect_uri != found.redirect_uri:  # RFC 6749 4.1.3: required, and the same
        raise InvalidGrant("The redirect_uri does not match the one the code was issued for.")
    if found.code_challenge is not None and (
        code_verifier is None or not hmac.compare_digest(pkce_challenge(code_verifier), found.code_challenge)
    ):
        raise InvalidGrant("The code_verifier does not match the code_challenge.")
    return await _user_grant(session, app=app, user_id=found.user_id, scope=list(found.scopes), lifetime=lifetime)


async def password_grant(
    session: AsyncSession,
    passwords: Passwords,
    limits: Limits,
    *,
    app: OAuthApp,
    login: str,
    password: str,
    scope: list[str],
    lifetime: timedelta,
) -> Grant:
    user_id = await auth_service.check_login(session, passwords, limits, login=login, password=password)
    return await _user_grant(session, app=app, user_id=user_id, scope=scope, lifetime=lifetime)


async def check_password(
    session: AsyncSession, passwords: Passwords, limits: Limits, *, login: str, password: str
) -> int:
    """For the authorization page: whose login this is (InvalidCredentials otherwise)."""
    return await auth_service.check_login(session, passwords, limits, login=login, password=password)


async def grant_for_user(
    session: AsyncSession, *, app: OAuthApp, user_id: int, scope: list[str], lifetime: timedelta
) -> Grant:
    """A token of the app for an account made just now (registration through the app)."""
    return await _user_grant(session, app=app, user_id=user_id, scope=scope, lifetime=lifetime)


async def client_credentials_grant(session: AsyncSession, *, app: OAuthApp, scope: list[str]) -> Grant:
    access_token = secrets.token_urlsafe(32)
    await repository.insert_token(session, token_hash=_hash(access_token), app_id=app.id, session_id=None, scopes=scope)
    return Grant(access_token=access_token, scopes=scope, created_at=datetime.now(UTC), refresh_token=None)


async def refresh_grant(session: AsyncSession, *, app: OAuthApp, refresh_token: str) -> Grant:
    """A new token pair for the old one's session and scopes; the old pair stops working."""
    found = await repository.take_refresh(session, app_id=app.id, refresh_hash=_hash(refresh_token))
    if found is None:  # unknown, used already, another app's, or its session ended
        raise InvalidGrant()
    session_id, scope = found
    return await _issue(session, app=app, session_id=session_id, scope=scope)


async def revoke(session: AsyncSession, *, app: OAuthApp, token: str) -> None:
    """End the token (and its session); revoking an unknown or revoked token is no error."""
    found = await repository.token(session, _hash(token))
    if found is None:
        return
    if found.app_id != app.id:
        raise UnauthorizedClient()
    await repository.delete_token(session, _hash(token))


async def authenticate(session: AsyncSession, token: str) -> AppAccess | None:
    """What an app token may do, while it and its session live; None otherwise."""
    found = await repository.token(session, _hash(token))
    if found is None:
        return None
    return AppAccess(app_id=found.app_id, scopes=found.scopes, user_id=found.user_id, session_id=found.session_id)


async def _user_grant(
    session: AsyncSession, *, app: OAuthApp, user_id: int, scope: list[str], lifetime: timedelta
) -> Grant:
    session_id = await auth_service.start_app_session(session, user_id=user_id, lifetime=lifetime)
    return await _issue(session, app=app, session_id=session_id, scope=scope)


async def _issue(session: AsyncSession, *, app: OAuthApp, session_id: int, scope: list[str]) -> Grant:
    access_token, refresh_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await repository.insert_token(
        session,
        token_hash=_hash(access_token),
        app_id=app.id,
        session_id=session_id,
        scopes=scope,
        refresh_hash=_hash(refresh_token),
    )
    return Grant(access_token=access_token, scopes=scope, created_at=datetime.now(UTC), refresh_token=refresh_token)


async def purge_expired_codes(session: AsyncSession) -> None:
    """Codes past their lifetime can never be exchanged: remove them."""
    await repository.delete_expired_codes(session)


WEB_CLIENT_ID = "townsquare-web"


async def web_app(session: AsyncSession) -> OAuthApp:
    """The server's own web client, as an app: its sign-ins are app sessions like any other's
    (logout, password change and deletion end them), with every scope."""
    return await repository.ensure_app(
        session, client_id=WEB_CLIENT_ID, name="Townsquare web", scopes=["read", "write", "follow", "push"]
    )
