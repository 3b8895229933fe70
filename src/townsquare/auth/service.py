"""Accounts and credentials: registration, login sessions, password changes, deletion."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg.errors import DeadlockDetected
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import repository
from townsquare.auth.errors import AccountSuspended, InvalidCredentials, InvalidToken, WrongPassword
from townsquare.auth.limits import Limits
from townsquare.auth.passwords import Passwords
from townsquare.auth.schemas import MAX_PASSWORD_LENGTH
from townsquare.auth.tokens import AccessClaims, TokenIssuer, hash_refresh_token, new_refresh_token
from townsquare.interactions import service as interactions_service
from townsquare.users import service as users_service
from townsquare.users.models import UserAccount


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


async def register(
    session: AsyncSession,
    passwords: Passwords,
    limits: Limits,
    *,
    address: str,
    email: str,
    username: str,
    password: str,
    bio: str,
) -> UserAccount:
    """A new account, from a valid request made from `address`, under the sign-up limits (only
    accounts made count against the address's registrations; every attempt counts against
    its larger budget of attempts). UsernameTaken or EmailTaken if so."""
    await limits.signup_attempt(address)
    hashed = await passwords.hash(password)
    user = await users_service.create_user(session, email=email, username=username, hashed_password=hashed, bio=bio)
    await limits.signed_up(address)
    return user


async def login(
    session: AsyncSession,
    passwords: Passwords,
    tokens: TokenIssuer,
    limits: Limits,
    *,
    login: str,
    password: str,
) -> IssuedTokens:
    user_id = await check_login(session, passwords, limits, login=login, password=password)
    return await _start_session(session, tokens, user_id=user_id)


async def check_login(session: AsyncSession, passwords: Passwords, limits: Limits, *, login: str, password: str) -> int:
    """The id of the account that `login` (email or username) and `password` name, under the
    login rate limits; InvalidCredentials otherwise. The account stays locked until commit, so a
    session started in this transaction cannot outlive a password change or deletion."""
    # PostgreSQL text cannot hold NUL, and no stored name or address is that long.
    user = await users_service.find_by_login(session, login) if len(login) <= 320 and "\x00" not in login else None
    # Counted before the password is checked, so parallel guesses are counted too. Counted by the
    # name given (email and username each have the budget), never by the account it finds:
    # shared counts would tell which email belongs to which username, and which names exist.
    account = _login_key(login)
    await limits.password_attempt(account)
    if len(password) > MAX_PASSWORD_LENGTH or "\x00" in password:
        raise InvalidCredentials()
    # Unknown accounts are verified against a dummy hash: same work, same answer.
    valid, new_hash = await passwords.verify(password, user.hashed_password if user else None)
    if user is None or not valid:
        raise InvalidCredentials()
    await limits.password_correct(account)
    if user.suspended_at is not None:
        raise AccountSuspended()
    # Verifying took tens of milliseconds: if the password changed, or the account was deleted
    # or suspended meanwhile, this login must not create a session that outlives that. The row stays
    # share-locked until commit, so neither can happen until the session exists.
    held = await users_service.hold_credentials(
        session, user_id=user.id, hashed_password=user.hashed_password, for_update=new_hash is not None
    )
    if held == "suspended":
        raise AccountSuspended()
    if held == "changed":
        raise InvalidCredentials()
    if new_hash is not None:  # stored with weaker parameters than we use now
        await users_service.set_password_hash(session, user_id=user.id, hashed_password=new_hash)
    return user.id


async def refresh(session: AsyncSession, tokens: TokenIssuer, *, refresh_token: str) -> IssuedTokens:
    token_hash = hash_refresh_token(refresh_token)
    login_session = await repository.lock_session_of(session, token_hash)
    if login_session is None:
        raise InvalidToken("The refresh token is not valid.")
    if not await repository.claim_token(session, token_hash):
        # A rotated token came back: it was stolen, or the client is broken. End the session,
        # and commit that although the request fails (the request's rollback would undo it).
        await repository.delete_session(session, login_session.id)
        await session.commit()
        raise InvalidToken("The refresh token was already used; the session has been ended.")
    if login_session.expires_at <= datetime.now(UTC):
        raise InvalidToken("The session has expired.")
    new_token, new_hash = new_refresh_token()
    await repository.add_token(session, session_id=login_session.id, token_hash=new_hash)
    return IssuedTokens(
        access_token=tokens.issue(user_id=login_session.user_id, session_id=login_session.id),
        refresh_token=new_token,
        expires_in=int(tokens.access_ttl.total_seconds()),
    )


async def authenticate(session: AsyncSession, claims: AccessClaims) -> None:
    """Accept a validly signed access token only while its login session is alive."""
    if not await session_alive(session, user_id=claims.user_id, session_id=claims.session_id):
        raise InvalidToken()


async def session_alive(session: AsyncSession, *, user_id: int, session_id: int) -> bool:
    """Whether an access token of this session is still honoured (for long-lived streams)."""
    return await repository.session_alive(session, session_id=session_id, user_id=user_id)


async def logout(session: AsyncSession, *, session_id: int) -> None:
    await repository.delete_session(session, session_id)


async def end_sessions(session: AsyncSession, *, user_id: int) -> None:
    """End every login of the user (native, third-party apps', the web client's): their tokens
    stop working at once."""
    await repository.delete_sessions_of(session, user_id)


async def change_password(
    session: AsyncSession,
    passwords: Passwords,
    limits: Limits,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
) -> None:
    user = await _account(session, user_id)
    await _check_password(passwords, limits, user, current_password)
    hashed = await passwords.hash(new_password)
    await users_service.set_password_hash(session, user_id=user.id, hashed_password=hashed)
    # Every session ends, this one too: old access and refresh tokens stop working at once.
    await repository.delete_sessions_of(session, user.id)


DELETION_ATTEMPTS = 3


async def delete_account(
    session: AsyncSession, passwords: Passwords, limits: Limits, *, user_id: int, password: str
) -> None:
    await _check_password(passwords, limits, await _account(session, user_id), password)
    # Deletion locks many rows (see the lock order in ARCHITECTURE.md). Should PostgreSQL still
    # pick it as a deadlock victim, it is all undone and simply run again.
    for attempt in range(1, DELETION_ATTEMPTS + 1):
        try:
            # The account row is locked first: from here on no like, comment or follow by or of
            # this user can start, so every counter fixed below stays fixed.
            await users_service.lock(session, user_id=user_id)
            await interactions_service.uncount_user(session, user_id=user_id)
            # Follows, posts, likes, comments and sessions go with the row (ON DELETE CASCADE).
            await users_service.delete_user(session, user_id=user_id)
            return
        except DBAPIError as error:
            if not isinstance(error.orig, DeadlockDetected) or attempt == DELETION_ATTEMPTS:
                raise
            await session.rollback()


async def _account(session: AsyncSession, user_id: int) -> UserAccount:
    """The signed-in user's account (gone only if deleted since the token was checked)."""
    user = await users_service.get(session, user_id=user_id)
    if user is None:
        raise InvalidToken()
    return user


