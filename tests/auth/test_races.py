"""Credentials under concurrency: the races a client (or an attacker) can start."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient

from tests.fixtures.accounts import PASSWORD, make_account


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_one_refresh_token_sent_in_parallel_cannot_split_the_session(client: AsyncClient) -> None:
    account = await make_account(client)
    body = {"refresh_token": account.refresh_token}
    responses = await asyncio.gather(*(client.post("/auth/refresh", json=body) for _ in range(6)))
    assert [r.status_code for r in responses].count(200) <= 1
    assert {r.status_code for r in responses} <= {200, 401}
    # Whoever won, the replays ended the session: no token handed out here still works.
    for response in responses:
        if response.status_code == 200:
            pair = response.json()
            assert (await client.get("/users/me", headers=bearer(pair["access_token"]))).status_code == 401
            assert (
                await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
            ).status_code == 401


async def test_no_login_with_the_old_password_outlives_a_password_change(client: AsyncClient) -> None:
    account = await make_account(client)
    logins = [client.post("/auth/login", data={"username": account.username, "password": PASSWORD}) for _ in range(6)]
    change = client.post(
        "/auth/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": "the new password"},
    )
    *login_responses, change_response = await asyncio.gather(*logins, change)
    assert change_response.status_code == 204
    assert {r.status_code for r in login_responses} <= {200, 401}
    for response in login_responses:
        if response.status_code == 200:
            assert (await client.get("/users/me", headers=bearer(response.json()["access_token"]))).status_code == 401


async def test_logins_racing_account_deletion_never_fail_with_500(client: AsyncClient) -> None:
    account = await make_account(client)
    logins = [client.post("/auth/login", data={"username": account.username, "password": PASSWORD}) for _ in range(6)]
    deletion = client.request("DELETE", "/users/me", headers=account.headers, json={"password": PASSWORD})
    *login_responses, deleted = await asyncio.gather(*logins, deletion)
    assert deleted.status_code == 204
    assert {r.status_code for r in login_responses} <= {200, 401}
    for response in login_responses:
        if response.status_code == 200:
            assert (await client.get("/users/me", headers=bearer(response.json()["access_token"]))).status_code == 401
