"""The Mastodon API through httpx, as its clients call it: paging, errors, scopes, entities."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.mastodon import OOB, create_app, password_token, status_ids, token_for
from tests.fixtures.notifications import drain
from tests.mastodon.entities import Account, Notification, Relationship, Status


def _links(response: Any) -> dict[str, dict[str, list[str]]]:
    """rel -> the query of its URL; asserts `next` comes first, as toot's parser needs."""
    header = response.headers.get("link")
    if header is None:
        return {}
    found = re.findall(r'<([^>]+)>; rel="(\w+)"', header)
    assert found[0][1] == "next"
    return {rel: parse_qs(urlsplit(url).query) for url, rel in found}


async def test_instance_documents_say_mastodon_4_2_and_our_limits(client: AsyncClient) -> None:
    for path in ("/api/v1/instance", "/api/v1/instance/"):
        v1 = (await client.get(path)).json()
        assert v1["version"].startswith("4.2.0 (compatible; Townsquare")
        assert v1["uri"] == "test"
        assert v1["configuration"]["statuses"]["max_characters"] == 500
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["domain"] == "test"
    assert "api_versions" not in v2
    assert v2["configuration"]["statuses"]["max_characters"] == 500
    assert (await client.get("/api/v1/instance/peers")).json() == []
    links = (await client.get("/.well-known/nodeinfo")).json()["links"]
    nodeinfo = (await client.get(urlsplit(links[0]["href"]).path)).json()
    assert nodeinfo["version"] == "2.0"
    assert nodeinfo["software"]["name"] == "townsquare"
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert "password" in metadata["grant_types_supported"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]


