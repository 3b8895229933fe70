"""The Mastodon stream across real API processes: what is done through one process reaches a
WebSocket open on another (LISTEN/NOTIFY carries notifications and post events alike)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.fixtures.database import fresh_database
from tests.fixtures.processes import stop
from tests.notifications.test_processes import WAIT, account, api, environment


@pytest.fixture
def database(server_url: str) -> Iterator[str]:
    with fresh_database(server_url) as url:
        yield url


def _app_token(http: httpx.Client, name: str) -> str:
    app = http.post("/api/v1/apps", data={"client_name": "x", "scopes": "read write follow"}).json()
    granted = http.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": name,
            "password": "long enough password",
            "scope": "read write follow",
        },
    )
    assert granted.status_code == 200, granted.text
    token: str = granted.json()["access_token"]
    return token


def _next(socket: ClientConnection, event: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(socket.recv(timeout=WAIT))
        if frame.get("event") == event:
            return frame


def _scenario(listening_url: str, acting_url: str) -> None:
    with httpx.Client(base_url=acting_url, timeout=WAIT) as http:
        alice_id, alice = account(http, "alice")
        bob_id, bob = account(http, "bob")
        token = _app_token(http, "alice")
        assert http.post(f"/users/{bob_id}/follow", headers=alice).status_code == 200
        streaming = listening_url.replace("http://", "ws://") + "/api/v1/streaming?stream=user"
        with connect(streaming, subprotocols=[token]) as socket:  # type: ignore[list-item]
            time.sleep(0.5)  # the subscription is in place before the actions below
            assert http.post(f"/users/{alice_id}/follow", headers=bob).status_code == 200
            notification = json.loads(_next(socket, "notification")["payload"])
            post = http.post("/posts", headers=bob, json={"content": "from the other process"}).json()
            update = json.loads(_next(socket, "update")["payload"])
    assert notification["type"] == "follow"
    assert notification["account"]["id"] == bob_id
    assert update["id"] == post["id"]


async def test_a_websocket_on_one_process_gets_what_another_did(database: str, tmp_path: Path) -> None:
    env = environment(database, tmp_path)
    (first, first_url), (second, second_url) = await asyncio.gather(
        asyncio.to_thread(api, env), asyncio.to_thread(api, env)
    )
    try:
        await asyncio.to_thread(_scenario, first_url, second_url)
    finally:
        outputs = [stop(first, signal.SIGINT), stop(second, signal.SIGINT)]
    for output in outputs:
        assert "Traceback" not in output
