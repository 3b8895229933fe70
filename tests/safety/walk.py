"""A walk over every read endpoint, native and Mastodon, that says where one account's traces
show to a viewer: the test of the visibility rule (townsquare.visibility) for blocks, mutes
and suspensions alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.mastodon import Token, token_for
from tests.fixtures.notifications import drain

# Every place the walk looks, by name.
PROFILE = {"profile", "their posts", "their post", "m:account", "m:lookup", "m:statuses", "m:status"}
LISTS = {"their post's comments", "their post's likers", "like on a third post", "followers", "following"}
LISTS |= {"m:favourited_by", "m:followers", "m:relationship"}
FEEDS = {"feed", "m:home", "m:public"}
SEARCH = {"search users", "search posts", "m:search"}
COMMENTS = {"comment on a third post", "m:context"}
NOTIFICATIONS = {"notifications", "unread count", "m:notifications"}
EVERYWHERE = PROFILE | LISTS | FEEDS | SEARCH | COMMENTS | NOTIFICATIONS
# What an anonymous visitor can look at.
PUBLIC = EVERYWHERE - {"feed", "m:home", "m:relationship"} - NOTIFICATIONS


@dataclass
class World:
    """`viewer` and `other` follow each other and a third user (who follows both back), and
    each liked and commented on the other's post and on the third user's: every kind of trace."""

    viewer: Account
    other: Account
    third: Account
    viewer_post: str
    other_post: str
    third_post: str
    tokens: dict[str, Token]  # Mastodon API tokens, by account id


async def world(app: FastAPI, client: AsyncClient, prefix: str) -> World:
    viewer = await make_account(client, f"{prefix}_viewer", bio="shared bio")
    other = await make_account(client, f"{prefix}_other", bio="shared bio")
    third = await make_account(client, f"{prefix}_third")
    await follow(client, viewer, other)
    await follow(client, other, viewer)
    for account in (viewer, other):
        await follow(client, account, third)
        await follow(client, third, account)
    viewer_post = await post(client, viewer, "shared words of the viewer")
    other_post = await post(client, other, "shared words of the other")
    third_post = await post(client, third, "a third post")
    for account, their_post in ((viewer, other_post), (other, viewer_post)):
        for target in (their_post["id"], third_post["id"]):
            liked = await client.post(f"/posts/{target}/likes", headers=account.headers)
            assert liked.status_code == 200, liked.text
            written = {"content": f"from {account.username}"}
            commented = await client.post(f"/posts/{target}/comments", headers=account.headers, json=written)
            assert commented.status_code == 201, commented.text
    await drain(app)
    return World(
        viewer,
        other,
        third,
        viewer_post["id"],
        other_post["id"],
        third_post["id"],
        {account.id: await token_for(client, account) for account in (viewer, other, third)},
    )


async def traces(client: AsyncClient, w: World, *, of: Account, seen_by: Account | None) -> set[str]:
    """Where `of` (its account or content) shows to `seen_by` (None: an anonymous visitor)."""
    own_post = w.other_post if of is w.other else w.viewer_post
    headers = seen_by.headers if seen_by else {}
    m_headers = w.tokens[seen_by.id].headers if seen_by else {}
    seen: set[str] = set()

    async def shows(name: str, path: str, **params: Any) -> None:
        if (await client.get(path, headers=headers, params=params)).status_code != 404:
            seen.add(name)

    async def listed(name: str, path: str, found: Any, **params: Any) -> None:
        answer = await client.get(path, headers=headers, params=params)
        assert answer.status_code == 200, (path, answer.text)
        if found(answer.json()):
            seen.add(name)

    def has(items: list[dict[str, Any]], key: str = "id") -> bool:
        return any((item[key]["id"] if key != "id" else item["id"]) == of.id for item in items)

    await shows("profile", f"/users/{of.id}")
    await shows("their posts", f"/users/{of.id}/posts")
    await shows("their post", f"/posts/{own_post}")
    await shows("their post's comments", f"/posts/{own_post}/comments")
    await shows("their post's likers", f"/posts/{own_post}/likes")
    await listed("comment on a third post", f"/posts/{w.third_post}/comments", lambda b: has(b["items"], "author"))
    await listed("like on a third post", f"/posts/{w.third_post}/likes", lambda b: has(b["items"]))
    await listed("followers", f"/users/{w.third.id}/followers", lambda b: has(b["items"]))
    await listed("following", f"/users/{w.third.id}/following", lambda b: has(b["items"]))
    await listed("search users", "/search", lambda b: has(b["users"]), q="shared")
    await listed("search posts", "/search", lambda b: has(b["posts"], "author"), q="shared")
    if seen_by is not None:
        await listed("feed", "/feed", lambda b: has(b["items"], "author"))
        notes = await client.get("/users/me/notifications", headers=headers, params={"limit": 100})
        if has(notes.json()["items"], "actor"):
            seen.add("notifications")
        unread = (await client.get("/users/me/notifications/unread_count", headers=headers)).json()["count"]
        # Counted with `of`'s notifications: more than the unread ones of everyone else.
        if unread > sum(not n["read"] and n["actor"]["id"] != of.id for n in notes.json()["items"]):
            seen.add("unread count")
    seen |= await _mastodon_traces(client, w, of=of, own_post=own_post, headers=m_headers, signed_in=bool(seen_by))
    return seen


async def _mastodon_traces(
    client: AsyncClient, w: World, *, of: Account, own_post: str, headers: dict[str, str], signed_in: bool
) -> set[str]:
    seen: set[str] = set()

    async def get(path: str, **params: Any) -> Any:
        return await client.get(path, headers=headers, params=params)

    def accounts(answer: Any) -> bool:
        return any(account["id"] == of.id for account in answer.json())

    def statuses(answer: Any) -> bool:
        return any(status["account"]["id"] == of.id for status in answer.json())

    for name, path in (
        ("m:account", f"/api/v1/accounts/{of.id}"),
        ("m:statuses", f"/api/v1/accounts/{of.id}/statuses"),
        ("m:status", f"/api/v1/statuses/{own_post}"),
    ):
        if (await get(path)).status_code != 404:
            seen.add(name)
    if (await get("/api/v1/accounts/lookup", acct=of.username)).status_code != 404:
        seen.add("m:lookup")
    context = (await get(f"/api/v1/statuses/{w.third_post}/context")).json()
    if any(status["account"]["id"] == of.id for status in context["descendants"]):
        seen.add("m:context")
    if accounts(await get(f"/api/v1/statuses/{w.third_post}/favourited_by")):
        seen.add("m:favourited_by")
    if accounts(await get(f"/api/v1/accounts/{w.third.id}/followers")):
        seen.add("m:followers")
    if statuses(await get("/api/v1/timelines/public")):
        seen.add("m:public")
    found = (await get("/api/v2/search", q="shared")).json()
    if any(a["id"] == of.id for a in found["accounts"]) or any(s["account"]["id"] == of.id for s in found["statuses"]):
        seen.add("m:search")
    if signed_in:
        if statuses(await get("/api/v1/timelines/home")):
            seen.add("m:home")
        notes = (await get("/api/v1/notifications")).json()
        if any(note["account"]["id"] == of.id for note in notes):
            seen.add("m:notifications")
        if any(r["id"] == of.id for r in (await get("/api/v1/accounts/relationships", **{"id[]": of.id})).json()):
            seen.add("m:relationship")
    return seen