async def test_default_avatar_is_an_image(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=token.headers)).json()
    Account.model_validate(me)
    image = await client.get(urlsplit(me["avatar"]).path)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_errors_are_json_with_an_error_key(client: AsyncClient) -> None:
    missing = await client.get("/api/v1/statuses/123")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert missing.json() == {"error": "Record not found"}
    unknown = await client.get("/api/v1/no/such/thing")
    assert unknown.status_code == 404
    assert "error" in unknown.json()
    no_token = await client.get("/api/v1/timelines/home")
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"].startswith("Bearer")
    assert no_token.json() == {"error": "The access token is invalid"}
    bad = await client.get("/api/v1/timelines/home", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert "error" in bad.json()
    # the native API keeps its problem+json
    native = await client.get("/posts/123")
    assert native.headers["content-type"] == "application/problem+json"


async def test_unknown_fields_are_ignored_and_form_json_and_multipart_all_work(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    as_form = await client.post(
        "/api/v1/statuses", headers=token.headers, data={"status": "form", "sensitive": "0", "visibility": "public"}
    )
    as_json = await client.post(
        "/api/v1/statuses", headers=token.headers, json={"status": "json", "sensitive": False, "language": "en"}
    )
    as_multipart = await client.post(
        "/api/v1/statuses", headers=token.headers, data={"status": "multi"}, files={"unused": ("x.txt", b"x")}
    )
    assert [r.status_code for r in (as_form, as_json, as_multipart)] == [200, 200, 200]
    assert [r.json()["content"] for r in (as_form, as_json, as_multipart)] == [
        "<p>form</p>",
        "<p>json</p>",
        "<p>multi</p>",
    ]


async def test_content_is_escaped_html(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    text = "<script>alert('x')</script> & \"q\"\nline two\n\nnext <img src=x onerror=alert(1)>"
    status = (await client.post("/api/v1/statuses", headers=token.headers, data={"status": text})).json()
    assert status["content"] == (
        "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;<br />line two</p>"
        "<p>next &lt;img src=x onerror=alert(1)&gt;</p>"
    )
    Status.model_validate(status)


async def test_a_read_only_token_cannot_post_and_scopes_are_granular(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client)
    reader = await password_token(client, app, alice, scope="read")
    refused = await client.post("/api/v1/statuses", headers=reader.headers, data={"status": "nope"})
    assert refused.status_code == 403
    assert refused.json()["error"].startswith("This action is outside")
    assert (await client.get("/api/v1/timelines/home", headers=reader.headers)).status_code == 200
    poster = await password_token(client, app, alice, scope="write:statuses")
    assert (await client.post("/api/v1/statuses", headers=poster.headers, data={"status": "ok"})).status_code == 200
    assert (await client.get("/api/v1/timelines/home", headers=poster.headers)).status_code == 403
    follow_only = await password_token(client, app, alice, scope="follow")
    bob = await make_account(client)
    assert (await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=follow_only.headers)).status_code == 200
    # more than the app registered
    narrow = await create_app(client, scopes="read")
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": narrow.client_id,
            "client_secret": narrow.client_secret,
            "username": alice.username,
            "password": alice.password,
            "scope": "read write",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def _post_many(client: AsyncClient, token_headers: dict[str, str], count: int) -> list[str]:
    ids = []
    for number in range(count):
        response = await client.post("/api/v1/statuses", headers=token_headers, data={"status": f"post {number}"})
        ids.append(response.json()["id"])
    return ids


@pytest.mark.parametrize(
    "path", ["/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/accounts/{me}/statuses"]
)
async def test_paging_by_max_since_and_min_id_with_link_headers(client: AsyncClient, path: str) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    ids = await _post_many(client, token.headers, 7)  # oldest first
    newest_first = ids[::-1]
    path = path.format(me=alice.id)
    first = await client.get(path, headers=token.headers, params={"limit": 3})
    assert status_ids(first.json()) == newest_first[:3]
    links = _links(first)
    assert links["next"]["max_id"] == [newest_first[2]]
    assert links["prev"]["min_id"] == [newest_first[0]]
    second = await client.get(path, headers=token.headers, params={"limit": 3, "max_id": newest_first[2]})
    assert status_ids(second.json()) == newest_first[3:6]
    since = await client.get(path, headers=token.headers, params={"limit": 2, "since_id": ids[2]})
    assert status_ids(since.json()) == newest_first[:2]  # the newest above since_id
    above = await client.get(path, headers=token.headers, params={"limit": 2, "min_id": ids[2]})
    assert status_ids(above.json()) == [ids[4], ids[3]]  # just above min_id, newest first
    between = await client.get(path, headers=token.headers, params={"max_id": ids[5], "since_id": ids[2]})
    assert status_ids(between.json()) == [ids[4], ids[3]]
    # limit is clamped, not refused; the end has no Link
    assert (await client.get(path, headers=token.headers, params={"limit": 1000})).status_code == 200
    empty = await client.get(path, headers=token.headers, params={"max_id": ids[0]})
    assert empty.json() == []
    assert "link" not in empty.headers
    garbage = await client.get(path, headers=token.headers, params={"max_id": "abc"})
    assert garbage.status_code == 422
    assert "error" in garbage.json()


async def test_home_timeline_is_the_feed_with_full_statuses(client: AsyncClient) -> None:
    alice, bob, carol = [await make_account(client) for _ in range(3)]
    alice_token, bob_token = await token_for(client, alice), await token_for(client, bob)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_token.headers)
    mine = (await client.post("/api/v1/statuses", headers=bob_token.headers, data={"status": "mine"})).json()
    theirs = (await client.post("/api/v1/statuses", headers=alice_token.headers, data={"status": "hers"})).json()
    await client.post("/posts", headers=carol.headers, json={"content": "not followed"})
    home = (await client.get("/api/v1/timelines/home", headers=bob_token.headers)).json()
    assert status_ids(home) == [theirs["id"], mine["id"]]
    for status in home:
        Status.model_validate(status)
    assert home[0]["account"]["acct"] == alice.username
    assert home[0]["favourited"] is False
    # the native feed agrees
    native = (await client.get("/feed", headers=bob.headers)).json()["items"]
    assert [post["id"] for post in native] == status_ids(home)


async def test_replies_are_comments_and_threads_read_both_ways(client: AsyncClient, app: FastAPI) -> None:
    alice, bob = await make_account(client), await make_account(client)
    alice_token, bob_token = await token_for(client, alice), await token_for(client, bob)
    post = (await client.post("/api/v1/statuses", headers=alice_token.headers, data={"status": "root"})).json()
    reply = await client.post(
        "/api/v1/statuses",
        headers=bob_token.headers,
        data={"status": f"@{alice.username} hi", "in_reply_to_id": post["id"]},
    )
    assert reply.status_code == 200, reply.text
    comment = reply.json()
    Status.model_validate(comment)
    assert comment["in_reply_to_id"] == post["id"]
    assert comment["in_reply_to_account_id"] == alice.id
    assert comment["mentions"][0]["acct"] == alice.username
    assert comment["id"] != post["id"]
    native = (await client.get(f"/posts/{post['id']}/comments")).json()["items"]
    assert [c["id"] for c in native] == [comment["id"]]  # the same comment, under the same id
    context = (await client.get(f"/api/v1/statuses/{post['id']}/context")).json()
    assert context["ancestors"] == []
    # read without a token: the same status, less the viewer's flags
    viewer_flags = {"favourited", "reblogged", "muted", "bookmarked", "pinned"}
    assert context["descendants"] == [{k: v for k, v in comment.items() if k not in viewer_flags}]
    back = (await client.get(f"/api/v1/statuses/{comment['id']}/context")).json()
    assert status_ids(back["ancestors"]) == [post["id"]]
    assert back["descendants"] == []
    # a reply to the reply lands on the post
    again = (
        await client.post(
            "/api/v1/statuses", headers=alice_token.headers, data={"status": "thanks", "in_reply_to_id": comment["id"]}
        )
    ).json()
    assert again["in_reply_to_id"] == post["id"]
    assert (await client.get(f"/api/v1/statuses/{post['id']}")).json()["replies_count"] == 2
    # what comments cannot do
    assert (
        await client.post(f"/api/v1/statuses/{comment['id']}/favourite", headers=alice_token.headers)
    ).status_code == 422
    edit = await client.put(f"/api/v1/statuses/{comment['id']}", headers=bob_token.headers, data={"status": "x"})
    assert edit.status_code == 422
    too_long = await client.post(
        "/api/v1/statuses", headers=bob_token.headers, data={"status": "x" * 301, "in_reply_to_id": post["id"]}
    )
    assert too_long.status_code == 422
    assert "300" in too_long.json()["error"]
    deleted = await client.delete(f"/api/v1/statuses/{comment['id']}", headers=bob_token.headers)
    assert deleted.status_code == 200
    assert deleted.json()["text"] == f"@{alice.username} hi"
    await drain(app)


async def test_favourite_is_a_like(client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bob_token = await token_for(client, bob)
    post = (await client.post("/posts", headers=alice.headers, json={"content": "like me"})).json()
    for _ in range(2):
        liked = (await client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=bob_token.headers)).json()
        assert liked["favourited"] is True
        assert liked["favourites_count"] == 1
    assert (await client.get(f"/posts/{post['id']}", headers=bob.headers)).json()["liked_by_me"] is True
    by = (await client.get(f"/api/v1/statuses/{post['id']}/favourited_by")).json()
    assert [account["id"] for account in by] == [bob.id]
    gone = (await client.post(f"/api/v1/statuses/{post['id']}/unfavourite", headers=bob_token.headers)).json()
    assert gone["favourited"] is False
    assert gone["favourites_count"] == 0
    assert (await client.post(f"/api/v1/statuses/{post['id']}/reblog", headers=bob_token.headers)).status_code == 422


async def test_idempotency_key_makes_one_status_even_at_once(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    headers = {**token.headers, "Idempotency-Key": "retry-me"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/statuses", headers=headers, data={"status": "once"}) for _ in range(5))
    )
    assert {response.status_code for response in answers} == {200}
    assert len({response.json()["id"] for response in answers}) == 1
    assert (await client.get(f"/users/{alice.id}")).json()["posts_count"] == 1
    other = await client.post(
        "/api/v1/statuses", headers={**token.headers, "Idempotency-Key": "k2"}, data={"status": "x"}
    )
    assert other.json()["id"] != answers[0].json()["id"]


async def test_accounts_lookup_relationships_and_follows(client: AsyncClient) -> None:
    alice, bob = await make_account(client, bio="about\nme"), await make_account(client)
    alice_token, bob_token = await token_for(client, alice), await token_for(client, bob)
    found = (await client.get("/api/v1/accounts/lookup", params={"acct": alice.username})).json()
    Account.model_validate(found)
    assert found["id"] == alice.id
    assert found["note"] == "<p>about<br />me</p>"
    assert (await client.get("/api/v1/accounts/lookup", params={"acct": "nobody_here"})).status_code == 404
    relation = (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_token.headers)).json()
    Relationship.model_validate(relation)
    assert relation["following"] is True
    assert relation["followed_by"] is False
    seen = (
        await client.get(
            "/api/v1/accounts/relationships", params={"id[]": [bob.id, "999"]}, headers=alice_token.headers
        )
    ).json()
    assert [(r["id"], r["following"], r["followed_by"]) for r in seen] == [(bob.id, False, True)]
    followers = (await client.get(f"/api/v1/accounts/{alice.id}/followers")).json()
    assert [a["id"] for a in followers] == [bob.id]
    following = (await client.get(f"/api/v1/accounts/{bob.id}/following")).json()
    assert [a["id"] for a in following] == [alice.id]
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["followers_count"] == 1
    unfollowed = (await client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob_token.headers)).json()
    assert unfollowed["following"] is False
    assert (await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bob_token.headers)).status_code == 422


