from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.fixtures.accounts import make_account

PUBLIC_FIELDS = {"id", "username", "bio", "created_at", "followers_count", "following_count", "posts_count"}


async def test_public_profile_without_token(client: AsyncClient) -> None:
    alice = await make_account(client, bio="I like trains")
    response = await client.get(f"/users/{alice.id}")
    assert response.status_code == 200
    body = response.json()
    assert body.keys() == PUBLIC_FIELDS
    assert body["bio"] == "I like trains"


async def test_public_profile_with_token_says_whether_i_follow(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    body = (await client.get(f"/users/{alice.id}", headers=bob.headers)).json()
    assert body.keys() == PUBLIC_FIELDS | {"followed_by_me"}
    assert body["followed_by_me"] is False
    assert "email" not in body
    await client.post(f"/users/{alice.id}/follow", headers=bob.headers)
    assert (await client.get(f"/users/{alice.id}", headers=bob.headers)).json()["followed_by_me"] is True


async def test_me_is_the_private_view(client: AsyncClient) -> None:
    alice = await make_account(client)
    for path in ["/users/me", f"/users/{alice.id}"]:
        body = (await client.get(path, headers=alice.headers)).json()
        assert body["email"] == alice.email
        assert body["id"] == alice.id
        assert body["followed_by_me"] is False
        assert body.keys() == PUBLIC_FIELDS | {"email", "followed_by_me"}


async def test_me_without_token_is_401(client: AsyncClient) -> None:
    response = await client.get("/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("user_id", ["0", "123456789", "abc", "-1", "1.5", "99999999999999999999", "١٢٣"])
async def test_unknown_or_invalid_ids_are_404(client: AsyncClient, user_id: str) -> None:
    response = await client.get(f"/users/{user_id}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_update_own_profile(client: AsyncClient) -> None:
    alice = await make_account(client)
    response = await client.put("/users/me", headers=alice.headers, json={"bio": "new bio"})
    assert response.status_code == 200
    body = response.json()
    assert body["bio"] == "new bio"
    assert body["username"] == alice.username  # omitted: unchanged
    assert body["email"] == alice.email
    renamed = await client.put(f"/users/{alice.id}", headers=alice.headers, json={"username": "Alice_Renamed"})
    assert renamed.json()["username"] == "Alice_Renamed"
    assert renamed.json()["bio"] == "new bio"
    # Login works with the new name.
    login = await client.post("/auth/login", data={"username": "alice_renamed", "password": alice.password})
    assert login.status_code == 200


async def test_update_can_clear_the_bio_and_keeps_case_of_own_name(client: AsyncClient) -> None:
    alice = await make_account(client, "mixedcase", bio="something")
    assert (await client.put("/users/me", headers=alice.headers, json={"bio": ""})).json()["bio"] == ""
    # Changing only the case of your own username is not a conflict with yourself.
    response = await client.put("/users/me", headers=alice.headers, json={"username": "MixedCase"})
    assert response.status_code == 200
    assert response.json()["username"] == "MixedCase"


async def test_update_another_users_profile_is_403(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    response = await client.put(f"/users/{alice.id}", headers=bob.headers, json={"bio": "hacked"})
    assert response.status_code == 403
    assert (await client.get(f"/users/{alice.id}")).json()["bio"] == ""


async def test_update_needs_a_token(client: AsyncClient) -> None:
    alice = await make_account(client)
    assert (await client.put(f"/users/{alice.id}", json={"bio": "x"})).status_code == 401


async def test_update_to_a_taken_username_is_409(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    response = await client.put("/users/me", headers=bob.headers, json={"username": alice.username.upper()})
    assert response.status_code == 409
    assert (await client.get("/users/me", headers=bob.headers)).json()["username"] == bob.username


@pytest.mark.parametrize(
    "body",
    [
        {"email": "new@example.com"},
        {"followers_count": 1000000},
        {"id": "1"},
        {"hashed_password": "x"},
        {"bio": "ok", "posts_count": 5},
        {"username": None},
        {"bio": None},
        {"username": "no spaces"},
        {"bio": "b" * 301},
    ],
)
async def test_mass_assignment_and_invalid_updates_are_422(client: AsyncClient, body: dict[str, object]) -> None:
    alice = await make_account(client)
    before = (await client.get("/users/me", headers=alice.headers)).json()
    response = await client.put("/users/me", headers=alice.headers, json=body)
    assert response.status_code == 422
    assert (await client.get("/users/me", headers=alice.headers)).json() == before


async def test_empty_update_changes_nothing_and_exposes_no_internals(client: AsyncClient) -> None:
    alice = await make_account(client)
    before = (await client.get("/users/me", headers=alice.headers)).json()
    body = (await client.put("/users/me", headers=alice.headers, json={})).json()
    assert body == before
    assert body.keys() == PUBLIC_FIELDS | {"email", "followed_by_me"}
