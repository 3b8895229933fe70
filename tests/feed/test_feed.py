from __future__ import annotations

import re

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.content import all_pages, follow, post
from tests.fixtures.queries import count_statements
from townsquare.kit.pagination import Page
from townsquare.posts.schemas import PostView

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def test_feed_is_followed_accounts_and_own_posts_newest_first(client: AsyncClient) -> None:
    me, friend, other, stranger = [await make_account(client) for _ in range(4)]
    await follow(client, me, friend)
    await follow(client, me, other)
    expected = []
    for author in [friend, me, stranger, other, friend, stranger, me]:
        created = await post(client, author, f"by {author.username}")
        if author is not stranger:
            expected.append(created["id"])
    feed = (await client.get("/feed", headers=me.headers)).json()
    assert [item["id"] for item in feed["items"]] == list(reversed(expected))
    assert feed["next_cursor"] is None
    assert all("liked_by_me" in item for item in feed["items"])


async def test_feed_needs_a_token(client: AsyncClient) -> None:
    response = await client.get("/feed")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_new_post_is_in_followers_feeds_at_once(client: AsyncClient) -> None:
    author = await make_account(client)
    followers = [await make_account(client) for _ in range(3)]
    for follower in followers:
        await follow(client, follower, author)
    created = await post(client, author, "breaking news")
    for follower in followers:
        first = (await client.get("/feed", headers=follower.headers)).json()["items"][0]
        assert first["id"] == created["id"]


async def test_unfollow_and_delete_remove_posts_at_once(client: AsyncClient) -> None:
    me, friend, other = [await make_account(client) for _ in range(3)]
    await follow(client, me, friend)
    await follow(client, me, other)
    by_friend = await post(client, friend)
    by_other = await post(client, other)
    await client.delete(f"/users/{friend.id}/follow", headers=me.headers)
    ids = [item["id"] for item in (await client.get("/feed", headers=me.headers)).json()["items"]]
    assert ids == [by_other["id"]]
    await client.delete(f"/posts/{by_other['id']}", headers=other.headers)
    assert (await client.get("/feed", headers=me.headers)).json()["items"] == []
    assert by_friend["id"] not in ids


async def test_feed_shows_my_likes_and_current_counts(client: AsyncClient) -> None:
    me, friend = await make_account(client), await make_account(client)
    await follow(client, me, friend)
    liked, unliked = await post(client, friend, "liked"), await post(client, friend, "not liked")
    await client.post(f"/posts/{liked['id']}/likes", headers=me.headers)
    await client.post(f"/posts/{liked['id']}/comments", headers=me.headers, json={"content": "great"})
    items = {item["id"]: item for item in (await client.get("/feed", headers=me.headers)).json()["items"]}
    assert items[liked["id"]]["liked_by_me"] is True
    assert items[liked["id"]]["like_count"] == 1
    assert items[liked["id"]]["comment_count"] == 1
    assert items[unliked["id"]]["liked_by_me"] is False
    assert items[liked["id"]]["author"] == {"id": friend.id, "username": friend.username}


async def test_feed_pages_neither_repeat_nor_skip_when_posts_arrive(client: AsyncClient) -> None:
    me, a, b = [await make_account(client) for _ in range(3)]
    await follow(client, me, a)
    await follow(client, me, b)
    older = [(await post(client, author))["id"] for author in [a, b, a, b, a, b, me]]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/feed", params=params, headers=me.headers)).json()
        seen += [item["id"] for item in page["items"]]
        # New posts between page requests belong to the top of the feed, not to later pages.
        await post(client, a, "arrived late")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(older))


async def test_feed_of_someone_following_nobody_is_their_own_posts(client: AsyncClient) -> None:
    loner = await make_account(client)
    assert (await client.get("/feed", headers=loner.headers)).json() == {"items": [], "next_cursor": None}
    mine = [(await post(client, loner))["id"] for _ in range(3)]
    assert await all_pages(client, "/feed", limit=2, headers=loner.headers) == list(reversed(mine))


async def test_feed_page_costs_the_same_statements_at_any_size(client: AsyncClient, app: FastAPI) -> None:
    me = await make_account(client)
    authors = [await make_account(client) for _ in range(6)]
    for author in authors:
        await follow(client, me, author)
        for _ in range(5):
            await post(client, author)
    counts = []
    for limit in (1, 7, 30):
        with count_statements(app.state.database) as statements:
            response = await client.get("/feed", params={"limit": limit}, headers=me.headers)
        assert len(response.json()["items"]) == limit
        counts.append(len(statements))
    assert counts == [1, 1, 1]  # the feed page, which checks the token's session itself (auth.gate)


async def test_feed_validates_its_parameters(client: AsyncClient) -> None:
    me = await make_account(client)
    invalid: list[dict[str, str | int]] = [{"limit": 0}, {"limit": 101}, {"cursor": "garbage"}, {"cursor": "WyJhIl0"}]
    for params in invalid:
        response = await client.get("/feed", params=params, headers=me.headers)
        assert response.status_code == 422, params


async def test_feed_answer_is_exactly_the_documented_page_of_posts(client: AsyncClient) -> None:
    # The feed writes its JSON itself (no model is built): it must be byte for byte what its
    # response model, Page[PostView], serializes to.
    me, friend = await make_account(client), await make_account(client)
    await follow(client, me, friend)
    liked = await post(client, friend, 'é 🙂 "quoted" \\ and\na line')
    await client.post(f"/posts/{liked['id']}/likes", headers=me.headers)
    edited = await post(client, me, "mine")
    await client.put(f"/posts/{edited['id']}", headers=me.headers, json={"content": "mine, edited"})
    await post(client, friend, "newest")
    response = await client.get("/feed", params={"limit": 2}, headers=me.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == Page[PostView].model_validate_json(response.content).model_dump_json().encode()
    rest = await client.get("/feed", params={"cursor": response.json()["next_cursor"]}, headers=me.headers)
    assert rest.content == Page[PostView].model_validate_json(rest.content).model_dump_json().encode()
    items = response.json()["items"] + rest.json()["items"]
    assert [list(item) for item in items] == [list(PostView.model_fields)] * 3
    assert [item["liked_by_me"] for item in items] == [False, False, True]
    assert items[1]["content"] == "mine, edited"
    assert items[1]["updated_at"] > items[1]["created_at"]
    assert items[2]["content"] == 'é 🙂 "quoted" \\ and\na line'
    assert items[2]["author"] == {"id": friend.id, "username": friend.username}
    for item in items:
        assert TIMESTAMP.fullmatch(item["created_at"])
        assert TIMESTAMP.fullmatch(item["updated_at"])
        # The same post, the same JSON, on every page that shows it.
        assert (await client.get(f"/posts/{item['id']}", headers=me.headers)).json() == item