async def test_update_credentials_sets_the_bio(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    changed = await client.patch(
        "/api/v1/accounts/update_credentials", headers=token.headers, files={"note": (None, "new <bio>")}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["source"]["note"] == "new <bio>"
    assert changed.json()["note"] == "<p>new &lt;bio&gt;</p>"
    assert (await client.get(f"/users/{alice.id}")).json()["bio"] == "new <bio>"
    too_long = await client.patch(
        "/api/v1/accounts/update_credentials", headers=token.headers, data={"note": "x" * 301}
    )
    assert too_long.status_code == 422


async def test_notifications_types_paging_markers_and_dismiss(client: AsyncClient, app: FastAPI) -> None:
    alice, bob = await make_account(client), await make_account(client)
    alice_token, bob_token = await token_for(client, alice), await token_for(client, bob)
    post = (await client.post("/api/v1/statuses", headers=alice_token.headers, data={"status": "p"})).json()
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_token.headers)
    await client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=bob_token.headers)
    await client.post("/api/v1/statuses", headers=bob_token.headers, data={"status": "c", "in_reply_to_id": post["id"]})
    await drain(app)
    listed = await client.get("/api/v1/notifications", headers=alice_token.headers)
    items = listed.json()
    assert [n["type"] for n in items] == ["mention", "favourite", "follow"]
    for item in items:
        Notification.model_validate(item)
    assert items[0]["status"]["in_reply_to_id"] == post["id"]
    assert items[1]["status"]["id"] == post["id"]
    assert "status" not in items[2]
    only = await client.get("/api/v1/notifications", headers=alice_token.headers, params={"types[]": ["favourite"]})
    assert [n["type"] for n in only.json()] == ["favourite"]
    without = await client.get(
        "/api/v1/notifications", headers=alice_token.headers, params={"exclude_types[]": ["mention"]}
    )
    assert [n["type"] for n in without.json()] == ["favourite", "follow"]
    page = await client.get("/api/v1/notifications", headers=alice_token.headers, params={"limit": 1})
    rest = await client.get(
        "/api/v1/notifications", headers=alice_token.headers, params={"max_id": _links(page)["next"]["max_id"][0]}
    )
    assert [n["id"] for n in rest.json()] == [items[1]["id"], items[2]["id"]]
    newer = await client.get("/api/v1/notifications", headers=alice_token.headers, params={"since_id": items[2]["id"]})
    assert [n["id"] for n in newer.json()] == [items[0]["id"], items[1]["id"]]
    # markers and read flags are one state
    for version in ("v1", "v2"):
        counted = await client.get(f"/api/{version}/notifications/unread_count", headers=alice_token.headers)
        assert counted.json() == {"count": 3}
    marked = await client.post(
        "/api/v1/markers", headers=alice_token.headers, data={"notifications[last_read_id]": items[1]["id"]}
    )
    assert marked.json()["notifications"]["last_read_id"] == items[1]["id"]
    native = (await client.get(f"/users/{alice.id}/notifications", headers=alice.headers)).json()["items"]
    assert [n["read"] for n in native] == [False, True, True]
    await client.post(f"/users/{alice.id}/notifications/read", headers=alice.headers, json={"all": True})
    marker = (
        await client.get("/api/v1/markers", headers=alice_token.headers, params={"timeline[]": ["notifications"]})
    ).json()
    assert marker["notifications"]["last_read_id"] == items[0]["id"]
    # one, dismiss, clear
    one = await client.get(f"/api/v1/notifications/{items[2]['id']}", headers=alice_token.headers)
    assert one.json()["type"] == "follow"
    assert (await client.get(f"/api/v1/notifications/{items[2]['id']}", headers=bob_token.headers)).status_code == 404
    assert (
        await client.post(f"/api/v1/notifications/{items[2]['id']}/dismiss", headers=alice_token.headers)
    ).json() == {}
    assert len((await client.get("/api/v1/notifications", headers=alice_token.headers)).json()) == 2
    assert (await client.post("/api/v1/notifications/clear", headers=alice_token.headers)).json() == {}
    assert (await client.get("/api/v1/notifications", headers=alice_token.headers)).json() == []


