"""The live stream, over real HTTP: pushed events, heartbeats, resumption, clean-up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.notifications import drain, notifications_of
from tests.fixtures.sse import next_event, stream
from townsquare.notifications import service as notifications
from townsquare.notifications.hub import APPLICATION_NAME

WAIT = 10  # seconds: a bound for a broken push to fail on, not a measure of speed


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=WAIT) as client:
        yield client


def stream_url(live_url: str, account: Account) -> str:
    return f"{live_url}/users/{account.id}/notifications/stream"


async def test_new_notifications_are_pushed(
    app: FastAPI, client: AsyncClient, http: httpx.AsyncClient, live_url: str
) -> None:
    alice, bob = await make_account(client, "alice"), await make_account(client, "bob")
    bobs = await post(client, bob)
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        assert (await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)).status_code == 200
        liked = await asyncio.wait_for(next_event(received), WAIT)
        await follow(client, alice, bob)
        followed = await asyncio.wait_for(next_event(received), WAIT)
    listed = await notifications_of(client, bob)
    # The same notifications as the list, in the order they were made, with their ids.
    assert [json.loads(followed.data), json.loads(liked.data)] == listed
    assert [followed.id, liked.id] == [n["id"] for n in listed]


async def test_the_token_may_come_in_the_query(client: AsyncClient, http: httpx.AsyncClient, live_url: str) -> None:
    alice, bob = await make_account(client), await make_account(client)
    params = {"access_token": bob.access_token}
    async with stream(http, stream_url(live_url, bob), params=params) as received:
        await follow(client, alice, bob)
        event = await asyncio.wait_for(next_event(received), WAIT)
    assert json.loads(event.data)["type"] == "follow"
    wrong = await http.get(stream_url(live_url, bob), params={"access_token": alice.access_token})
    assert wrong.status_code == 403
    bad = await http.get(stream_url(live_url, bob), params={"access_token": "not a token"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"


async def test_others_notifications_are_not_pushed(
    app: FastAPI, client: AsyncClient, http: httpx.AsyncClient, live_url: str
) -> None:
    alice, bob, carol = await make_account(client), await make_account(client), await make_account(client)
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        await follow(client, alice, carol)  # for carol, not bob
        await drain(app)
        await follow(client, carol, bob)
        event = await asyncio.wait_for(next_event(received), WAIT)
    assert json.loads(event.data)["actor"]["id"] == carol.id


async def test_idle_streams_get_heartbeats(client: AsyncClient, http: httpx.AsyncClient, live_url: str) -> None:
    bob = await make_account(client)
    comments: list[str] = []
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        async for event in received:
            comments += event.comments
            if comments.count("heartbeat") == 2:  # the session's heartbeat is 0.3 s
                break
    assert comments[0] == "connected"


async def test_closing_the_stream_frees_the_server(
    app: FastAPI, client: AsyncClient, http: httpx.AsyncClient, live_url: str
) -> None:
    alice, bob = await make_account(client), await make_account(client)
    hub = app.state.hub
    pool = app.state.database.engine.pool
    assert hub.subscriber_count() == 0
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        await follow(client, alice, bob)
        await asyncio.wait_for(next_event(received), WAIT)
        assert hub.subscriber_count() == 1
        # An open stream holds no database connection, even across heartbeats.
        await asyncio.sleep(0.7)
        assert pool.checkedout() == 0
    for _ in range(200):
        if hub.subscriber_count() == 0:
            break
        await asyncio.sleep(0.02)
    assert hub.subscriber_count() == 0


async def test_logging_out_ends_the_stream(client: AsyncClient, http: httpx.AsyncClient, live_url: str) -> None:
    bob = await make_account(client)
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        response = await client.post("/auth/logout", headers=bob.headers, json={"refresh_token": bob.refresh_token})
        assert response.status_code == 204, response.text
        end = await asyncio.wait_for(next_event(received, kind="end"), WAIT)
        assert json.loads(end.data) == {"reason": "session-ended"}
        # And then the stream is over.
        remaining = [event async for event in received]
        assert all(event.event != "notification" for event in remaining)


async def test_a_reconnecting_client_gets_what_it_missed(
    app: FastAPI, client: AsyncClient, http: httpx.AsyncClient, live_url: str
) -> None:
    bob = await make_account(client)
    fans = [await make_account(client) for _ in range(4)]
    await follow(client, fans[0], bob)
    await drain(app)
    (seen,) = await notifications_of(client, bob)
    for fan in fans[1:]:  # made while bob was away
        await follow(client, fan, bob)
    await drain(app)
    headers = {**bob.headers, "Last-Event-ID": seen["id"]}
    async with stream(http, stream_url(live_url, bob), headers=headers) as received:
        replayed = [await asyncio.wait_for(next_event(received), WAIT) for _ in range(3)]
    assert [json.loads(e.data)["actor"]["id"] for e in replayed] == [fan.id for fan in fans[1:]]


async def test_a_lost_listener_connection_is_recovered_without_losing_events(
    app: FastAPI, client: AsyncClient, http: httpx.AsyncClient, live_url: str
) -> None:
    bob, carol = await make_account(client), await make_account(client)
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        # Before this stream has sent anything: cut the hub's LISTEN connection, then make a
        # notification at once, while it is away.
        async with app.state.database.engine.begin() as connection:
            killed = await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = :name"
                ),
                {"name": APPLICATION_NAME},
            )
            assert killed.all() == [(True,)]
        async with app.state.database.sessions() as session:
            await notifications.deliver(
                session, type="follow", actor_id=int(carol.id), target_id=int(bob.id), at=datetime.now(UTC)
            )
            await session.commit()
        event = await asyncio.wait_for(next_event(received), 2 * WAIT)
        assert json.loads(event.data)["actor"]["id"] == carol.id
        await asyncio.wait_for(app.state.hub.listening.wait(), WAIT)


async def test_a_busy_stream_still_ends_at_logout(
    app: FastAPI, client: AsyncClient, http: httpx.AsyncClient, live_url: str
) -> None:
    bob = await make_account(client)
    fans = [await make_account(client) for _ in range(40)]
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        response = await client.post("/auth/logout", headers=bob.headers, json={"refresh_token": bob.refresh_token})
        assert response.status_code == 204

        async def keep_busy() -> None:  # a notification every 50 ms, faster than the heartbeat
            for fan in fans:
                await follow(client, fan, bob)
                await asyncio.sleep(0.05)

        busy = asyncio.create_task(keep_busy())
        try:
            end = await asyncio.wait_for(next_event(received, kind="end"), WAIT)
            # Ended while notifications still flowed (40 of them take over 2 s; the check is due every 0.3 s).
            assert not busy.done()
        finally:
            await busy
    assert json.loads(end.data) == {"reason": "session-ended"}


async def test_malformed_messages_on_the_channel_are_ignored(
    app: FastAPI, client: AsyncClient, http: httpx.AsyncClient, live_url: str
) -> None:
    alice, bob = await make_account(client), await make_account(client)
    async with stream(http, stream_url(live_url, bob), headers=bob.headers) as received:
        async with app.state.database.engine.begin() as connection:
            for payload in ("hello", "1 2", "x y {}", f"{bob.id} nope {{}}"):
                await connection.execute(text("SELECT pg_notify('townsquare_notification', :p)"), {"p": payload})
        await follow(client, alice, bob)
        event = await asyncio.wait_for(next_event(received), WAIT)
    assert json.loads(event.data)["actor"]["id"] == alice.id
    assert app.state.hub.listening.is_set()
