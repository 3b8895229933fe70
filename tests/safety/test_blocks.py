"""Blocks: the endpoints, follows ended both ways, no follow, like or comment across a block,
no notification between the two (also one already queued), and every read path hiding the
other side as if it did not exist (townsquare.visibility)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.notifications import drain, notifications_of
from townsquare.notifications import service as notifications_service


async def block(client: AsyncClient, blocker: Account, blocked: Account) -> None:
    response = await client.post(f"/users/{blocked.id}/block", headers=blocker.headers)
    assert response.status_code == 204, response.text


async def counts(client: AsyncClient, account: Account) -> tuple[int, int]:
    me = (await client.get("/users/me", headers=account.headers)).json()
    return me["followers_count"], me["following_count"]


async def test_block_unblock_and_the_list_only_you_see(client: AsyncClient) -> None:
    ann, bob, cid = [await make_account(client, name) for name in ("ann_b", "bob_b", "cid_b")]
    for _ in range(2):  # idempotent
        await block(client, ann, bob)
    await block(client, ann, cid)
    listed = (await client.get("/users/me/blocks", headers=ann.headers)).json()
    assert [user["username"] for user in listed["items"]] == ["cid_b", "bob_b"]  # newest first
    assert (await client.get(f"/users/{ann.id}/blocks", headers=bob.headers)).status_code == 403
    assert (await client.get("/users/me/blocks")).status_code == 401
    assert (await client.post(f"/users/{ann.id}/block", headers=ann.headers)).status_code == 422
    assert (await client.post("/users/123456789/block", headers=ann.headers)).status_code == 404
    for _ in range(2):
        assert (await client.delete(f"/users/{bob.id}/block", headers=ann.headers)).status_code == 204
    listed = (await client.get("/users/me/blocks", headers=ann.headers)).json()
    assert [user["username"] for user in listed["items"]] == ["cid_b"]
    assert (await client.get(f"/users/{bob.id}", headers=ann.headers)).status_code == 200  # lifted


async def test_a_block_ends_follows_both_ways_and_none_can_be_made(client: AsyncClient) -> None:
    ann, bob = await make_account(client, "ann_f"), await make_account(client, "bob_f")
    await follow(client, ann, bob)
    await follow(client, bob, ann)
    assert await counts(client, ann) == (1, 1)
    await block(client, bob, ann)
    assert await counts(client, ann) == (0, 0)
    assert await counts(client, bob) == (0, 0)
    for follower, followed in ((ann, bob), (bob, ann)):
        refused = await client.post(f"/users/{followed.id}/follow", headers=follower.headers)
        assert refused.status_code == 404  # as if there were no such user
    assert await counts(client, ann) == (0, 0)
    # Lifted: follows can be made again, and are not restored by themselves.
    assert (await client.delete(f"/users/{ann.id}/block", headers=bob.headers)).status_code == 204
    assert await counts(client, bob) == (0, 0)
    await follow(client, ann, bob)
    assert await counts(client, bob) == (1, 0)


async def test_blocks_and_follows_racing_leave_exact_counters(client: AsyncClient) -> None:
    ann, bob = await make_account(client, "ann_r"), await make_account(client, "bob_r")
    for _ in range(5):
        answers = await asyncio.gather(
            client.post(f"/users/{bob.id}/follow", headers=ann.headers),
            client.post(f"/users/{ann.id}/block", headers=bob.headers),
            client.post(f"/users/{ann.id}/follow", headers=bob.headers),
        )
        assert {answer.status_code for answer in answers} <= {200, 204, 404}
        assert await counts(client, ann) == (0, 0)  # the block came first or removed them
        assert await counts(client, bob) == (0, 0)
        assert (await client.delete(f"/users/{ann.id}/block", headers=bob.headers)).status_code == 204


async def test_no_like_or_comment_across_a_block(client: AsyncClient) -> None:
    ann, bob = await make_account(client, "ann_l"), await make_account(client, "bob_l")
    ann_post = await post(client, ann, "ann's words")
    await block(client, ann, bob)
    assert (await client.post(f"/posts/{ann_post['id']}/likes", headers=bob.headers)).status_code == 404
    comment = await client.post(f"/posts/{ann_post['id']}/comments", headers=bob.headers, json={"content": "hi"})
    assert comment.status_code == 404
    bob_post = await post(client, bob, "bob's words")  # the blocker cannot reach into it either
    assert (await client.post(f"/posts/{bob_post['id']}/likes", headers=ann.headers)).status_code == 404
    assert (await client.get(f"/posts/{ann_post['id']}")).json()["like_count"] == 0


async def _visible(client: AsyncClient, viewer: Account, hidden: Account, things: dict[str, Any]) -> list[str]:
    """Every read endpoint, as `viewer` sees it: where `hidden`'s account or content shows."""
    headers = viewer.headers
    seen = []
    profile = await client.get(f"/users/{hidden.id}", headers=headers)
    if profile.status_code != 404:
        seen.append(f"profile {profile.status_code}")
    posts = await client.get(f"/users/{hidden.id}/posts", headers=headers)
    if posts.status_code != 404:
        seen.append(f"their posts {posts.status_code}")
    for path in (f"/posts/{things['post']}", f"/posts/{things['post']}/comments", f"/posts/{things['post']}/likes"):
        answer = await client.get(path, headers=headers)
        if answer.status_code != 404:
            seen.append(f"{path} {answer.status_code}")
    third = things["third_post"]
    comments = (await client.get(f"/posts/{third}/comments", headers=headers)).json()["items"]
    seen += [f"comment on a third post: {c['content']}" for c in comments if c["author"]["id"] == hidden.id]
    likers = (await client.get(f"/posts/{third}/likes", headers=headers)).json()["items"]
    seen += ["like on a third post" for u in likers if u["id"] == hidden.id]
    for which in ("followers", "following"):
        listed = (await client.get(f"/users/{things['third_user']}/{which}", headers=headers)).json()["items"]
        seen += [f"in the third user's {which}" for u in listed if u["id"] == hidden.id]
    found = (await client.get("/search", params={"q": "shared"}, headers=headers)).json()
    seen += ["search users" for u in found["users"] if u["id"] == hidden.id]
    seen += ["search posts" for p in found["posts"] if p["author"]["id"] == hidden.id]
    feed = (await client.get("/feed", headers=headers)).json()["items"]
    seen += ["feed" for p in feed if p["author"]["id"] == hidden.id]
    notes = await notifications_of(client, viewer, limit=100)
    seen += [f"notification {n['type']}" for n in notes if n["actor"]["id"] == hidden.id]
    unread = (await client.get("/users/me/notifications/unread_count", headers=headers)).json()["count"]
    if unread != len([n for n in notes if not n["read"]]):
        seen.append("unread count")
    return seen


