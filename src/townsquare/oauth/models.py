from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from townsquare.db.base import Base, CreatedAt, IdPk


class OAuthApp(Base):
    """A client app registered through `POST /api/v1/apps`. Apps never expire."""

    __tablename__ = "oauth_app"

    id: Mapped[IdPk]
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the secret: secrets are 256 random bits, so a fast hash is enough.
    client_secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(2000))
    redirect_uris: Mapped[list[str]] = mapped_column(ARRAY(Text))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[CreatedAt]


class OAuthToken(Base):
    """An app's access token: for a user (within a login session), or for the app alone
    (`client_credentials`: no session, no user)."""

    __tablename__ = "oauth_token"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    app_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("oauth_app.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("refresh_session.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # SHA-256 of the token's refresh token (user tokens only): trading it in replaces the pair.
    refresh_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[CreatedAt]


class OAuthCode(Base):
    """A single-use authorization code, valid for minutes."""

    __tablename__ = "oauth_code"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    app_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("oauth_app.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # PKCE (RFC 7636, S256 only): BASE64URL(SHA256(code_verifier)), or None without PKCE.
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
