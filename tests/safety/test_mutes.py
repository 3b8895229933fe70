"""Mutes: the endpoints and their settings, what the muter stops seeing (feed, search, comments,
notifications: every read path walked), that nothing changes for the muted account, expiry,
and the Mastodon API's block and mute calls."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import make_account
from tests.fixtures.mastodon import token_for
from tests.fixtures.notifications import notifications_of
from tests.safety import walk
from townsquare.notifications import service as notifications_service
from townsquare.safety import service as safety_service


async def test_mute_settings_and_the_list_only_you_see(client: AsyncClient) -> None:
    ann, bob, cid = [await make_account(client, name) for name in ("ann_m", "bob_m", "cid_m")]
    for _ in range(2):  # idempotent, without a body
        assert (await client.post(f"/users/{bob.id}/mute", headers=ann.headers)).status_code == 204
    week = {"notifications": False, "duration_seconds": 7 * 24 * 3600}
    assert (await client.post(f"/users/{cid.id}/mute", headers=ann.headers, json=week)).status_code == 204
    listed = (await client.get("/users/me/mutes", headers=ann.headers)).json()["items"]
    assert [(u["username"], u["notifications"], u["expires_at"] is None) for u in listed] == [
        ("cid_m", False, False),
        ("bob_m", True, True),
    ]
    expires = datetime.fromisoformat(listed[0]["expires_at"])
    assert 6.9 * 24 * 3600 < (expires - datetime.now(UTC)).total_seconds() <= 7 * 24 * 3600
    # Muting again changes the settings.
    forever = {"notifications": True, "duration_seconds": 0}
    assert (await client.post(f"/users/{cid.id}/mute", headers=ann.headers, json=forever)).status_code == 204
    listed = (await client.get("/users/me/mutes", headers=ann.headers)).json()["items"]
    assert [(u["notifications"], u["expires_at"]) for u in listed] == [(True, None), (True, None)]
    # Nobody else sees it, nor is told: bob's view of ann is unchanged.
    assert (await client.get(f"/users/{ann.id}/mutes", headers=bob.headers)).status_code == 403
    assert (await client.get("/users/me/mutes", headers=bob.headers)).json()["items"] == []
    assert (await client.get("/users/me/mutes")).status_code == 401
    # Refused: yourself, nobody, a bad body.
    assert (await client.post(f"/users/{ann.id}/mute", headers=ann.headers)).status_code == 422
    assert (await client.post("/users/123456789/mute", headers=ann.headers)).status_code == 404
    for bad in (
        {"duration_seconds": -1},
        {"notifications": "sometimes"},
        {"mood": "grumpy"},
        {"duration_seconds": 10**12},
    ):
        answer = await client.post(f"/users/{bob.id}/mute", headers=ann.headers, json=bad)
        assert answer.status_code == 422, bad
        assert answer.headers["content-type"] == "application/problem+json"
    for _ in range(2):
        assert (await client.delete(f"/users/{bob.id}/mute", headers=ann.headers)).status_code == 204
    listed = (await client.get("/users/me/mutes", headers=ann.headers)).json()["items"]
    assert [u["username"] for u in listed] == ["cid_m"]


async def test_the_muter_stops_seeing_them_in_feeds_search_comments_and_notifications(
    app: FastAPI, client: AsyncClient
) -> None:
    w = await walk.world(app, client, "mut")
    assert await walk.traces(client, w, of=w.other, seen_by=w.viewer) == walk.EVERYWHERE
    muted = await client.post(f"/users/{w.other.id}/mute", headers=w.viewer.headers)
    assert muted.status_code == 204
    # Their profile, posts and their place in lists stay; the rest goes.
    assert await walk.traces(client, w, of=w.other, seen_by=w.viewer) == walk.PROFILE | walk.LISTS
    # Nothing changes for the muted account, or for anyone else; follows stay.
    assert await walk.traces(client, w, of=w.viewer, seen_by=w.other) == walk.EVERYWHERE
    assert await walk.traces(client, w, of=w.other, seen_by=w.third) == walk.EVERYWHERE
    me = (await client.get("/users/me", headers=w.viewer.headers)).json()
    assert (me["followers_count"], me["following_count"]) == (2, 2)
    # Posts only: their notifications come back.
    posts_only = {"notifications": False}
    assert (
        await client.post(f"/users/{w.other.id}/mute", headers=w.viewer.headers, json=posts_only)
    ).status_code == 204
    seen = await walk.traces(client, w, of=w.other, seen_by=w.viewer)
    assert seen == walk.PROFILE | walk.LISTS | walk.NOTIFICATIONS
    # Past its end, a mute hides nothing (at once), and the upkeep job deletes it.
    async with app.state.database.sessions() as session:
        await session.execute(text("UPDATE user_mute SET expires_at = now() - interval '1 second'"))
        await session.commit()
    assert await walk.traces(client, w, of=w.other, seen_by=w.viewer) == walk.EVERYWHERE
    assert (await client.get("/users/me/mutes", headers=w.viewer.headers)).json()["items"] == []
    async with app.state.database.sessions() as session:
        assert await safety_service.purge_expired_mutes(session) == 1
        await session.commit()


async def test_a_queued_notification_from_a_muted_account_is_not_delivered(app: FastAPI, client: AsyncClient) -> None:
    ann, bob = await make_account(client, "ann_mq"), await make_account(client, "bob_mq")
    assert (await client.post(f"/users/{bob.id}/mute", headers=ann.headers)).status_code == 204
    async with app.state.database.sessions() as session:
        made = await notifications_service.deliver(
            session, type="follow", actor_id=int(bob.id), target_id=int(ann.id), at=datetime.now(UTC)
        )
        await session.commit()
    assert made is None
    assert await notifications_of(client, ann) == []


async def test_mastodon_clients_block_mute_and_list_them(client: AsyncClient) -> None:
    ann, bob, cid = [await make_account(client, name) for name in ("ann_mm", "bob_mm", "cid_mm")]
    token = await token_for(client, ann)
    muted = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", headers=token.headers, data={"notifications": "false", "duration": "3600"}
    )
    assert muted.status_code == 200, muted.text
    assert (muted.json()["muting"], muted.json()["muting_notifications"]) == (True, False)
    blocked = await client.post(f"/api/v1/accounts/{cid.id}/block", headers=token.headers)
    assert blocked.json()["blocking"] is True
    assert [a["id"] for a in (await client.get("/api/v1/mutes", headers=token.headers)).json()] == [bob.id]
    assert [a["id"] for a in (await client.get("/api/v1/blocks", headers=token.headers)).json()] == [cid.id]
    relationships = await client.get(
        "/api/v1/accounts/relationships", headers=token.headers, params={"id[]": [bob.id, cid.id]}
    )
    assert [(r["muting"], r["blocking"]) for r in relationships.json()] == [(True, False), (False, True)]
    # The blocked side finds no relationship at all: the blocker does not exist for them.
    cids = await token_for(client, cid)
    assert (
        await client.get("/api/v1/accounts/relationships", headers=cids.headers, params={"id[]": ann.id})
    ).json() == []
    assert (await client.post(f"/api/v1/accounts/{ann.id}/follow", headers=cids.headers)).status_code == 404
    assert (await client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=token.headers)).json()["muting"] is False
    assert (await client.post(f"/api/v1/accounts/{cid.id}/unblock", headers=token.headers)).json()["blocking"] is False
    assert (await client.get("/api/v1/mutes", headers=token.headers)).json() == []
    # Scopes: a read-only token cannot mute.
    reader = await token_for(client, ann, scope="read")
    assert (await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=reader.headers)).status_code == 403