async def test_every_read_path_hides_the_other_side(app: FastAPI, client: AsyncClient) -> None:
    ann = await make_account(client, "shared_ann", bio="shared bio")
    bob = await make_account(client, "shared_bob", bio="shared bio")
    third = await make_account(client, "third_party")
    await follow(client, ann, bob)
    await follow(client, bob, ann)
    for account in (ann, bob):
        await follow(client, account, third)
        await follow(client, third, account)
    ann_post, bob_post = await post(client, ann, "shared ann"), await post(client, bob, "shared bob")
    third_post = await post(client, third, "a third post")
    for account, other_post in ((ann, bob_post), (bob, ann_post)):
        assert (await client.post(f"/posts/{other_post['id']}/likes", headers=account.headers)).status_code == 200
        written = {"content": f"from {account.username}"}
        assert (
            await client.post(f"/posts/{other_post['id']}/comments", headers=account.headers, json=written)
        ).status_code == 201
        assert (await client.post(f"/posts/{third_post['id']}/likes", headers=account.headers)).status_code == 200
        assert (
            await client.post(f"/posts/{third_post['id']}/comments", headers=account.headers, json=written)
        ).status_code == 201
    await drain(app)
    bob_things = {"post": bob_post["id"], "third_post": third_post["id"], "third_user": third.id}
    ann_things = {"post": ann_post["id"], "third_post": third_post["id"], "third_user": third.id}
    # Before: each sees all of the other (the walk itself can find them).
    assert len(await _visible(client, ann, bob, bob_things)) >= 10
    await block(client, ann, bob)
    assert await _visible(client, ann, bob, bob_things) == []  # the blocker sees nothing of bob
    assert await _visible(client, bob, ann, ann_things) == []  # ... nor bob of ann
    # Others, and anonymous visitors, still see both.
    assert (await client.get(f"/posts/{bob_post['id']}", headers=third.headers)).status_code == 200
    assert (await client.get(f"/users/{ann.id}/posts")).status_code == 200


async def test_a_notification_queued_before_the_block_is_not_delivered(app: FastAPI, client: AsyncClient) -> None:
    ann, bob = await make_account(client, "ann_q"), await make_account(client, "bob_q")
    ann_post = await post(client, ann, "queued")
    await block(client, ann, bob)
    # What the like's job would do if it ran now, after the block (the like came first).
    async with app.state.database.sessions() as session:
        made = await notifications_service.deliver(
            session, type="like", actor_id=int(bob.id), target_id=int(ann_post["id"]), at=datetime.now(UTC)
        )
        await session.commit()
    assert made is None
    assert await notifications_of(client, ann) == []