async def test_search_v2_with_offset_paging(client: AsyncClient) -> None:
    alice = await make_account(client, "searchable_alice")
    token = await token_for(client, alice)
    for number in range(3):
        await client.post("/api/v1/statuses", headers=token.headers, data={"status": f"running marathon {number}"})
    found = (await client.get("/api/v2/search", params={"q": "marathon"})).json()
    assert set(found) == {"accounts", "statuses", "hashtags"}
    assert len(found["statuses"]) == 3
    first = (await client.get("/api/v2/search", params={"q": "run", "type": "statuses", "limit": 2})).json()
    second = (
        await client.get("/api/v2/search", params={"q": "run", "type": "statuses", "limit": 2, "offset": 2})
    ).json()
    assert len(first["statuses"]) == 2
    assert len(second["statuses"]) == 1
    assert not set(status_ids(first["statuses"])) & set(status_ids(second["statuses"]))
    people = (await client.get("/api/v2/search", params={"q": "searchable_alice", "type": "accounts"})).json()
    assert [a["acct"] for a in people["accounts"]] == ["searchable_alice"]
    for q in ("", "   ", "x" * 500, "https://elsewhere.example/@someone"):
        empty = await client.get("/api/v2/search", params={"q": q, "resolve": "true"})
        assert empty.status_code == 200
    assert (await client.get("/api/v2/search", params={"q": "marathon", "type": "hashtags"})).json()["hashtags"] == []


