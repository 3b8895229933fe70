"""Reports and moderation: the moderator role (the command line only), the reports queue,
removing content, suspending accounts (sessions end at once, no login, hidden everywhere until
lifted), the audit log, exact counts under all of it, and nobody else moderating."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import post
from tests.fixtures.counters import assert_counters_match_rows, assert_post_counters_match_rows
from tests.fixtures.mastodon import create_app, token_for
from tests.safety import walk


def townsquare_admin(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "townsquare", "admin", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def grant(database_url: str, account: Account) -> None:
    done = townsquare_admin(database_url, "grant-moderator", account.username)
    assert done.returncode == 0, done.stderr
    assert f"{account.username} (id {account.id}) is now a moderator" in done.stdout


async def report(client: AsyncClient, reporter: Account, **body: Any) -> dict[str, Any]:
    made = await client.post("/reports", headers=reporter.headers, json={"reason": "spam", **body})
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    return answer


def moderation_calls(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every moderation endpoint, with a body where it takes one."""
    return [
        ("GET", "/moderation/reports", {}),
        ("GET", f"/moderation/reports/{ids['report']}", {}),
        ("POST", f"/moderation/reports/{ids['report']}/resolve", {"json": {"note": "done"}}),
        ("DELETE", f"/moderation/comments/{ids['comment']}", {}),
        ("DELETE", f"/moderation/posts/{ids['post']}", {}),
        ("GET", f"/moderation/users/{ids['user']}", {}),
        ("PUT", f"/moderation/users/{ids['user']}/suspension", {"json": {"reason": "abuse"}}),
        ("DELETE", f"/moderation/users/{ids['user']}/suspension", {}),
        ("GET", "/moderation/audit", {}),
    ]


async def test_only_moderators_moderate_and_only_the_command_line_makes_them(
    app: FastAPI, client: AsyncClient, database_url: str
) -> None:
    mod, ann, bob = [await make_account(client, name) for name in ("mod_a", "ann_a", "bob_a")]
    bobs = await post(client, bob, "bob's post")
    comment = (await client.post(f"/posts/{bobs['id']}/comments", headers=bob.headers, json={"content": "c"})).json()
    made = await report(client, ann, post_id=bobs["id"])
    ids = {"report": made["id"], "post": bobs["id"], "comment": comment["id"], "user": bob.id}
    documented = app.openapi()["paths"]
    operations = [
        (path, method) for path, item in documented.items() if path.startswith("/moderation") for method in item
    ]
    assert len(operations) == len(moderation_calls(ids))  # the list below covers every endpoint
    for account in (ann, bob, mod):  # a user, the reported one, a moderator-to-be
        for method, path, kwargs in moderation_calls(ids):
            answer = await client.request(method, path, headers=account.headers, **kwargs)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["type"].endswith("not-moderator")
            anonymous = await client.request(method, path, **kwargs)
            assert anonymous.status_code == 401, (method, path)
    assert (await client.get(f"/posts/{bobs['id']}")).status_code == 200  # nothing was done
    # No API grants the role: profile updates cannot carry it.
    refused = await client.put(f"/users/{mod.id}", headers=mod.headers, json={"role": "moderator"})
    assert refused.status_code == 422
    grant(database_url, mod)
    for method, path, kwargs in moderation_calls(ids):
        answer = await client.request(method, path, headers=mod.headers, **kwargs)
        assert answer.status_code in (200, 204), (method, path, answer.text)
    unknown = townsquare_admin(database_url, "grant-moderator", "nobody_at_all")
    assert unknown.returncode != 0
    assert "no account has the username or email 'nobody_at_all'" in unknown.stderr + unknown.stdout
    revoked = townsquare_admin(database_url, "revoke-moderator", mod.email)
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/moderation/reports", headers=mod.headers)).status_code == 403
    # The role's grant and revocation are in the audit log too.
    grant(database_url, ann)
    audit = (await client.get("/moderation/audit", headers=ann.headers, params={"limit": 100})).json()["items"]
    actions = [(entry["action"], entry["moderator"]) for entry in audit]
    assert actions[0] == ("grant-moderator", "(command line)")
    assert ("revoke-moderator", "(command line)") in actions
    assert ("suspend", "mod_a") in actions


