"""Mastodon's WebSocket stream, over real HTTP: the token as subprotocol (echoed), `?stream=`,
subscribe messages, and `notification`, `update`, `status.update` and `delete` frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from httpx import AsyncClient
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.fixtures.accounts import make_account
from tests.fixtures.mastodon import token_for


def _ws(live_url: str) -> str:
    return live_url.replace("http://", "ws://") + "/api/v1/streaming"


async def _frame(socket: ClientConnection, *, event: str | None = None, seconds: float = 10) -> dict[str, Any]:
    """The next frame (of that event, if given)."""
    async with asyncio.timeout(seconds):
        while True:
            frame: dict[str, Any] = json.loads(await socket.recv())
            if event is None or frame.get("event") == event:
                return frame


async def _subscribed(socket: ClientConnection, stream: str) -> None:
    await socket.send(json.dumps({"type": "subscribe", "stream": stream}))
    await asyncio.sleep(0.3)  # the server reads it before the next write


async def test_websocket_delivers_notifications_and_home_updates(client: AsyncClient, live_url: str) -> None:
    alice, bob = await make_account(client), await make_account(client)
    token = await token_for(client, alice)
    async with connect(_ws(live_url) + "?stream=user", subprotocols=[token.access_token]) as socket:  # type: ignore[list-item]
        assert socket.subprotocol == token.access_token  # echoed, as browsers require
        await asyncio.sleep(0.3)
        await client.post(f"/users/{alice.id}/follow", headers=bob.headers)
        notification = await _frame(socket, event="notification")
        assert notification["stream"] == ["user"]
        payload = json.loads(notification["payload"])
        assert payload["type"] == "follow"
        assert payload["account"]["acct"] == bob.username
        # alice follows bob: his new post, its edit and its deletion reach her home stream
        await client.post(f"/users/{bob.id}/follow", headers=alice.headers)
        await asyncio.sleep(0.1)
        post = (await client.post("/posts", headers=bob.headers, json={"content": "live"})).json()
        update = await _frame(socket, event="update")
        assert json.loads(update["payload"])["id"] == post["id"]
        await client.put(f"/posts/{post['id']}", headers=bob.headers, json={"content": "live, edited"})
        edited = await _frame(socket, event="status.update")
        assert json.loads(edited["payload"])["content"] == "<p>live, edited</p>"
        await client.delete(f"/posts/{post['id']}", headers=bob.headers)
        deleted = await _frame(socket, event="delete")
        assert deleted["payload"] == post["id"]


async def test_websocket_subscriptions_and_errors(client: AsyncClient, live_url: str) -> None:
    alice, bob = await make_account(client), await make_account(client)
    token = await token_for(client, alice)
    async with connect(_ws(live_url) + f"?access_token={token.access_token}") as socket:
        await socket.send(json.dumps({"type": "subscribe", "stream": "hashtag:nope"}))
        assert await _frame(socket) == {"error": "Unknown stream type", "status": 400}
        await _subscribed(socket, "public:local")
        post = (await client.post("/posts", headers=bob.headers, json={"content": "for everyone"})).json()
        update = await _frame(socket, event="update")
        assert update["stream"] == ["public:local"]
        assert json.loads(update["payload"])["id"] == post["id"]
        await socket.send(json.dumps({"type": "unsubscribe", "stream": "public:local"}))
        await _subscribed(socket, "user:notification")
        await client.post("/posts", headers=bob.headers, json={"content": "not for this stream any more"})
        await client.post(f"/posts/{post['id']}/likes", headers=alice.headers)  # her own like: no notification
        await client.post(f"/users/{alice.id}/follow", headers=bob.headers)
        frame = await _frame(socket)
        assert frame["event"] == "notification"  # the post above was not sent: no longer subscribed
        assert frame["stream"] == ["user:notification"]


async def test_websocket_refuses_bad_tokens_and_ends_with_the_session(client: AsyncClient, live_url: str) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(_ws(live_url) + "?stream=user", subprotocols=["not-a-token"]):  # type: ignore[list-item]
            pass
    alice = await make_account(client)
    token = await token_for(client, alice)
    async with connect(_ws(live_url) + "?stream=user", additional_headers=token.headers) as socket:
        await asyncio.sleep(0.3)
        # a password change (native API) ends every session, this app's too, and its stream
        changed = await client.post(
            "/auth/password",
            headers=alice.headers,
            json={"current_password": alice.password, "new_password": "a new password 1"},
        )
        assert changed.status_code == 204
        with pytest.raises(ConnectionClosed):
            await _until_closed(socket)


async def _until_closed(socket: ClientConnection) -> None:
    async with asyncio.timeout(10):
        while True:
            await socket.recv()


async def test_the_user_stream_carries_notifications_only_for_tokens_that_may_read_them(
    client: AsyncClient, live_url: str
) -> None:
    alice, bob = await make_account(client), await make_account(client)
    statuses_only = await token_for(client, alice, scope="read:statuses")
    await client.post(f"/users/{bob.id}/follow", headers=alice.headers)
    async with connect(_ws(live_url) + "?stream=user", subprotocols=[statuses_only.access_token]) as socket:  # type: ignore[list-item]
        await asyncio.sleep(0.3)
        await client.post(f"/users/{alice.id}/follow", headers=bob.headers)  # a notification she may not read here
        post = (await client.post("/posts", headers=bob.headers, json={"content": "seen"})).json()
        frame = await _frame(socket)
        assert frame["event"] == "update"  # the follow's notification never came first
        assert json.loads(frame["payload"])["id"] == post["id"]
        await socket.send(json.dumps({"type": "subscribe", "stream": "user:notification"}))
        refused = await _frame(socket)
        assert refused == {"error": "Access token does not have the required scopes", "status": 401}


async def test_a_binary_or_nested_frame_is_a_bad_request_not_a_dropped_connection(
    client: AsyncClient, live_url: str
) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    async with connect(_ws(live_url), subprotocols=[token.access_token], max_size=None) as socket:  # type: ignore[list-item]
        await socket.send(b"\x00\x01")
        assert await _frame(socket) == {"error": "Bad request", "status": 400}
        await socket.send("[" * 100_000)
        assert await _frame(socket) == {"error": "Bad request", "status": 400}
        await _subscribed(socket, "public")  # still open, still serving
        bob = await make_account(client)
        post = (await client.post("/posts", headers=bob.headers, json={"content": "after the junk"})).json()
        assert json.loads((await _frame(socket, event="update"))["payload"])["id"] == post["id"]


async def test_the_streams_carry_nothing_from_muted_or_blocked_accounts(client: AsyncClient, live_url: str) -> None:
    """townsquare.visibility on the WebSocket: neither the public timeline nor notifications carry
    an account the viewer muted or blocked (or one that blocked the viewer)."""
    ann, muted, blocked, blocker, dan = [
        await make_account(client, name) for name in ("ann_sm", "muted_sm", "blocked_sm", "blocker_sm", "dan_sm")
    ]
    ann_post = (await client.post("/posts", headers=ann.headers, json={"content": "ann's"})).json()
    assert (await client.post(f"/users/{muted.id}/mute", headers=ann.headers)).status_code == 204
    assert (await client.post(f"/users/{blocked.id}/block", headers=ann.headers)).status_code == 204
    assert (await client.post(f"/users/{ann.id}/block", headers=blocker.headers)).status_code == 204
    token = await token_for(client, ann)
    async with connect(_ws(live_url) + "?stream=user", subprotocols=[token.access_token]) as socket:  # type: ignore[list-item]
        await _subscribed(socket, "public:local")
        for author in (muted, blocked, blocker):
            await client.post("/posts", headers=author.headers, json={"content": f"by {author.username}"})
        await client.post(f"/posts/{ann_post['id']}/likes", headers=muted.headers)  # a muted like: no notification
        await client.post(f"/posts/{ann_post['id']}/comments", headers=muted.headers, json={"content": "hi"})
        seen = (await client.post("/posts", headers=dan.headers, json={"content": "by dan"})).json()
        await client.post(f"/users/{ann.id}/follow", headers=dan.headers)
        first = await _frame(socket)
        assert (first["event"], json.loads(first["payload"])["id"]) == ("update", seen["id"])
        second = await _frame(socket)
        assert second["event"] == "notification"
        assert json.loads(second["payload"])["account"]["acct"] == dan.username
