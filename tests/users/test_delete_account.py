from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.content import post
from tests.fixtures.counters import assert_counters_match_rows, assert_post_counters_match_rows, follow_counts


async def test_delete_account_removes_it_and_fixes_everyone_elses_counts(client: AsyncClient, app: FastAPI) -> None:
    alice, bob, carol = await make_account(client), await make_account(client), await make_account(client)
    await client.post(f"/users/{bob.id}/follow", headers=alice.headers)
    await client.post(f"/users/{carol.id}/follow", headers=alice.headers)
    await client.post(f"/users/{alice.id}/follow", headers=bob.headers)

    response = await client.request("DELETE", "/users/me", headers=alice.headers, json={"password": alice.password})
    assert response.status_code == 204

    assert (await client.get(f"/users/{alice.id}")).status_code == 404
    assert await follow_counts(client, bob) == (0, 0)
    assert await follow_counts(client, carol) == (0, 0)
    assert (await client.get(f"/users/{bob.id}/followers")).json()["items"] == []
    # Its tokens stop working and it cannot log in; the name is free again.
    assert (await client.get("/users/me", headers=alice.headers)).status_code == 401
    assert (await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})).status_code == 401
    login = await client.post("/auth/login", data={"username": alice.username, "password": alice.password})
    assert login.status_code == 401
    assert (await make_account(client, alice.username)).username == alice.username
    await assert_counters_match_rows(app)


async def test_delete_account_needs_the_right_password(client: AsyncClient) -> None:
    alice = await make_account(client)
    wrong = await client.request("DELETE", "/users/me", headers=alice.headers, json={"password": "not it at all"})
    assert wrong.status_code == 403
    missing = await client.request("DELETE", "/users/me", headers=alice.headers, json={})
    assert missing.status_code == 422
    assert (await client.request("DELETE", "/users/me", json={"password": alice.password})).status_code == 401
    assert (await client.get(f"/users/{alice.id}")).status_code == 200


async def test_only_me_can_be_deleted(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    response = await client.request("DELETE", f"/users/{alice.id}", headers=bob.headers, json={"password": "x"})
    assert response.status_code == 405
    assert (await client.get(f"/users/{alice.id}")).status_code == 200


async def test_delete_while_others_follow_and_unfollow_keeps_counts_exact(client: AsyncClient, app: FastAPI) -> None:
    leaver = await make_account(client)
    others = [await make_account(client) for _ in range(8)]
    for other in others[:4]:
        await client.post(f"/users/{leaver.id}/follow", headers=other.headers)
        await client.post(f"/users/{other.id}/follow", headers=leaver.headers)

    requests = [client.request("DELETE", "/users/me", headers=leaver.headers, json={"password": leaver.password})]
    requests += [client.post(f"/users/{leaver.id}/follow", headers=other.headers) for other in others[4:]]
    requests += [client.delete(f"/users/{leaver.id}/follow", headers=other.headers) for other in others[:2]]
    requests += [client.post(f"/users/{other.id}/follow", headers=others[0].headers) for other in others[1:]]
    responses = await asyncio.gather(*requests)
    assert responses[0].status_code == 204
    # Follows racing the deletion either landed before it (and were undone) or found no user;
    # nothing deadlocks (a deadlock victim would answer 503).
    assert {r.status_code for r in responses[1:5]} <= {200, 404}
    assert {r.status_code for r in responses[5:7]} == {204}
    assert {r.status_code for r in responses[7:]} == {200}
    await assert_counters_match_rows(app)
    for other in others:
        _, following = await follow_counts(client, other)
        assert following == (7 if other is others[0] else 0)


async def test_delete_account_fixes_counters_on_other_peoples_posts(client: AsyncClient, app: FastAPI) -> None:
    leaver, author = await make_account(client), await make_account(client)
    theirs = await post(client, author)
    mine = await post(client, leaver)
    path = f"/posts/{theirs['id']}"
    await client.post(f"{path}/likes", headers=leaver.headers)
    for _ in range(2):
        await client.post(f"{path}/comments", headers=leaver.headers, json={"content": "bye"})
    await client.post(f"{path}/comments", headers=author.headers, json={"content": "stay"})
    await client.post(f"/posts/{mine['id']}/likes", headers=author.headers)

    response = await client.request("DELETE", "/users/me", headers=leaver.headers, json={"password": leaver.password})
    assert response.status_code == 204
    remaining = (await client.get(path)).json()
    assert (remaining["like_count"], remaining["comment_count"]) == (0, 1)
    assert (await client.get(f"/posts/{mine['id']}")).status_code == 404
    assert [c["author"]["id"] for c in (await client.get(f"{path}/comments")).json()["items"]] == [author.id]
    await assert_post_counters_match_rows(app)


async def test_delete_account_racing_its_own_likes_and_comments(client: AsyncClient, app: FastAPI) -> None:
    leaver = await make_account(client)
    authors = [await make_account(client) for _ in range(3)]
    posts = [(await post(client, author))["id"] for author in authors]
    for post_id in posts:
        await client.post(f"/posts/{post_id}/likes", headers=leaver.headers)
    comment = await client.post(f"/posts/{posts[0]}/comments", headers=leaver.headers, json={"content": "x"})

    requests = [client.request("DELETE", "/users/me", headers=leaver.headers, json={"password": leaver.password})]
    requests += [client.delete(f"/posts/{post_id}/likes", headers=leaver.headers) for post_id in posts[:2]]
    requests += [client.post(f"/posts/{posts[2]}/comments", headers=leaver.headers, json={"content": "late"})]
    requests += [client.delete(f"/comments/{comment.json()['id']}", headers=authors[0].headers)]
    requests += [
        client.post(f"/posts/{post_id}/likes", headers=author.headers) for post_id in posts for author in authors
    ]
    responses = await asyncio.gather(*requests)
    assert responses[0].status_code == 204
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    await assert_post_counters_match_rows(app)
