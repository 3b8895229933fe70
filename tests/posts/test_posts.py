from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import make_account
from tests.fixtures.content import all_pages, post
from tests.fixtures.queries import count_statements
from townsquare.kit.pagination import Page
from townsquare.posts.schemas import PostView

POST_FIELDS = {"id", "author", "content", "created_at", "updated_at", "like_count", "comment_count"}


async def test_create_post_trims_and_counts(client: AsyncClient) -> None:
    alice = await make_account(client)
    body = await post(client, alice, "  hello  \n")
    assert body.keys() == POST_FIELDS | {"liked_by_me"}
    assert body["content"] == "hello"
    assert body["author"] == {"id": alice.id, "username": alice.username}
    assert body["like_count"] == body["comment_count"] == 0
    assert body["liked_by_me"] is False
    assert body["created_at"] == body["updated_at"]
    assert (await client.get(f"/users/{alice.id}")).json()["posts_count"] == 1


@pytest.mark.parametrize("content", ["", "   ", "\n\t", "x" * 501, None, 5])
async def test_invalid_content_is_422(client: AsyncClient, content: object) -> None:
    alice = await make_account(client)
    response = await client.post("/posts", headers=alice.headers, json={"content": content})
    assert response.status_code == 422
    assert (await client.get(f"/users/{alice.id}")).json()["posts_count"] == 0


async def test_content_limit_counts_characters_not_bytes(client: AsyncClient) -> None:
    alice = await make_account(client)
    body = await post(client, alice, "é" * 499 + "🙂")
    assert len(body["content"]) == 500


async def test_create_needs_a_token_and_forbids_unknown_fields(client: AsyncClient) -> None:
    alice = await make_account(client)
    assert (await client.post("/posts", json={"content": "hi"})).status_code == 401
    response = await client.post("/posts", headers=alice.headers, json={"content": "hi", "like_count": 99})
    assert response.status_code == 422


async def test_get_post_anonymous_and_with_token(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    created = await post(client, alice)
    anonymous = (await client.get(f"/posts/{created['id']}")).json()
    assert anonymous.keys() == POST_FIELDS
    await client.post(f"/posts/{created['id']}/likes", headers=bob.headers)
    seen_by_bob = (await client.get(f"/posts/{created['id']}", headers=bob.headers)).json()
    assert seen_by_bob["liked_by_me"] is True
    assert seen_by_bob["like_count"] == 1


@pytest.mark.parametrize("post_id", ["1", "abc", "99999999999999999999", "-5"])
async def test_unknown_post_is_404(client: AsyncClient, post_id: str) -> None:
    alice = await make_account(client)
    assert (await client.get(f"/posts/{post_id}")).status_code == 404
    assert (await client.put(f"/posts/{post_id}", headers=alice.headers, json={"content": "x"})).status_code == 404
    assert (await client.delete(f"/posts/{post_id}", headers=alice.headers)).status_code == 404


async def test_author_edits_and_updated_at_moves(client: AsyncClient) -> None:
    alice = await make_account(client)
    created = await post(client, alice, "first")
    await asyncio.sleep(0.01)
    response = await client.put(f"/posts/{created['id']}", headers=alice.headers, json={"content": " second "})
    assert response.status_code == 200
    edited = response.json()
    assert edited["content"] == "second"
    assert edited["created_at"] == created["created_at"]
    assert edited["updated_at"] > created["updated_at"]


async def test_others_cannot_edit_or_delete(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    created = await post(client, alice, "mine")
    path = f"/posts/{created['id']}"
    assert (await client.put(path, headers=bob.headers, json={"content": "hacked"})).status_code == 403
    assert (await client.delete(path, headers=bob.headers)).status_code == 403
    assert (await client.put(path, json={"content": "hacked"})).status_code == 401
    assert (await client.get(path)).json()["content"] == "mine"


async def test_delete_post_takes_likes_and_comments_with_it(client: AsyncClient, app: FastAPI) -> None:
    alice, bob = await make_account(client), await make_account(client)
    created = await post(client, alice)
    path = f"/posts/{created['id']}"
    await client.post(f"{path}/likes", headers=bob.headers)
    await client.post(f"{path}/comments", headers=bob.headers, json={"content": "nice"})
    assert (await client.delete(path, headers=alice.headers)).status_code == 204
    assert (await client.get(path)).status_code == 404
    assert (await client.get(f"{path}/comments")).status_code == 404
    assert (await client.get(f"{path}/likes")).status_code == 404
    assert (await client.delete(path, headers=alice.headers)).status_code == 404
    assert (await client.get(f"/users/{alice.id}")).json()["posts_count"] == 0
    async with app.state.database.engine.connect() as connection:
        left = await connection.execute(
            text("SELECT (SELECT count(*) FROM post_like) + (SELECT count(*) FROM comment)")
        )
        assert left.scalar_one() == 0


async def test_user_posts_newest_first_paginated(client: AsyncClient) -> None:
    alice = await make_account(client)
    ids = [(await post(client, alice, f"post {i}"))["id"] for i in range(7)]
    assert await all_pages(client, f"/users/{alice.id}/posts", limit=3) == list(reversed(ids))
    mine = await all_pages(client, "/users/me/posts", limit=100, headers=alice.headers)
    assert mine == list(reversed(ids))


async def test_user_posts_of_unknown_user_is_404_and_empty_is_empty(client: AsyncClient) -> None:
    alice = await make_account(client)
    assert (await client.get("/users/12345/posts")).status_code == 404
    assert (await client.get(f"/users/{alice.id}/posts")).json() == {"items": [], "next_cursor": None}


async def test_user_posts_page_costs_the_same_statements_at_any_size(client: AsyncClient, app: FastAPI) -> None:
    alice, bob = await make_account(client), await make_account(client)
    for i in range(30):
        await post(client, alice, f"post {i}")
    counts = []
    for limit in (1, 10, 30):
        with count_statements(app.state.database) as statements:
            response = await client.get(f"/users/{alice.id}/posts", params={"limit": limit}, headers=bob.headers)
        assert len(response.json()["items"]) == limit
        counts.append(len(statements))
    assert counts == [1, 1, 1]  # the page, which checks the token's session itself (auth.gate)


async def test_post_and_user_posts_answers_are_exactly_their_models(client: AsyncClient) -> None:
    # These pages write their JSON themselves (no model is built): byte for byte what their
    # response models serialize to; `liked_by_me` only for a request with a token.
    alice, bob = await make_account(client), await make_account(client)
    created = await post(client, alice, "zürich\t🙂")
    await client.post(f"/posts/{created['id']}/likes", headers=bob.headers)
    await post(client, alice, "second")
    unflagged = {key: value for key, value in created.items() if key != "liked_by_me"} | {"like_count": 1}
    for headers, flag in [({}, {}), (bob.headers, {"liked_by_me": True}), (alice.headers, {"liked_by_me": False})]:
        single = await client.get(f"/posts/{created['id']}", headers=headers)
        assert single.headers["content-type"] == "application/json"
        assert single.content == PostView.model_validate_json(single.content).model_dump_json().encode()
        assert single.json() == unflagged | flag
        page = await client.get(f"/users/{alice.id}/posts", params={"limit": 1}, headers=headers)
        assert page.content == Page[PostView].model_validate_json(page.content).model_dump_json().encode()
        rest = await client.get(
            f"/users/{alice.id}/posts", params={"cursor": page.json()["next_cursor"]}, headers=headers
        )
        assert rest.json() == {"items": [unflagged | flag], "next_cursor": None}
