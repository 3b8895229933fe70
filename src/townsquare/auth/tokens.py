"""JWT access tokens (PyJWT) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from townsquare.config import AuthSettings
from townsquare.db.ids import parse_id

REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "sid"]
# Clock skew tolerated between the machines that issue and check tokens.
LEEWAY = timedelta(seconds=10)
# A client sends the same access token with each request of its life: the tokens checked last
# are remembered (about 1 KiB each), so that their signature and claims are checked once, not
# at every request, where PyJWT cost a third of the CPU of a session lookup. Only the expiry
# changes with time (`nbf` and `iat` stay passed), and it is checked at every use.
VERIFIED_TOKENS = 10_000


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int
    expires_at: datetime


class InvalidAccessToken(Exception):
    pass


class TokenIssuer:
    def __init__(self, settings: AuthSettings, secret: str) -> None:
        self._secret = secret
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.issuer
        self._audience = settings.audience
        self.access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self.refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
        # Tokens whose signature and claims were checked, by the exact token text, oldest first.
        self._verified: dict[str, AccessClaims] = {}

    def issue(self, *, user_id: int, session_id: int, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now,
            "exp": now + self.access_ttl,
        }
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)

    def decode(self, token: str) -> AccessClaims:
        """The claims of a valid access token; InvalidAccessToken otherwise."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._verified) >= VERIFIED_TOKENS:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[token] = claims
        # As PyJWT's own check: expired once `exp` plus the leeway has passed.
        if datetime.now(UTC) >= claims.expires_at:
            self._verified.pop(token, None)
            raise InvalidAccessToken("Signature has expired")
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                # Pinned: the token's own `alg` header never chooses (no `none`, no key confusion).
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise InvalidAccessToken(str(exc)) from exc
        user_id, session_id = parse_id(str(claims["sub"])), parse_id(str(claims["sid"]))
        if user_id is None or session_id is None:
            raise InvalidAccessToken("sub and sid must be ids")
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC) + LEEWAY
        return AccessClaims(user_id=user_id, session_id=session_id, expires_at=expires_at)


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh refresh token and the hash under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