async def _check_password(passwords: Passwords, limits: Limits, user: UserAccount, password: str) -> None:
    # A stolen access token must not become a way to guess the password either.
    account = _account_key(user.id)
    await limits.password_attempt(account)
    valid, _ = await passwords.verify(password, user.hashed_password)
    if not valid:
        raise WrongPassword()
    await limits.password_correct(account)


def _account_key(user_id: int) -> str:
    return f"user:{user_id}"


def _login_key(login: str) -> str:
    # Lowercased as accounts are looked up; hashed, so any text (however long or odd) makes a short key.
    return "login:" + hashlib.sha256(login.lower().encode("utf-8", "surrogatepass")).hexdigest()


async def start_app_session(session: AsyncSession, *, user_id: int, lifetime: timedelta) -> int:
    """A login session for a third-party app's token. It has no native refresh token: what
    may be done in it is the app's scopes, never a native token's full access."""
    expires_at = datetime.now(UTC) + lifetime
    return await repository.create_session(session, user_id=user_id, expires_at=expires_at, token_hash=None)


async def _start_session(session: AsyncSession, tokens: TokenIssuer, *, user_id: int) -> IssuedTokens:
    refresh_token, token_hash = new_refresh_token()
    expires_at = datetime.now(UTC) + tokens.refresh_ttl
    session_id = await repository.create_session(session, user_id=user_id, expires_at=expires_at, token_hash=token_hash)
    return IssuedTokens(
        access_token=tokens.issue(user_id=user_id, session_id=session_id),
        refresh_token=refresh_token,
        expires_in=int(tokens.access_ttl.total_seconds()),
    )


async def purge_expired_sessions(session: AsyncSession, *, batch: int = 10_000) -> int:
    """Remove login sessions past their expiry (no token of theirs is accepted any more)."""
    return await repository.delete_expired_sessions(session, limit=batch)
