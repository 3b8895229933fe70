from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient

from tests.fixtures.accounts import PASSWORD, register


async def test_register_returns_the_private_profile(client: AsyncClient) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "Alice@Example.com", "username": "Alice_1", "password": PASSWORD, "bio": "  hello  "},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "Alice_1"
    assert body["email"] == "Alice@example.com"  # the domain is normalised, the local part kept
    assert body["bio"] == "hello"
    assert body["id"].isdigit()
    assert body["followers_count"] == body["following_count"] == body["posts_count"] == 0
    assert body["created_at"].endswith("Z")
    assert "hashed_password" not in body
    assert PASSWORD not in response.text


async def test_ids_are_time_sortable_strings(client: AsyncClient) -> None:
    first = await register(client)
    second = await register(client)
    assert isinstance(first["id"], str)
    assert int(str(second["id"])) > int(str(first["id"]))


@pytest.mark.parametrize(
    ("field", "taken"),
    [("username", {"username": "BOB"}), ("email", {"email": "BOB@EXAMPLE.COM"})],
)
async def test_username_and_email_are_unique_case_insensitively(
    client: AsyncClient, field: str, taken: dict[str, str]
) -> None:
    await register(client, "bob")
    body = {"email": "other@example.com", "username": "other", "password": PASSWORD, **taken}
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 409
    assert response.json()["type"].endswith(f"{field}-taken")


async def test_concurrent_registrations_of_one_name_create_one_account(client: AsyncClient) -> None:
    bodies = [{"email": f"racer{i}@example.com", "username": "Racer", "password": PASSWORD} for i in range(8)]
    responses = await asyncio.gather(*(client.post("/auth/register", json=body) for body in bodies))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com", "username": "ab", "password": PASSWORD},  # username too short
        {"email": "a@example.com", "username": "a" * 31, "password": PASSWORD},  # too long
        {"email": "a@example.com", "username": "bad-name", "password": PASSWORD},  # bad character
        {"email": "a@example.com", "username": "ünïcode", "password": PASSWORD},
        {"email": "a@example.com", "username": "okname", "password": "short"},  # password < 8
        {"email": "a@example.com", "username": "okname", "password": "x" * 129},  # password > 128
        {"email": "not an email", "username": "okname", "password": PASSWORD},
        {"email": "a@example.com", "username": "okname", "password": PASSWORD, "bio": "b" * 301},
        {"email": "a@example.com", "username": "okname"},  # missing password
        {"email": "a@example.com", "username": "okname", "password": PASSWORD, "is_admin": True},  # unknown
        {"email": "a@example.com", "username": "okname", "password": PASSWORD, "followers_count": 10**6},
        {"email": "a@example.com", "username": 12345, "password": PASSWORD},
    ],
)
async def test_invalid_registrations_are_422(client: AsyncClient, body: dict[str, object]) -> None:
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    # Nothing was created.
    assert (await client.post("/auth/login", data={"username": "okname", "password": PASSWORD})).status_code == 401
