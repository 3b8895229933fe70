"""Access tokens checked once are remembered; their expiry is still checked at every use."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from townsquare.auth import tokens as tokens_module
from townsquare.auth.tokens import LEEWAY, InvalidAccessToken, TokenIssuer
from townsquare.config import AuthSettings

SECRET = secrets.token_urlsafe(48)


class _Clock(datetime):
    now_value = datetime.now(UTC)

    @classmethod
    def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
        return cls.now_value


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = TokenIssuer(AuthSettings(access_token_ttl_seconds=60), SECRET)
    issued_at = datetime.now(UTC).replace(microsecond=0)
    token = issuer.issue(user_id=7, session_id=9, now=issued_at)
    first = issuer.decode(token)
    assert (first.user_id, first.session_id) == (7, 9)
    monkeypatch.setattr(tokens_module, "datetime", _Clock)
    _Clock.now_value = issued_at + timedelta(seconds=60) + LEEWAY - timedelta(microseconds=1)
    assert issuer.decode(token) == first  # from memory, within the leeway
    _Clock.now_value = issued_at + timedelta(seconds=60) + LEEWAY
    with pytest.raises(InvalidAccessToken):
        issuer.decode(token)
    with pytest.raises(InvalidAccessToken):  # forgotten: PyJWT says no again
        issuer.decode(token)


def test_bad_tokens_are_never_remembered() -> None:
    issuer = TokenIssuer(AuthSettings(), SECRET)
    other = TokenIssuer(AuthSettings(), SECRET[::-1])
    forged = other.issue(user_id=7, session_id=9)
    for _ in range(2):
        with pytest.raises(InvalidAccessToken):
            issuer.decode(forged)
    good = issuer.issue(user_id=7, session_id=9)
    assert issuer.decode(good).user_id == 7
    with pytest.raises(InvalidAccessToken):  # one character of the signature changed
        issuer.decode(good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1])


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "VERIFIED_TOKENS", 3)
    issuer = TokenIssuer(AuthSettings(), SECRET)
    minted = [issuer.issue(user_id=n, session_id=n) for n in range(1, 6)]
    assert [issuer.decode(token).user_id for token in minted] == [1, 2, 3, 4, 5]
    assert len(issuer._verified) == 3  # the oldest went
    assert [issuer.decode(token).user_id for token in minted] == [1, 2, 3, 4, 5]
