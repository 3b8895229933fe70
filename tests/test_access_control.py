"""Who may touch what: a second user's token against the first user's objects (OWASP API1
broken object level authorization, API3 broken object property level authorization), and a
walk over every answer for things that must never be in one (API3: excessive data exposure)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.notifications import drain


class Recorder:
    """Every answer a client gets, for the walker."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.seen: list[tuple[str, str, Response]] = []

    async def __call__(self, method: str, path: str, account: Account | None = None, **kwargs: Any) -> Response:
        headers = account.headers if account else {}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        self.seen.append((method, path, response))
        return response


async def test_a_second_user_cannot_change_or_read_the_firsts_objects(app: FastAPI, client: AsyncClient) -> None:
    alice, mallory = await make_account(client, "alice"), await make_account(client, "mallory")
    alices = await post(client, alice, "alice's post")
    comment = (
        await client.post(f"/posts/{alices['id']}/comments", headers=alice.headers, json={"content": "mine"})
    ).json()
    await follow(client, mallory, alice)
    blocked, muted = await make_account(client, "quiet_blockee"), await make_account(client, "quiet_mutee")
    assert (await client.post(f"/users/{blocked.id}/block", headers=alice.headers)).status_code == 204
    assert (await client.post(f"/users/{muted.id}/mute", headers=alice.headers)).status_code == 204
    await drain(app)
    ask = Recorder(client)

    refused: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", f"/users/{alice.id}", {"json": {"bio": "pwned"}}),
        ("PUT", f"/posts/{alices['id']}", {"json": {"content": "pwned"}}),
        ("DELETE", f"/posts/{alices['id']}", {}),
        ("DELETE", f"/comments/{comment['id']}", {}),
        ("GET", f"/users/{alice.id}/notifications", {}),
        ("GET", f"/users/{alice.id}/notifications/unread_count", {}),
        ("POST", f"/users/{alice.id}/notifications/read", {"json": {"all": True}}),
        ("GET", f"/users/{alice.id}/notifications/stream", {}),
        # Whom someone blocked or muted is theirs alone.
        ("GET", f"/users/{alice.id}/blocks", {}),
        ("GET", f"/users/{alice.id}/mutes", {}),
        # Only moderators moderate (tests/safety/test_moderation.py walks every endpoint).
        ("GET", "/moderation/reports", {}),
        ("GET", "/moderation/audit", {}),
        ("GET", f"/moderation/users/{alice.id}", {}),
        ("DELETE", f"/moderation/posts/{alices['id']}", {}),
        ("DELETE", f"/moderation/comments/{comment['id']}", {}),
        ("PUT", f"/moderation/users/{alice.id}/suspension", {"json": {"reason": "pwned"}}),
    ]
    for method, path, kwargs in refused:
        response = await ask(method, path, mallory, **kwargs)
        assert response.status_code in (403, 404), (method, path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"

    # Nothing changed.
    profile = (await ask("GET", "/users/me", alice)).json()
    assert profile["bio"] == ""
    assert (await ask("GET", f"/posts/{alices['id']}")).json()["content"] == "alice's post"
    comments = (await ask("GET", f"/posts/{alices['id']}/comments")).json()["items"]
    assert [c["id"] for c in comments] == [comment["id"]]
    notifications = (await ask("GET", f"/users/{alice.id}/notifications", alice)).json()["items"]
    assert {n["read"] for n in notifications} == {False}
    assert len(notifications) == 1  # mallory's follow (alice's comment on her own post makes none)

    # `me` is always the caller, whatever the token says elsewhere.
    assert (await ask("GET", "/users/me", mallory)).json()["id"] == mallory.id

    # The walker: reads of every kind, by mallory and by nobody, then every answer checked.
    for account in (mallory, None):
        for path in (
            f"/users/{alice.id}",
            f"/users/{alice.id}/followers",
            f"/users/{alice.id}/following",
            f"/users/{alice.id}/posts",
            f"/posts/{alices['id']}",
            f"/posts/{alices['id']}/likes",
            f"/posts/{alices['id']}/comments",
            "/search?q=alice",
            "/feed",
        ):
            await ask("GET", path, account)
    await ask("GET", "/users/me", alice)  # alice's own private view: the only place her email may be
    assert (await ask("GET", "/users/me/blocks", alice)).json()["items"][0]["username"] == "quiet_blockee"
    assert (await ask("GET", "/users/me/mutes", alice)).json()["items"][0]["username"] == "quiet_mutee"
    for method, path, response in ask.seen:
        body = response.text
        if path not in ("/users/me/blocks", "/users/me/mutes"):  # alice's own lists
            assert "quiet_blockee" not in body, (method, path)
            assert "quiet_mutee" not in body, (method, path)
        assert "$argon2" not in body, (method, path)
        assert "hashed_password" not in body, (method, path)
        if path != "/users/me" or "mallory" in body:
            assert alice.email not in body, (method, path)
        if response.headers.get("content-type", "").startswith("application/json"):
            json.loads(body)  # well-formed
