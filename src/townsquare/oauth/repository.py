"""Every query of OAuth apps, codes and app tokens."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.oauth.models import OAuthApp, OAuthCode, OAuthToken


async def insert_app(
    session: AsyncSession,
    *,
    client_id: str,
    secret_hash: bytes,
    name: str,
    website: str | None,
    redirect_uris: list[str],
    scopes: list[str],
) -> OAuthApp:
    app: OAuthApp | None = await session.scalar(
        insert(OAuthApp)
        .values(
            client_id=client_id,
            client_secret_hash=secret_hash,
            name=name,
            website=website,
            redirect_uris=redirect_uris,
            scopes=scopes,
        )
        .returning(OAuthApp)
    )
    assert app is not None
    return app


async def app_by_client_id(session: AsyncSession, client_id: str) -> OAuthApp | None:
    return await session.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))


async def app_by_id(session: AsyncSession, app_id: int) -> OAuthApp | None:
    return await session.get(OAuthApp, app_id)


async def insert_code(
    session: AsyncSession,
    *,
    code_hash: bytes,
    app_id: int,
    user_id: int,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str | None,
    expires_at: datetime,
) -> None:
    await session.execute(
        insert(OAuthCode).values(
            code_hash=code_hash,
            app_id=app_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            code_challenge=code_challenge,
            expires_at=expires_at,
        )
    )


async def take_code(session: AsyncSession, code_hash: bytes) -> OAuthCode | None:
    """The code, deleted in the same statement: two exchanges of one code cannot both win."""
    code: OAuthCode | None = await session.scalar(
        delete(OAuthCode).where(OAuthCode.code_hash == code_hash).returning(OAuthCode)
    )
    return code


async def delete_expired_codes(session: AsyncSession) -> None:
    await session.execute(text("DELETE FROM oauth_code WHERE expires_at <= now()"))


async def insert_token(
    session: AsyncSession,
    *,
    token_hash: bytes,
    app_id: int,
    session_id: int | None,
    scopes: list[str],
    refresh_hash: bytes | None = None,
) -> None:
    await session.execute(
        insert(OAuthToken).values(
            token_hash=token_hash, app_id=app_id, session_id=session_id, scopes=scopes, refresh_hash=refresh_hash
        )
    )


class TokenRow(NamedTuple):
    app_id: int
    scopes: list[str]
    session_id: int | None
    user_id: int | None


# Run on every request with an app token: the token, and its login session while that lives
# (an app's own token has none). One primary-key lookup and one join.
_TOKEN = text("""
SELECT oauth_token.app_id, oauth_token.scopes, refresh_session.id, refresh_session.user_id
FROM oauth_token
LEFT JOIN refresh_session ON refresh_session.id = oauth_token.session_id
WHERE oauth_token.token_hash = :token
  AND (oauth_token.session_id IS NULL OR refresh_session.expires_at > now())
""")


async def token(session: AsyncSession, token_hash: bytes) -> TokenRow | None:
    row = (await session.execute(_TOKEN, {"token": token_hash})).first()
    return None if row is None else TokenRow(*row)


async def delete_token(session: AsyncSession, token_hash: bytes) -> TokenRow | None:
    """Revoke the token; a user's token ends its login session too (and its refresh token)."""
    row = (
        await session.execute(
            text("""
            WITH revoked AS (
                DELETE FROM oauth_token WHERE token_hash = :token RETURNING app_id, scopes, session_id
            ), ended AS (
                DELETE FROM refresh_session WHERE id = (SELECT session_id FROM revoked) RETURNING id, user_id
            )
            SELECT revoked.app_id, revoked.scopes, revoked.session_id, ended.user_id
            FROM revoked LEFT JOIN ended ON ended.id = revoked.session_id
            """),
            {"token": token_hash},
        )
    ).first()
    return None if row is None else TokenRow(*row)


async def take_refresh(session: AsyncSession, *, app_id: int, refresh_hash: bytes) -> tuple[int, list[str]] | None:
    """Delete the app's token whose refresh token this is, if its session lives: (session id,
    scopes). One statement: of two refreshes with one token, one wins."""
    row = (
        await session.execute(
            text("""
            DELETE FROM oauth_token
            WHERE refresh_hash = :refresh AND app_id = :app
              AND session_id IN (SELECT id FROM refresh_session WHERE expires_at > now())
            RETURNING session_id, scopes
            """),
            {"refresh": refresh_hash, "app": app_id},
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def ensure_app(session: AsyncSession, *, client_id: str, name: str, scopes: list[str]) -> OAuthApp:
    """The app with this client id, registered now if it was not (at once by many: one wins)."""
    await session.execute(
        text("""
        INSERT INTO oauth_app (client_id, client_secret_hash, name, redirect_uris, scopes)
        VALUES (:client_id, :secret, :name, ARRAY[]::text[], :scopes)
        ON CONFLICT (client_id) DO NOTHING
        """),
        # No secret anyone knows: the app is the server's own, never a client's.
        {"client_id": client_id, "secret": secrets.token_bytes(32), "name": name, "scopes": scopes},
    )
    app = await app_by_client_id(session, client_id)
    assert app is not None
    return app