async def test_authorization_code_flow_with_pkce_state_and_a_single_use_code(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client, redirect_uris="https://app.example/callback")
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": "https://app.example/callback",
        "scope": "read write",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = await client.get("/oauth/authorize", params=query)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "test app" in page.text
    assert '<form method="post"' in page.text
    wrong = await client.post("/oauth/authorize", data={**query, "login": alice.email, "password": "wrong password"})
    assert wrong.status_code == 401
    assert "Incorrect" in wrong.text
    approved = await client.post("/oauth/authorize", data={**query, "login": alice.email, "password": alice.password})
    assert approved.status_code == 303
    location = urlsplit(approved.headers["location"])
    assert location.netloc == "app.example"
    assert parse_qs(location.query)["state"] == ["xyz"]
    code = parse_qs(location.query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": "https://app.example/callback",
    }
    no_verifier = await client.post("/oauth/token", data=exchange)
    assert no_verifier.status_code == 400
    assert no_verifier.json()["error"] == "invalid_grant"
    # the failed exchange used the code up: a new one, then the right verifier (as JSON, as Elk sends)
    approved = await client.post(
        "/oauth/authorize", data={**query, "login": alice.username, "password": alice.password}
    )
    exchange["code"] = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    token = await client.post("/oauth/token", json={**exchange, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "read write"
    assert token.json()["token_type"] == "Bearer"
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).json()["id"] == alice.id
    reused = await client.post("/oauth/token", json={**exchange, "code_verifier": verifier})
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


async def test_authorize_refuses_unregistered_redirects_with_a_page_not_a_redirect(client: AsyncClient) -> None:
    app = await create_app(client, redirect_uris="https://app.example/callback")
    for redirect in ("https://evil.example/steal", OOB):
        page = await client.get(
            "/oauth/authorize", params={"response_type": "code", "client_id": app.client_id, "redirect_uri": redirect}
        )
        assert page.status_code == 400
        assert "location" not in page.headers
        assert "not one this app registered" in page.text
    unknown = await client.get("/oauth/authorize", params={"response_type": "code", "client_id": "nope"})
    assert unknown.status_code == 400
    assert "Unknown app" in unknown.text


async def test_oob_shows_the_code_on_the_page(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client)
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": OOB, "scope": "read"}
    page = await client.post("/oauth/authorize/", data={**query, "login": alice.username, "password": alice.password})
    code = re.search(r'<code id="code">([^<]+)</code>', page.text)
    assert page.status_code == 200
    assert code is not None
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": OOB,
        },
    )
    assert token.status_code == 200
    assert token.json()["scope"] == "read"


