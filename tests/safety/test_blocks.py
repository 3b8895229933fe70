"""Blocks: the endpoints, follows ended both ways, no follow, like or comment across a block,
no notification between the two (also one already queued), and every read path hiding the
other side as if it did not exist (townsquare.visibility)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.notifications import notifications_of
from tests.safety import walk
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


async def test_every_read_path_hides_the_other_side(app: FastAPI, client: AsyncClient) -> None:
    w = await walk.world(app, client, "blk")
    # Before: each sees all of the other, so each place the walk looks can find them.
    assert await walk.traces(client, w, of=w.other, seen_by=w.viewer) == walk.EVERYWHERE
    await block(client, w.viewer, w.other)
    # The blocker sees nothing of the other but the relationship (to lift the block) ...
    assert await walk.traces(client, w, of=w.other, seen_by=w.viewer) == {"m:relationship"}
    # ... and the blocked account nothing of the blocker.
    assert await walk.traces(client, w, of=w.viewer, seen_by=w.other) == set()
    # Others, and anonymous visitors, still see both.
    assert await walk.traces(client, w, of=w.other, seen_by=w.third) == walk.EVERYWHERE
    assert await walk.traces(client, w, of=w.viewer, seen_by=None) == walk.PUBLIC


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
