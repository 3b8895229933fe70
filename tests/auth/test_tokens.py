"""Access tokens: what the server accepts, and how sessions end."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import PASSWORD, Account, make_account
from townsquare.config import Settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(account: Account) -> dict[str, object]:
    payload: dict[str, object] = jwt.decode(account.access_token, options={"verify_signature": False})
    return payload


def sign(settings: Settings, claims: dict[str, object], *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.jwt_secret(), algorithm=algorithm)


async def assert_rejected(client: AsyncClient, token: str) -> None:
    response = await client.get("/users/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_token_carries_the_required_claims(client: AsyncClient) -> None:
    account = await make_account(client)
    claims = claims_of(account)
    assert {"exp", "iat", "nbf", "iss", "aud", "sub", "jti", "sid"} <= claims.keys()
    assert claims["sub"] == account.id
    assert int(str(claims["exp"])) - int(str(claims["iat"])) == 15 * 60
    assert jwt.get_unverified_header(account.access_token)["alg"] == "HS256"


async def test_missing_and_malformed_tokens_are_401(client: AsyncClient) -> None:
    response = await client.get("/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    for token in ["garbage", "a.b.c", "", "Bearer"]:
        await assert_rejected(client, token)
    basic = await client.get("/users/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


async def test_forged_signature_is_rejected(client: AsyncClient, settings: Settings) -> None:
    account = await make_account(client)
    await assert_rejected(client, sign(settings, claims_of(account), key="another-secret-of-sufficient-length-123456"))


async def test_alg_none_is_rejected(client: AsyncClient) -> None:
    account = await make_account(client)

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_of(account))}."
    await assert_rejected(client, unsigned)


async def test_other_algorithm_is_rejected(client: AsyncClient, settings: Settings) -> None:
    account = await make_account(client)
    await assert_rejected(client, sign(settings, claims_of(account), algorithm="HS512"))


async def test_expired_token_is_rejected(client: AsyncClient, settings: Settings) -> None:
    account = await make_account(client)
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = {**claims_of(account), "iat": past, "nbf": past, "exp": past + timedelta(minutes=15)}
    await assert_rejected(client, sign(settings, claims))


async def test_not_yet_valid_token_is_rejected(client: AsyncClient, settings: Settings) -> None:
    account = await make_account(client)
    future = datetime.now(UTC) + timedelta(hours=1)
    await assert_rejected(client, sign(settings, {**claims_of(account), "nbf": future}))


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"sub": "not-a-number"},
        {"sub": "99999999999999999999999"},
        {"sid": "1"},
    ],
)
async def test_wrong_claims_are_rejected(client: AsyncClient, settings: Settings, change: dict[str, str]) -> None:
    account = await make_account(client)
    await assert_rejected(client, sign(settings, {**claims_of(account), **change}))


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "sid"])
async def test_every_claim_is_required(client: AsyncClient, settings: Settings, claim: str) -> None:
    account = await make_account(client)
    claims = claims_of(account)
    del claims[claim]
    await assert_rejected(client, sign(settings, claims))


async def test_token_of_another_user_in_a_valid_session_is_rejected(client: AsyncClient, settings: Settings) -> None:
    alice, bob = await make_account(client), await make_account(client)
    # Correctly signed, but alice's session does not belong to bob.
    await assert_rejected(client, sign(settings, {**claims_of(alice), "sub": bob.id}))


async def test_refresh_rotates_the_token(client: AsyncClient) -> None:
    account = await make_account(client)
    response = await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})
    assert response.status_code == 200
    pair = response.json()
    assert pair["refresh_token"] != account.refresh_token
    assert (await client.get("/users/me", headers=bearer(pair["access_token"]))).status_code == 200
    # The next refresh works with the new token.
    again = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


async def test_reusing_a_rotated_refresh_token_ends_the_session(client: AsyncClient) -> None:
    account = await make_account(client)
    first = (await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})).json()

    reuse = await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})
    assert reuse.status_code == 401
    # The whole session is gone: the current refresh token and access tokens of it too.
    assert (await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})).status_code == 401
    assert (await client.get("/users/me", headers=bearer(first["access_token"]))).status_code == 401
    assert (await client.get("/users/me", headers=account.headers)).status_code == 401


async def test_reuse_ends_only_that_session(client: AsyncClient) -> None:
    account = await make_account(client)
    other = (await client.post("/auth/login", data={"username": account.username, "password": PASSWORD})).json()
    await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})
    await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})  # reuse
    assert (await client.get("/users/me", headers=bearer(other["access_token"]))).status_code == 200


@pytest.mark.parametrize(("token", "status"), [("", 422), ("unknown-token", 401), ("x" * 201, 422), ("a\x00b", 422)])
async def test_bad_refresh_tokens(client: AsyncClient, token: str, status: int) -> None:
    response = await client.post("/auth/refresh", json={"refresh_token": token})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_expired_session_cannot_refresh(client: AsyncClient, app: FastAPI) -> None:
    account = await make_account(client)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text("UPDATE refresh_session SET expires_at = now() - interval '1 second'"))
    assert (await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})).status_code == 401
    assert (await client.get("/users/me", headers=account.headers)).status_code == 401


async def test_logout_ends_the_session_at_once(client: AsyncClient) -> None:
    account = await make_account(client)
    other = (await client.post("/auth/login", data={"username": account.username, "password": PASSWORD})).json()
    assert (await client.post("/auth/logout", headers=account.headers)).status_code == 204
    assert (await client.get("/users/me", headers=account.headers)).status_code == 401
    assert (await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})).status_code == 401
    # Another device's session lives on.
    assert (await client.get("/users/me", headers=bearer(other["access_token"]))).status_code == 200
    assert (await client.post("/auth/logout")).status_code == 401


async def test_password_change_ends_every_session(client: AsyncClient) -> None:
    account = await make_account(client)
    other = (await client.post("/auth/login", data={"username": account.username, "password": PASSWORD})).json()
    response = await client.post(
        "/auth/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
    )
    assert response.status_code == 204
    for token in (account.access_token, other["access_token"]):
        assert (await client.get("/users/me", headers=bearer(token))).status_code == 401
    for token in (account.refresh_token, other["refresh_token"]):
        assert (await client.post("/auth/refresh", json={"refresh_token": token})).status_code == 401
    old = await client.post("/auth/login", data={"username": account.username, "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/auth/login", data={"username": account.username, "password": "a brand new secret"})
    assert new.status_code == 200


async def test_password_change_with_wrong_current_password_is_403(client: AsyncClient) -> None:
    account = await make_account(client)
    response = await client.post(
        "/auth/password",
        headers=account.headers,
        json={"current_password": "not my password", "new_password": "a brand new secret"},
    )
    assert response.status_code == 403
    assert (await client.get("/users/me", headers=account.headers)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"current_password": PASSWORD, "new_password": "short"},
        {"current_password": PASSWORD},
        {"current_password": PASSWORD, "new_password": "a brand new secret", "user_id": "1"},
    ],
)
async def test_password_change_validation(client: AsyncClient, body: dict[str, str]) -> None:
    account = await make_account(client)
    response = await client.post("/auth/password", headers=account.headers, json=body)
    assert response.status_code == 422


async def test_access_token_expires_after_its_lifetime(client: AsyncClient, settings: Settings) -> None:
    account = await make_account(client)
    now = int(time.time())
    claims = {**claims_of(account), "iat": now - 900, "nbf": now - 900, "exp": now - 11}  # past the 10 s leeway
    await assert_rejected(client, sign(settings, claims))