async def test_app_tokens_end_with_logout_password_change_revoke_and_refresh(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client)
    first, second = await password_token(client, app, alice), await password_token(client, app, alice)
    me = "/api/v1/accounts/verify_credentials"
    # revoke ends the one token only, and is idempotent
    body = {"client_id": app.client_id, "client_secret": app.client_secret, "token": first.access_token}
    assert (await client.post("/oauth/revoke", data=body)).json() == {}
    assert (await client.post("/oauth/revoke", data=body)).json() == {}
    assert (await client.get(me, headers=first.headers)).status_code == 401
    assert (await client.get(me, headers=second.headers)).status_code == 200
    # another app cannot revoke it
    other = await create_app(client)
    foreign = {"client_id": other.client_id, "client_secret": other.client_secret, "token": second.access_token}
    assert (await client.post("/oauth/revoke", data=foreign)).status_code == 403
    # refresh: the old access token stops, the new one works
    assert second.refresh_token is not None
    refreshed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": second.refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    new_headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await client.get(me, headers=second.headers)).status_code == 401
    assert (await client.get(me, headers=new_headers)).status_code == 200
    # a password change (native API) ends every app token too
    changed = await client.post(
        "/auth/password",
        headers=alice.headers,
        json={"current_password": alice.password, "new_password": "another one 123"},
    )
    assert changed.status_code == 204
    assert (await client.get(me, headers=new_headers)).status_code == 401


async def test_logout_and_account_deletion_end_app_tokens(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    native = await client.post("/auth/login", data={"username": alice.username, "password": alice.password})
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=token.headers)).status_code == 200
    delete = await client.request("DELETE", "/users/me", headers=alice.headers, json={"password": alice.password})
    assert delete.status_code == 204
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=token.headers)).status_code == 401
    assert native.status_code == 200


async def test_wrong_client_or_grant_are_oauth_errors(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client)
    wrong_secret = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app.client_id,
            "client_secret": "nope",
            "username": alice.username,
            "password": alice.password,
        },
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    wrong_password = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "username": alice.username,
            "password": "not it at all",
        },
    )
    assert wrong_password.status_code == 400
    assert wrong_password.json()["error"] == "invalid_grant"
    basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    unsupported = await client.post(
        "/oauth/token", headers={"Authorization": f"Basic {basic}"}, data={"grant_type": "implicit"}
    )
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"


