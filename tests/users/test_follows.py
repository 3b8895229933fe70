from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.content import all_pages
from tests.fixtures.counters import assert_counters_match_rows, follow_counts


async def test_follow_returns_the_followed_profile(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    response = await client.post(f"/users/{alice.id}/follow", headers=bob.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == alice.id
    assert body["followed_by_me"] is True
    assert body["followers_count"] == 1
    assert "email" not in body
    assert await follow_counts(client, bob) == (0, 1)


async def test_follow_and_unfollow_are_idempotent(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    for _ in range(3):
        assert (await client.post(f"/users/{alice.id}/follow", headers=bob.headers)).status_code == 200
    assert await follow_counts(client, alice) == (1, 0)
    for _ in range(3):
        assert (await client.delete(f"/users/{alice.id}/follow", headers=bob.headers)).status_code == 204
    assert await follow_counts(client, alice) == (0, 0)
    assert await follow_counts(client, bob) == (0, 0)


async def test_following_yourself_is_422(client: AsyncClient) -> None:
    alice = await make_account(client)
    for path in [f"/users/{alice.id}/follow", "/users/me/follow"]:
        response = await client.post(path, headers=alice.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["path", "user_id"]
    assert await follow_counts(client, alice) == (0, 0)


async def test_follow_unknown_user_is_404(client: AsyncClient) -> None:
    alice = await make_account(client)
    for user_id in ["123", "nope"]:
        assert (await client.post(f"/users/{user_id}/follow", headers=alice.headers)).status_code == 404
    assert await follow_counts(client, alice) == (0, 0)


async def test_follow_needs_a_token(client: AsyncClient) -> None:
    alice = await make_account(client)
    assert (await client.post(f"/users/{alice.id}/follow")).status_code == 401
    assert (await client.delete(f"/users/{alice.id}/follow")).status_code == 401


async def test_follower_and_following_lists_newest_first_with_cursor(client: AsyncClient) -> None:
    star = await make_account(client)
    fans = [await make_account(client) for _ in range(5)]
    for fan in fans:
        await client.post(f"/users/{star.id}/follow", headers=fan.headers)

    seen = await all_pages(client, f"/users/{star.id}/followers", limit=2)
    assert seen == [fan.id for fan in reversed(fans)]

    following = (await client.get(f"/users/{fans[0].id}/following")).json()
    assert following == {"items": [{"id": star.id, "username": star.username}], "next_cursor": None}
    mine = (await client.get("/users/me/following", headers=fans[0].headers)).json()
    assert mine == following


async def test_pages_do_not_repeat_or_skip_when_follows_arrive_between_requests(client: AsyncClient) -> None:
    star = await make_account(client)
    fans = [await make_account(client) for _ in range(4)]
    for fan in fans:
        await client.post(f"/users/{star.id}/follow", headers=fan.headers)
    first = (await client.get(f"/users/{star.id}/followers", params={"limit": 2})).json()
    late = await make_account(client)
    await client.post(f"/users/{star.id}/follow", headers=late.headers)
    second = (
        await client.get(f"/users/{star.id}/followers", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == [fan.id for fan in reversed(fans)]


async def test_list_parameters_are_validated(client: AsyncClient) -> None:
    star = await make_account(client)
    invalid: list[dict[str, str | int]] = [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"cursor": "!!!"},
        {"cursor": "WzFd"[:3]},
        {"cursor": "eyJhIjoxfQ"},
        {"cursor": "WyJ4Il0"},
        {"cursor": "Wy0xXQ"},
    ]
    for params in invalid:
        response = await client.get(f"/users/{star.id}/followers", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/users/123/followers")).status_code == 404


async def test_concurrent_follows_give_exact_counts(client: AsyncClient, app: FastAPI) -> None:
    star = await make_account(client)
    fans = [await make_account(client) for _ in range(12)]

    # Every fan follows the star several times at once, and the star follows every fan back.
    requests = [client.post(f"/users/{star.id}/follow", headers=fan.headers) for fan in fans for _ in range(3)]
    requests += [client.post(f"/users/{fan.id}/follow", headers=star.headers) for fan in fans]
    responses = await asyncio.gather(*requests)
    assert {r.status_code for r in responses} == {200}
    assert await follow_counts(client, star) == (12, 12)
    for fan in fans:
        assert await follow_counts(client, fan) == (1, 1)

    # Half unfollow, many times at once, while the other half follows again.
    requests = [client.delete(f"/users/{star.id}/follow", headers=fan.headers) for fan in fans[:6] for _ in range(3)]
    requests += [client.post(f"/users/{star.id}/follow", headers=fan.headers) for fan in fans[6:]]
    await asyncio.gather(*requests)
    assert await follow_counts(client, star) == (6, 12)
    await assert_counters_match_rows(app)
