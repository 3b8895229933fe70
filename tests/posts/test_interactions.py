from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.content import all_pages, post
from tests.fixtures.counters import assert_post_counters_match_rows


async def test_like_and_unlike_are_idempotent(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    path = f"/posts/{(await post(client, alice))['id']}/likes"
    for _ in range(3):
        response = await client.post(path, headers=bob.headers)
        assert response.status_code == 200
        assert response.json()["like_count"] == 1
        assert response.json()["liked"] is True
    for _ in range(2):
        response = await client.delete(path, headers=bob.headers)
        assert response.status_code == 200
        assert response.json()["like_count"] == 0
        assert response.json()["liked"] is False


async def test_likes_need_a_token_and_an_existing_post(client: AsyncClient) -> None:
    alice = await make_account(client)
    created = await post(client, alice)
    assert (await client.post(f"/posts/{created['id']}/likes")).status_code == 401
    assert (await client.post("/posts/42/likes", headers=alice.headers)).status_code == 404
    assert (await client.delete("/posts/42/likes", headers=alice.headers)).status_code == 404
    assert (await client.get("/posts/42/likes")).status_code == 404


async def test_likers_newest_first(client: AsyncClient) -> None:
    alice = await make_account(client)
    fans = [await make_account(client) for _ in range(4)]
    path = f"/posts/{(await post(client, alice))['id']}/likes"
    for fan in fans:
        await client.post(path, headers=fan.headers)
    assert await all_pages(client, path, limit=3) == [fan.id for fan in reversed(fans)]


async def test_many_users_liking_at_once_count_exactly(client: AsyncClient, app: FastAPI) -> None:
    alice = await make_account(client)
    fans = [await make_account(client) for _ in range(10)]
    path = f"/posts/{(await post(client, alice))['id']}/likes"
    # Each fan likes from five parallel requests: ten likes, not fifty.
    responses = await asyncio.gather(*(client.post(path, headers=fan.headers) for fan in fans for _ in range(5)))
    assert {r.status_code for r in responses} == {200}
    assert (await client.get(path.removesuffix("/likes"))).json()["like_count"] == 10
    await assert_post_counters_match_rows(app)


async def test_comments_oldest_first_and_counted(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    path = f"/posts/{(await post(client, alice))['id']}"
    created = []
    for i in range(5):
        response = await client.post(f"{path}/comments", headers=bob.headers, json={"content": f"  comment {i} "})
        assert response.status_code == 201
        created.append(response.json())
    assert created[0]["content"] == "comment 0"
    assert created[0].keys() == {"id", "post_id", "author", "content", "created_at"}
    assert created[0]["author"] == {"id": bob.id, "username": bob.username}
    assert await all_pages(client, f"{path}/comments", limit=2) == [c["id"] for c in created]
    assert (await client.get(path)).json()["comment_count"] == 5


@pytest.mark.parametrize("content", ["", "  ", "x" * 301])
async def test_invalid_comment_is_422(client: AsyncClient, content: str) -> None:
    alice = await make_account(client)
    path = f"/posts/{(await post(client, alice))['id']}"
    response = await client.post(f"{path}/comments", headers=alice.headers, json={"content": content})
    assert response.status_code == 422
    assert (await client.get(path)).json()["comment_count"] == 0


async def test_comment_on_unknown_post_is_404(client: AsyncClient) -> None:
    alice = await make_account(client)
    response = await client.post("/posts/77/comments", headers=alice.headers, json={"content": "hi"})
    assert response.status_code == 404
    assert (await client.get("/posts/77/comments")).status_code == 404


async def test_who_may_delete_a_comment(client: AsyncClient) -> None:
    author, commenter, stranger = [await make_account(client) for _ in range(3)]
    path = f"/posts/{(await post(client, author))['id']}"

    async def comment() -> str:
        response = await client.post(f"{path}/comments", headers=commenter.headers, json={"content": "hi"})
        return str(response.json()["id"])

    first, second = await comment(), await comment()
    assert (await client.delete(f"/comments/{first}", headers=stranger.headers)).status_code == 403
    assert (await client.delete(f"/comments/{first}")).status_code == 401
    assert (await client.delete(f"/comments/{first}", headers=commenter.headers)).status_code == 204
    assert (await client.delete(f"/comments/{second}", headers=author.headers)).status_code == 204
    assert (await client.delete(f"/comments/{second}", headers=author.headers)).status_code == 404
    assert (await client.delete("/comments/nope", headers=author.headers)).status_code == 404
    assert (await client.get(path)).json()["comment_count"] == 0


async def test_counter_storm_keeps_every_counter_exact(client: AsyncClient, app: FastAPI) -> None:
    """Likes, unlikes, comments and comment deletions from many clients at once."""
    authors = [await make_account(client) for _ in range(3)]
    crowd = [await make_account(client) for _ in range(10)]
    posts = [(await post(client, author))["id"] for author in authors for _ in range(2)]

    async def comment_and_maybe_delete(user_index: int, post_id: str) -> None:
        user = crowd[user_index]
        response = await client.post(f"/posts/{post_id}/comments", headers=user.headers, json={"content": "hey"})
        assert response.status_code == 201
        if user_index % 2:
            deleted = await client.delete(f"/comments/{response.json()['id']}", headers=user.headers)
            assert deleted.status_code == 204

    work: list[Coroutine[Any, Any, object]] = []
    for i, user in enumerate(crowd):
        for j, post_id in enumerate(posts):
            likes = f"/posts/{post_id}/likes"
            work += [client.post(likes, headers=user.headers), client.post(likes, headers=user.headers)]
            if (i + j) % 3 == 0:
                work.append(client.delete(likes, headers=user.headers))
            work.append(comment_and_maybe_delete(i, post_id))
    results = await asyncio.gather(*work)
    assert all(getattr(r, "status_code", 200) == 200 for r in results)
    await assert_post_counters_match_rows(app)