async def test_registration_through_an_app_token(client: AsyncClient) -> None:
    app = await create_app(client)
    credentials = {"client_id": app.client_id, "client_secret": app.client_secret}
    app_token = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "read write follow push", **credentials}
    )
    assert app_token.status_code == 200
    headers = {"Authorization": f"Bearer {app_token.json()['access_token']}"}
    assert (await client.get("/api/v1/apps/verify_credentials", headers=headers)).json()["name"] == "test app"
    # an app's own token is no user
    assert (await client.get("/api/v1/timelines/home", headers=headers)).status_code == 422
    form = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password": "long enough pw",
        "agreement": "1",
        "locale": "en",
    }
    created = await client.post("/api/v1/accounts", headers=headers, data=form)
    assert created.status_code == 200, created.text
    user_headers = {"Authorization": f"Bearer {created.json()['access_token']}"}
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=user_headers)).json()
    assert me["username"] == "newcomer"
    taken = await client.post("/api/v1/accounts", headers=headers, data=form)
    assert taken.status_code == 422
    assert "taken" in taken.json()["error"]
    no_agreement = await client.post("/api/v1/accounts", headers=headers, data={**form, "agreement": "0"})
    assert no_agreement.status_code == 422


async def test_disabled_features_answer_like_mastodon(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice)
    for path in (
        "/api/v1/lists",
        "/api/v1/filters",
        "/api/v1/custom_emojis",
        "/api/v1/bookmarks",
        "/api/v1/trends/tags",
    ):
        response = await client.get(path, headers=token.headers)
        assert (response.status_code, response.json()) == (200, []), path
    poll = await client.post(
        "/api/v1/statuses", headers=token.headers, json={"status": "q", "poll": {"options": ["a"]}}
    )
    assert poll.status_code == 422
    media = await client.post("/api/v1/statuses", headers=token.headers, data={"status": "q", "media_ids[]": ["1"]})
    assert media.status_code == 422
    assert (await client.get("/api/v1/push/subscription", headers=token.headers)).status_code == 404
    upload = await client.post("/api/v2/media", headers=token.headers, files={"file": ("a.png", b"\x89PNG")})
    assert upload.status_code == 422
    assert "media" in upload.json()["error"]
    assert (await client.get("/api/v1/preferences", headers=token.headers)).json()[
        "posting:default:visibility"
    ] == "public"


async def test_cors_is_open_on_the_mastodon_api_only(client: AsyncClient) -> None:
    preflight = await client.options(
        "/api/v1/timelines/home",
        headers={
            "Origin": "https://phanpy.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,idempotency-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    answer = await client.get("/api/v1/instance", headers={"Origin": "https://phanpy.example"})
    assert "Link" in answer.headers["access-control-expose-headers"]
    native = await client.get("/healthz", headers={"Origin": "https://phanpy.example"})
    assert "access-control-allow-origin" not in native.headers


async def test_accounts_search_for_autocompletion(client: AsyncClient) -> None:
    alice = await make_account(client, "autocomplete_me")
    token = await token_for(client, alice)
    found = (await client.get("/api/v1/accounts/search", params={"q": "@autocomplete", "resolve": "true"})).json()
    assert [account["acct"] for account in found] == ["autocomplete_me"]
    Account.model_validate(found[0])
    assert (await client.get("/api/v1/accounts/search", params={"q": ""})).json() == []
    familiar = await client.get("/api/v1/accounts/familiar_followers", params={"id[]": alice.id}, headers=token.headers)
    assert familiar.json() == []


async def test_empty_features_answer_tokens_with_granular_scopes(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await token_for(client, alice, scope="read:lists read:filters")
    assert (await client.get("/api/v1/lists", headers=token.headers)).json() == []
    assert (await client.get("/api/v2/filters", headers=token.headers)).json() == []
    assert (await client.get("/api/v1/bookmarks", headers=token.headers)).status_code == 403
