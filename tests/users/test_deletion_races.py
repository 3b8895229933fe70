"""Deletions racing everything else, with requests kept running through the deletion's
locked window: no deadlock (a victim would answer 503), no 500, exact counters."""

from __future__ import annotations

import asyncio
from collections import Counter

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.counters import assert_counters_match_rows, assert_post_counters_match_rows
from townsquare.interactions import repository as interactions


async def delete_account(client: AsyncClient, account: Account) -> Response:
    return await client.request("DELETE", "/users/me", headers=account.headers, json={"password": account.password})


async def test_followers_liking_the_leavers_posts_while_it_leaves(client: AsyncClient, app: FastAPI) -> None:
    statuses: Counter[int] = Counter()
    for _ in range(3):
        leaver = await make_account(client)
        fans = [await make_account(client) for _ in range(5)]
        for fan in fans:
            await follow(client, fan, leaver)
        posts = [(await post(client, leaver))["id"] for _ in range(3)]
        done = asyncio.Event()

        async def hammer(fan: Account, posts: list[str] = posts, done: asyncio.Event = done) -> None:
            i = 0
            while not done.is_set():
                path = f"/posts/{posts[i % len(posts)]}/likes"
                i += 1
                statuses[(await client.post(path, headers=fan.headers)).status_code] += 1
                statuses[(await client.delete(path, headers=fan.headers)).status_code] += 1

        tasks = [asyncio.create_task(hammer(fan)) for fan in fans]
        await asyncio.sleep(0.05)
        assert (await delete_account(client, leaver)).status_code == 204
        done.set()
        await asyncio.gather(*tasks)
    assert set(statuses) <= {200, 404}, statuses
    await assert_post_counters_match_rows(app)
    await assert_counters_match_rows(app)


async def test_unlikes_and_comment_deletions_racing_the_post_deletion(client: AsyncClient, app: FastAPI) -> None:
    statuses: Counter[int] = Counter()
    author = await make_account(client)
    crowd = [await make_account(client) for _ in range(6)]
    for _ in range(8):
        post_id = (await post(client, author))["id"]
        comments = []
        for user in crowd:
            await client.post(f"/posts/{post_id}/likes", headers=user.headers)
            body = {"content": "x"}
            comments.append((await client.post(f"/posts/{post_id}/comments", headers=user.headers, json=body)).json())
        requests = [client.delete(f"/posts/{post_id}/likes", headers=user.headers) for user in crowd]
        requests += [
            client.delete(f"/comments/{c['id']}", headers=u.headers) for c, u in zip(comments, crowd, strict=True)
        ]
        requests.insert(3, client.delete(f"/posts/{post_id}", headers=author.headers))
        for response in await asyncio.gather(*requests):
            statuses[response.status_code] += 1
    assert set(statuses) <= {200, 204, 404}, statuses
    await assert_post_counters_match_rows(app)


async def test_two_leavers_who_liked_each_others_posts(client: AsyncClient, app: FastAPI) -> None:
    for _ in range(4):
        a, c, bystander = [await make_account(client) for _ in range(3)]
        posts = {account.id: (await post(client, account))["id"] for account in (a, c, bystander)}
        for liker, author in [(a, c), (c, a), (a, bystander), (c, bystander)]:
            await client.post(f"/posts/{posts[author.id]}/likes", headers=liker.headers)
            await client.post(f"/posts/{posts[author.id]}/comments", headers=liker.headers, json={"content": "x"})
        results = await asyncio.gather(
            delete_account(client, a),
            delete_account(client, c),
            client.delete(f"/posts/{posts[bystander.id]}", headers=bystander.headers),
        )
        assert [r.status_code for r in results] == [204, 204, 204]
    await assert_post_counters_match_rows(app)


async def test_posting_while_the_account_is_deleted_is_never_a_500(client: AsyncClient, app: FastAPI) -> None:
    for _ in range(3):
        leaver = await make_account(client)
        requests = [client.post("/posts", headers=leaver.headers, json={"content": "last words"}) for _ in range(4)]
        *posts, deleted = await asyncio.gather(*requests, delete_account(client, leaver))
        assert deleted.status_code == 204
        assert {r.status_code for r in posts} <= {201, 401}
    await assert_post_counters_match_rows(app)


async def test_forgetting_a_leavers_likes_and_comments_takes_no_other_users_row(
    client: AsyncClient, app: FastAPI
) -> None:
    # The lock order is user rows first, then posts. Taking a post's counters off once per kind
    # (likes, then comments) updated the same row twice, and the second update's foreign-key
    # check locked its author's user row after the posts: two leavers deadlocked on it.
    author, leaver = await make_account(client), await make_account(client)
    post_id = (await post(client, author))["id"]
    await client.post(f"/posts/{post_id}/likes", headers=leaver.headers)
    await client.post(f"/posts/{post_id}/comments", headers=leaver.headers, json={"content": "x"})
    engine = app.state.database.engine
    async with engine.connect() as holder, engine.connect() as forgetter:
        await holder.begin()
        # As a deletion of the author would: its user row, FOR UPDATE.
        await holder.execute(text("SELECT FROM user_account WHERE id = :id FOR UPDATE"), {"id": int(author.id)})
        await forgetter.begin()
        await forgetter.execute(text("SET LOCAL lock_timeout = '2s'"))
        async with AsyncSession(bind=forgetter) as session:
            await interactions.uncount_user(session, int(leaver.id))  # would wait for the holder
        counts = (
            await forgetter.execute(
                text("SELECT like_count, comment_count FROM post WHERE id = :id"), {"id": int(post_id)}
            )
        ).one()
        assert tuple(counts) == (0, 0)
        await forgetter.rollback()
        await holder.rollback()