async def test_reports_and_the_queue(app: FastAPI, client: AsyncClient, database_url: str) -> None:
    mod, ann, bob, cid = [await make_account(client, name) for name in ("mod_r", "ann_r2", "bob_r2", "cid_r2")]
    grant(database_url, mod)
    bobs = await post(client, bob, "something rude")
    comment = (
        await client.post(f"/posts/{bobs['id']}/comments", headers=bob.headers, json={"content": "rude too"})
    ).json()
    # One target, a reason, nothing else.
    for bad in (
        {"reason": "spam"},
        {"reason": "spam", "account_id": bob.id, "post_id": bobs["id"]},
        {"reason": "   ", "account_id": bob.id},
        {"reason": "x" * 1001, "account_id": bob.id},
        {"reason": "spam", "account_id": "0"},
        {"reason": "spam", "account_id": "99999999999999999999"},
        {"reason": "spam", "account_id": bob.id, "severity": "high"},
    ):
        answer = await client.post("/reports", headers=ann.headers, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.post("/reports", json={"reason": "spam", "account_id": bob.id})).status_code == 401
    own = await client.post("/reports", headers=bob.headers, json={"reason": "me", "post_id": bobs["id"]})
    assert own.status_code == 422
    assert (await client.post("/reports", headers=ann.headers, json={"reason": "?", "post_id": "1"})).status_code == 404
    # What a block hides cannot be reported either (it does not exist for you).
    assert (await client.post(f"/users/{cid.id}/block", headers=bob.headers)).status_code == 204
    hidden = await client.post("/reports", headers=cid.headers, json={"reason": "?", "post_id": bobs["id"]})
    assert hidden.status_code == 404

    of_account = await report(client, ann, account_id=bob.id)
    of_post = await report(client, ann, post_id=bobs["id"], reason="insults")
    of_comment = await report(client, ann, comment_id=comment["id"])
    assert (of_post["account_id"], of_post["post_id"], of_post["reason"]) == (bob.id, bobs["id"], "insults")
    assert (of_comment["account_id"], of_comment["comment_id"]) == (bob.id, comment["id"])
    assert "reporter" not in of_post  # the reporter's view
    assert "status" not in of_post
    # The reported text is kept as it was.
    edited = await client.put(f"/posts/{bobs['id']}", headers=bob.headers, json={"content": "something nice"})
    assert edited.status_code == 200
    queue = (await client.get("/moderation/reports", headers=mod.headers)).json()["items"]
    assert [item["id"] for item in queue] == [of_comment["id"], of_post["id"], of_account["id"]]
    assert [item["content"] for item in queue] == ["rude too", "something rude", None]
    assert {(item["reporter"]["username"], item["account"]["username"], item["status"]) for item in queue} == {
        ("ann_r2", "bob_r2", "open")
    }
    resolved = await client.post(
        f"/moderation/reports/{of_post['id']}/resolve", headers=mod.headers, json={"note": "warned"}
    )
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["resolution"], body["resolved_by"]["username"]) == ("resolved", "warned", "mod_r")
    again = await client.post(f"/moderation/reports/{of_post['id']}/resolve", headers=mod.headers)
    assert again.status_code == 409
    assert (await client.post("/moderation/reports/123/resolve", headers=mod.headers)).status_code == 404
    assert (await client.get("/moderation/reports/nope", headers=mod.headers)).status_code == 404
    open_ids = [i["id"] for i in (await client.get("/moderation/reports", headers=mod.headers)).json()["items"]]
    assert open_ids == [of_comment["id"], of_account["id"]]
    done = (await client.get("/moderation/reports", headers=mod.headers, params={"status": "resolved"})).json()
    assert [item["id"] for item in done["items"]] == [of_post["id"]]
    bad_status = await client.get("/moderation/reports", headers=mod.headers, params={"status": "closed"})
    assert bad_status.status_code == 422
    # Two moderators resolving at once: one wins, the other is told.
    answers = await asyncio.gather(
        *(client.post(f"/moderation/reports/{of_account['id']}/resolve", headers=mod.headers) for _ in range(4))
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409]


