from __future__ import annotations

import statistics
import time

import pytest
from httpx import AsyncClient

from tests.fixtures.accounts import PASSWORD, register


async def test_login_by_username_or_email_any_case(client: AsyncClient) -> None:
    await register(client, "carol")
    for login in ["carol", "CAROL", "carol@example.com", "Carol@EXAMPLE.com"]:
        response = await client.post("/auth/login", data={"username": login, "password": PASSWORD})
        assert response.status_code == 200, login
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 15 * 60
        assert body["access_token"]
        assert body["refresh_token"]
        me = await client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["username"] == "carol"


@pytest.mark.parametrize(
    ("login", "password"),
    [("dave", "wrong password"), ("nobody", PASSWORD), ("nobody@example.com", PASSWORD), ("dave", "x" * 500)],
)
async def test_bad_credentials_get_one_uniform_answer(client: AsyncClient, login: str, password: str) -> None:
    await register(client, "dave")
    response = await client.post("/auth/login", data={"username": login, "password": password})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "Incorrect username, email or password."


async def test_login_needs_the_form_fields(client: AsyncClient) -> None:
    response = await client.post("/auth/login", json={"username": "x", "password": "y"})
    assert response.status_code == 422


async def test_unknown_account_and_wrong_password_take_about_the_same_time(client: AsyncClient) -> None:
    """Both paths run one argon2 verification, so timing does not reveal which accounts exist."""
    await register(client, "erin")

    async def median_seconds(login: str) -> float:
        samples = []
        for _ in range(7):
            start = time.perf_counter()
            response = await client.post("/auth/login", data={"username": login, "password": "wrong password"})
            samples.append(time.perf_counter() - start)
            assert response.status_code == 401
        return statistics.median(samples)

    known, unknown = await median_seconds("erin"), await median_seconds("nobody-at-all")
    # A skipped hash would make the unknown case several times faster; allow generous noise.
    assert 0.5 < unknown / known < 2.0
