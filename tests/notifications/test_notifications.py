"""Notifications through the API: made by the in-process worker, read and marked by the owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import all_pages, follow, post
from tests.fixtures.notifications import drain, notifications_of, settled_notifications

PROBLEM = "application/problem+json"
FIELDS = {"id", "type", "actor", "post_id", "comment_id", "content", "read", "created_at"}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_like_notifies_the_author(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client, "alice"), await make_account(client, "bob")
    bobs = await post(client, bob)
    liked = await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)
    assert liked.status_code == 200

    (notification,) = await settled_notifications(app, client, bob)
    assert set(notification) == FIELDS
    assert notification["type"] == "like"
    assert notification["actor"] == {"id": alice.id, "username": "alice"}
    assert notification["post_id"] == bobs["id"]
    assert notification["comment_id"] is None
    assert notification["content"] == "alice liked your post"
    assert notification["read"] is False
    # The time of the like, not of the job.
    likers = (await client.get(f"/posts/{bobs['id']}/likes")).json()["items"]
    assert likers == [{"id": alice.id, "username": "alice"}]
    assert abs((parse_time(notification["created_at"]) - parse_time(bobs["created_at"])).total_seconds()) < 5
    assert await notifications_of(client, alice) == []


async def test_a_comment_notifies_the_author(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client, "alice"), await make_account(client, "bob")
    bobs = await post(client, bob)
    comment = await client.post(f"/posts/{bobs['id']}/comments", headers=alice.headers, json={"content": "nice"})
    assert comment.status_code == 201
    created = comment.json()

    (notification,) = await settled_notifications(app, client, bob)
    assert notification["type"] == "comment"
    assert notification["actor"]["id"] == alice.id
    assert notification["post_id"] == bobs["id"]
    assert notification["comment_id"] == created["id"]
    assert notification["content"] == "alice commented on your post"
    assert notification["created_at"] == created["created_at"]


async def test_every_comment_is_its_own_notification(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    for words in ("one", "two", "three"):
        response = await client.post(f"/posts/{bobs['id']}/comments", headers=alice.headers, json={"content": words})
        assert response.status_code == 201
    assert [n["type"] for n in await settled_notifications(app, client, bob)] == ["comment"] * 3


async def test_a_follow_notifies_the_followed(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client, "alice"), await make_account(client, "bob")
    await follow(client, alice, bob)

    (notification,) = await settled_notifications(app, client, bob)
    assert notification["type"] == "follow"
    assert notification["actor"] == {"id": alice.id, "username": "alice"}
    assert notification["post_id"] is None
    assert notification["comment_id"] is None
    assert notification["content"] == "alice started following you"


async def test_acting_on_your_own_post_notifies_nobody(app: FastAPI, client: AsyncClient) -> None:
    bob = await make_account(client)
    bobs = await post(client, bob)
    assert (await client.post(f"/posts/{bobs['id']}/likes", headers=bob.headers)).status_code == 200
    comment = await client.post(f"/posts/{bobs['id']}/comments", headers=bob.headers, json={"content": "me"})
    assert comment.status_code == 201
    assert (await client.post(f"/users/{bob.id}/follow", headers=bob.headers)).status_code == 422
    assert await settled_notifications(app, client, bob) == []


async def test_like_unlike_like_gives_one_notification(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    path = f"/posts/{bobs['id']}/likes"
    for method in ("POST", "DELETE", "POST", "POST", "DELETE", "POST"):
        assert (await client.request(method, path, headers=alice.headers)).status_code == 200
        await drain(app)  # each like's job runs before the next action, the harder case
    assert [n["type"] for n in await settled_notifications(app, client, bob)] == ["like"]


async def test_follow_unfollow_follow_gives_one_notification(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    for _ in range(3):
        await follow(client, alice, bob)
        assert (await client.delete(f"/users/{bob.id}/follow", headers=alice.headers)).status_code == 204
    await follow(client, alice, bob)
    assert [n["type"] for n in await settled_notifications(app, client, bob)] == ["follow"]


async def test_a_like_undone_before_the_worker_ran_still_notified(app: FastAPI, client: AsyncClient) -> None:
    # The outcome never depends on when the worker runs: the like happened and was answered 200.
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    assert (await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)).status_code == 200
    assert (await client.delete(f"/posts/{bobs['id']}/likes", headers=alice.headers)).status_code == 200
    assert [n["type"] for n in await settled_notifications(app, client, bob)] == ["like"]


async def test_failed_actions_notify_nobody(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    missing = "123456789"
    assert (await client.post(f"/posts/{missing}/likes", headers=alice.headers)).status_code == 404
    response = await client.post(f"/posts/{missing}/comments", headers=alice.headers, json={"content": "x"})
    assert response.status_code == 404
    assert (await client.post(f"/users/{missing}/follow", headers=alice.headers)).status_code == 404
    bobs = await post(client, bob)
    response = await client.post(f"/posts/{bobs['id']}/comments", headers=alice.headers, json={"content": " "})
    assert response.status_code == 422
    assert await settled_notifications(app, client, bob) == []
    async with app.state.database.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM notification"))).scalar_one() == 0


async def _likes_comments_and_a_follow(client: AsyncClient, actor: Account, owner: Account) -> dict[str, Any]:
    owners = await post(client, owner)
    assert (await client.post(f"/posts/{owners['id']}/likes", headers=actor.headers)).status_code == 200
    comment = await client.post(f"/posts/{owners['id']}/comments", headers=actor.headers, json={"content": "hi"})
    assert comment.status_code == 201
    await follow(client, actor, owner)
    return {"post": owners, "comment": comment.json()}


async def test_deleting_a_post_deletes_its_notifications(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    made = await _likes_comments_and_a_follow(client, alice, bob)
    assert len(await settled_notifications(app, client, bob)) == 3
    assert (await client.delete(f"/posts/{made['post']['id']}", headers=bob.headers)).status_code == 204
    assert [n["type"] for n in await notifications_of(client, bob)] == ["follow"]


async def test_deleting_a_comment_deletes_its_notification(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    made = await _likes_comments_and_a_follow(client, alice, bob)
    await drain(app)
    response = await client.delete(f"/comments/{made['comment']['id']}", headers=alice.headers)
    assert response.status_code == 204
    assert sorted(n["type"] for n in await notifications_of(client, bob)) == ["follow", "like"]


async def test_deleting_an_account_deletes_what_it_caused_and_received(app: FastAPI, client: AsyncClient) -> None:
    alice, bob, carol = await make_account(client), await make_account(client), await make_account(client)
    await _likes_comments_and_a_follow(client, alice, bob)  # alice caused 3 for bob
    await _likes_comments_and_a_follow(client, carol, alice)  # alice received 3 from carol
    await _likes_comments_and_a_follow(client, carol, bob)  # unrelated to alice
    await drain(app)
    response = await client.request("DELETE", "/users/me", headers=alice.headers, json={"password": alice.password})
    assert response.status_code == 204, response.text
    remaining = await notifications_of(client, bob)
    assert len(remaining) == 3
    assert {n["actor"]["id"] for n in remaining} == {carol.id}
    async with app.state.database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT count(*) FROM notification WHERE actor_id = :a OR recipient_id = :a"), {"a": int(alice.id)}
        )
        assert rows.scalar_one() == 0


async def test_a_deleted_target_before_the_job_runs_yields_nothing(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    assert (await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)).status_code == 200
    assert (await client.delete(f"/posts/{bobs['id']}", headers=bob.headers)).status_code == 204
    assert await settled_notifications(app, client, bob) == []


async def test_list_is_newest_first_and_pages_without_repeats(app: FastAPI, client: AsyncClient) -> None:
    bob = await make_account(client)
    fans = [await make_account(client) for _ in range(7)]
    bobs = await post(client, bob)
    for fan in fans:
        assert (await client.post(f"/posts/{bobs['id']}/likes", headers=fan.headers)).status_code == 200
        await follow(client, fan, bob)
    await drain(app)
    every = await notifications_of(client, bob, limit=100)
    assert len(every) == 14
    times = [parse_time(n["created_at"]) for n in every]
    assert times == sorted(times, reverse=True)
    assert every[0]["actor"]["id"] == fans[-1].id
    path = f"/users/{bob.id}/notifications"
    for limit in (1, 3, 5, 14):
        assert await all_pages(client, path, limit=limit, headers=bob.headers) == [n["id"] for n in every]


async def test_unread_filter_count_and_marking_read(app: FastAPI, client: AsyncClient) -> None:
    bob = await make_account(client)
    fans = [await make_account(client) for _ in range(4)]
    for fan in fans:
        await follow(client, fan, bob)
    every = await settled_notifications(app, client, bob)
    base = f"/users/{bob.id}/notifications"

    async def unread_count() -> int:
        response = await client.get(f"{base}/unread_count", headers=bob.headers)
        assert response.status_code == 200
        count: int = response.json()["count"]
        return count

    assert await unread_count() == 4
    chosen = [every[0]["id"], every[2]["id"]]
    marked = await client.post(f"{base}/read", headers=bob.headers, json={"ids": chosen})
    assert marked.status_code == 200
    assert marked.json() == {"updated": 2}
    # Marking again changes nothing.
    assert (await client.post(f"{base}/read", headers=bob.headers, json={"ids": chosen})).json() == {"updated": 0}
    assert await unread_count() == 2
    unread = await notifications_of(client, bob, unread="true")
    assert [n["id"] for n in unread] == [every[1]["id"], every[3]["id"]]
    assert all(n["read"] is False for n in unread)
    assert [n["read"] for n in await notifications_of(client, bob)] == [True, False, True, False]

    marked = await client.post(f"{base}/read", headers=bob.headers, json={"all": True})
    assert marked.json() == {"updated": 2}
    assert await unread_count() == 0
    assert await notifications_of(client, bob, unread="true") == []


async def test_marking_ids_that_are_not_yours_changes_nothing(app: FastAPI, client: AsyncClient) -> None:
    alice, bob, carol = await make_account(client), await make_account(client), await make_account(client)
    await follow(client, carol, alice)
    await follow(client, carol, bob)
    (alices,) = await settled_notifications(app, client, alice)
    response = await client.post(
        f"/users/{bob.id}/notifications/read", headers=bob.headers, json={"ids": [alices["id"]]}
    )
    assert response.json() == {"updated": 0}
    assert (await notifications_of(client, alice))[0]["read"] is False


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"all": False},
        {"ids": ["1"], "all": True},
        {"ids": ["not an id"]},
        {"ids": ["99999999999999999999"]},
        {"ids": ["9223372036854775808"]},
        {"ids": [str(n) for n in range(1, 102)]},
        {"ids": "1"},
        {"all": True, "extra": 1},
    ],
)
async def test_mark_read_refuses_bad_bodies(client: AsyncClient, body: dict[str, Any]) -> None:
    bob = await make_account(client)
    response = await client.post(f"/users/{bob.id}/notifications/read", headers=bob.headers, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "WzFd",  # [1]: one value, not two
        "WyJhIiwxXQ",  # ["a", 1]
        "WzEsMF0",  # [1, 0]: no such id
        "Wy0xLDFd",  # [-1, 1]
        "WzIzMDU4NDMwMDkyMTM2OTM5NTIsMV0",  # [2**61, 1]: past the year 9999
        "WzEsMiwzXQ",  # [1, 2, 3]
    ],
)
async def test_bad_cursors_are_422(client: AsyncClient, cursor: str) -> None:
    bob = await make_account(client)
    response = await client.get(f"/users/{bob.id}/notifications", headers=bob.headers, params={"cursor": cursor})
    assert response.status_code == 422


ROUTES = [
    ("GET", "", None),
    ("GET", "/unread_count", None),
    ("POST", "/read", {"all": True}),
    ("GET", "/stream", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
async def test_only_the_owner_reads_or_changes_notifications(
    app: FastAPI, client: AsyncClient, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    alice, bob = await make_account(client), await make_account(client)
    await follow(client, bob, alice)
    await drain(app)
    path = f"/users/{alice.id}/notifications{suffix}"

    as_bob = await client.request(method, path, headers=bob.headers, json=body)
    assert as_bob.status_code == 403
    assert as_bob.headers["content-type"] == PROBLEM
    assert "started following" not in as_bob.text

    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM

    bad_token = await client.request(method, path, headers={"Authorization": "Bearer nope"}, json=body)
    assert bad_token.status_code == 401

    nobody = await client.request(method, f"/users/not-an-id/notifications{suffix}", headers=bob.headers, json=body)
    assert nobody.status_code == 404
    # Nothing changed for alice.
    (notification,) = await notifications_of(client, alice)
    assert notification["read"] is False


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES[:3])
async def test_me_names_the_caller(client: AsyncClient, method: str, suffix: str, body: dict[str, Any] | None) -> None:
    bob = await make_account(client)
    response = await client.request(method, f"/users/me/notifications{suffix}", headers=bob.headers, json=body)
    assert response.status_code == 200, response.text