async def test_moderators_remove_posts_and_comments_and_counts_follow(
    app: FastAPI, client: AsyncClient, database_url: str
) -> None:
    mod, ann, bob = [await make_account(client, name) for name in ("mod_d", "ann_d", "bob_d")]
    grant(database_url, mod)
    bobs = await post(client, bob, "remove me")
    anns = await post(client, ann, "keep me")
    assert (await client.post(f"/posts/{bobs['id']}/likes", headers=ann.headers)).status_code == 200
    comment = (await client.post(f"/posts/{anns['id']}/comments", headers=bob.headers, json={"content": "x"})).json()
    reported = await report(client, ann, post_id=bobs["id"])
    note = {"note": "spam, report " + reported["id"]}
    assert (
        await client.request("DELETE", f"/moderation/posts/{bobs['id']}", headers=mod.headers, json=note)
    ).status_code == 204
    assert (await client.get(f"/posts/{bobs['id']}")).status_code == 404
    assert (await client.get(f"/users/{bob.id}")).json()["posts_count"] == 0
    assert (await client.delete(f"/moderation/comments/{comment['id']}", headers=mod.headers)).status_code == 204
    assert (await client.get(f"/posts/{anns['id']}")).json()["comment_count"] == 0
    for path in (f"/moderation/posts/{bobs['id']}", f"/moderation/comments/{comment['id']}", "/moderation/posts/x"):
        assert (await client.delete(path, headers=mod.headers)).status_code == 404
    # The report outlives the post, with its text.
    kept = (await client.get(f"/moderation/reports/{reported['id']}", headers=mod.headers)).json()
    assert (kept["content"], kept["post_id"]) == ("remove me", bobs["id"])
    audit = (await client.get("/moderation/audit", headers=mod.headers)).json()["items"]
    assert [(e["action"], e["moderator"], e["account_id"]) for e in audit[:2]] == [
        ("remove-comment", "mod_d", bob.id),
        ("remove-post", "mod_d", bob.id),
    ]
    assert audit[1]["note"] == note["note"]
    assert audit[1]["post_id"] == bobs["id"]
    # Removals racing new comments and likes on the same post leave its counters exact.
    target = await post(client, ann, "busy post")
    people = [await make_account(client, f"busy_{n}") for n in range(4)]
    first = [
        (await client.post(f"/posts/{target['id']}/comments", headers=p.headers, json={"content": "a"})).json()
        for p in people
    ]
    await asyncio.gather(
        *(client.delete(f"/moderation/comments/{c['id']}", headers=mod.headers) for c in first),
        *(client.post(f"/posts/{target['id']}/comments", headers=p.headers, json={"content": "b"}) for p in people),
        *(client.post(f"/posts/{target['id']}/likes", headers=p.headers) for p in people),
    )
    shown = (await client.get(f"/posts/{target['id']}")).json()
    assert (shown["comment_count"], shown["like_count"]) == (4, 4)
    await assert_post_counters_match_rows(app)


async def test_a_suspended_account_is_signed_out_refused_and_hidden_until_lifted(
    app: FastAPI, client: AsyncClient, database_url: str
) -> None:
    w = await walk.world(app, client, "sus")
    mod = await make_account(client, "mod_s")
    grant(database_url, mod)
    before = (await client.get(f"/users/{w.viewer.id}")).json()
    assert await walk.traces(client, w, of=w.other, seen_by=w.viewer) == walk.EVERYWHERE
    suspended = await client.put(
        f"/moderation/users/{w.other.id}/suspension", headers=mod.headers, json={"reason": "harassment"}
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["suspended_at"] is not None
    # Every login ends at once: native tokens, refresh tokens, Mastodon apps' tokens.
    assert (await client.get("/users/me", headers=w.other.headers)).status_code == 401
    refreshed = await client.post("/auth/refresh", json={"refresh_token": w.other.refresh_token})
    assert refreshed.status_code == 401
    masto = w.tokens[w.other.id].headers
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=masto)).status_code == 401
    # It cannot sign in, and is told why (only with the right password).
    login = await client.post("/auth/login", data={"username": w.other.username, "password": w.other.password})
    assert (login.status_code, login.json()["type"].rsplit(":", 1)[-1]) == (403, "account-suspended")
    wrong = await client.post("/auth/login", data={"username": w.other.username, "password": "not the password"})
    assert wrong.status_code == 401
    app_ = await create_app(client)
    grant_ = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app_.client_id,
            "client_secret": app_.client_secret,
            "username": w.other.username,
            "password": w.other.password,
        },
    )
    assert grant_.status_code in (400, 401, 403)
    # Hidden from everyone, signed in or not, everywhere.
    for seen_by in (w.viewer, w.third, None):
        assert await walk.traces(client, w, of=w.other, seen_by=seen_by) == set(), seen_by
    # Counts include what is hidden (see ARCHITECTURE.md): the viewer's followers are unchanged.
    after = (await client.get(f"/users/{w.viewer.id}")).json()
    assert (after["followers_count"], after["following_count"]) == (
        before["followers_count"],
        before["following_count"],
    )
    assert (await client.get(f"/posts/{w.viewer_post}")).json()["like_count"] == 1
    # Moderators still see the account; it cannot be followed meanwhile.
    seen = (await client.get(f"/moderation/users/{w.other.id}", headers=mod.headers)).json()
    assert (seen["username"], seen["role"]) == ("sus_other", "user")
    assert (await client.post(f"/users/{w.other.id}/follow", headers=mod.headers)).status_code == 404
    # A moderator cannot be suspended (the role is revoked first, on the command line).
    assert (
        await client.put(f"/moderation/users/{mod.id}/suspension", headers=mod.headers, json={"reason": "?"})
    ).status_code == 409
    assert (
        await client.put(f"/moderation/users/{w.third.id}/suspension", headers=mod.headers, json={})
    ).status_code == 422
    # Lifted: all of it is back, and it can sign in again.
    assert (await client.delete(f"/moderation/users/{w.other.id}/suspension", headers=mod.headers)).status_code == 204
    assert (await client.delete(f"/moderation/users/{w.other.id}/suspension", headers=mod.headers)).status_code == 204
    assert await walk.traces(client, w, of=w.other, seen_by=w.viewer) == walk.EVERYWHERE
    login = await client.post("/auth/login", data={"username": w.other.username, "password": w.other.password})
    assert login.status_code == 200
    audit = (await client.get("/moderation/audit", headers=mod.headers)).json()["items"]
    assert [(e["action"], e["account_id"], e["note"]) for e in audit[:2]] == [
        ("unsuspend", w.other.id, None),
        ("suspend", w.other.id, "harassment"),
    ]
    await assert_counters_match_rows(app)
    await assert_post_counters_match_rows(app)


async def test_a_login_racing_a_suspension_leaves_no_session(
    app: FastAPI, client: AsyncClient, database_url: str
) -> None:
    mod, bob = await make_account(client, "mod_lr"), await make_account(client, "bob_lr")
    grant(database_url, mod)
    for _ in range(4):
        logins = [
            client.post("/auth/login", data={"username": bob.username, "password": bob.password}) for _ in range(3)
        ]
        suspension = client.put(f"/moderation/users/{bob.id}/suspension", headers=mod.headers, json={"reason": "r"})
        *answers, suspended = await asyncio.gather(*logins, suspension)
        assert suspended.status_code == 200
        for answer in answers:
            assert answer.status_code in (200, 403), answer.text
            if answer.status_code == 200:  # made before the suspension: ended by it
                token = answer.json()["access_token"]
                me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
                assert me.status_code == 401
        lifted = await client.delete(f"/moderation/users/{bob.id}/suspension", headers=mod.headers)
        assert lifted.status_code == 204


async def test_mastodon_clients_report(client: AsyncClient, database_url: str) -> None:
    ann, bob, mod = [await make_account(client, name) for name in ("ann_mr", "bob_mr", "mod_mr")]
    grant(database_url, mod)
    bobs = await post(client, bob, "reported through an app")
    token = await token_for(client, ann)
    made = await client.post(
        "/api/v1/reports",
        headers=token.headers,
        data={"account_id": bob.id, "status_ids[]": bobs["id"], "comment": "spam", "category": "spam"},
    )
    assert made.status_code == 200, made.text
    body = made.json()
    assert (body["target_account"]["id"], body["status_ids"], body["comment"]) == (bob.id, [bobs["id"]], "spam")
    plain = await client.post("/api/v1/reports", headers=token.headers, data={"account_id": bob.id})
    assert plain.status_code == 200
    mismatch = await client.post(
        "/api/v1/reports", headers=token.headers, data={"account_id": mod.id, "status_ids[]": bobs["id"]}
    )
    assert mismatch.status_code == 422
    queue = (await client.get("/moderation/reports", headers=mod.headers)).json()["items"]
    assert [(item["post_id"], item["reason"]) for item in queue] == [(None, "(no comment)"), (bobs["id"], "spam")]
