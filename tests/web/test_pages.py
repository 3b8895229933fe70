"""The web client through HTTP, as a browser sends it: sign-up, sign-in, the cookie, CSRF, CSP,
escaping, posting, "load more", sign-out, and sessions ended elsewhere."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.fixtures.accounts import PASSWORD, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.notifications import drain
from tests.fixtures.sse import next_event, stream
from townsquare.app import create_app
from townsquare.config import Settings

SAME_SITE = {"Origin": "http://test", "Sec-Fetch-Site": "same-origin"}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None, html
    return found.group(1)


async def _signed_up(client: AsyncClient, name: str = "webby") -> str:
    """Sign up through the form; the client keeps the cookie. The CSRF token of the home page."""
    response = await client.post(
        "/signup",
        data={"email": f"{name}@example.com", "username": name, "password": "a long password"},
        headers=SAME_SITE,
    )
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert "townsquare_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    home = await client.get("/")
    assert "What&#39;s happening?" in home.text or "What's happening?" in home.text
    return _csrf(home.text)


async def test_a_visitor_sees_the_sign_in_page_with_a_strict_policy(client: AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert '<form method="post" action="/signin"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    for asset in ("/static/web.css", "/static/web.js"):
        assert (await client.get(asset)).status_code == 200


async def test_sign_up_post_and_see_it_in_the_feed_escaped(client: AsyncClient) -> None:
    csrf = await _signed_up(client)
    text = "<script>alert(1)</script> <img src=x onerror=alert(2)>"
    posted = await client.post("/compose", data={"content": text, "csrf": csrf}, headers=SAME_SITE)
    assert posted.status_code == 303
    home = (await client.get("/")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;" in home
    assert "<script>alert(1)" not in home
    assert "<img src=x" not in home


async def test_forms_without_the_csrf_token_or_from_elsewhere_change_nothing(client: AsyncClient) -> None:
    csrf = await _signed_up(client, "careful")
    no_token = await client.post("/compose", data={"content": "forged"}, headers=SAME_SITE)
    assert no_token.status_code == 403
    elsewhere = await client.post(
        "/compose", data={"content": "forged", "csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403
    cross_site = await client.post("/signout", data={"csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    assert "forged" not in (await client.get("/")).text
    login_csrf = await client.post(
        "/signin", data={"login": "x", "password": "y"}, headers={"Origin": "https://evil.example"}
    )
    assert login_csrf.status_code == 403


async def test_sign_in_errors_read_as_sentences(client: AsyncClient) -> None:
    account = await make_account(client)
    wrong = await client.post("/signin", data={"login": account.username, "password": "nope nope"}, headers=SAME_SITE)
    assert wrong.status_code == 401
    assert "Incorrect email, username or password." in wrong.text
    assert "application/problem+json" not in wrong.headers["content-type"]
    taken = await client.post(
        "/signup",
        data={"email": "x@example.com", "username": account.username, "password": "a long password"},
        headers=SAME_SITE,
    )
    assert taken.status_code == 409
    assert "That username is already taken." in taken.text
    short = await client.post(
        "/signup", data={"email": "y@example.com", "username": "ab", "password": "a long password"}, headers=SAME_SITE
    )
    assert short.status_code == 422
    assert "Username: 3 to 30 letters" in short.text
    right = await client.post("/signin", data={"login": account.email, "password": account.password}, headers=SAME_SITE)
    assert right.status_code == 303


async def test_too_long_posts_are_refused_with_the_draft_kept(client: AsyncClient) -> None:
    csrf = await _signed_up(client, "wordy")
    long = await client.post("/compose", data={"content": "x" * 501, "csrf": csrf}, headers=SAME_SITE)
    assert long.status_code == 422
    assert "A post holds at most 500 characters." in long.text
    assert "x" * 501 in long.text


async def test_load_more_pages_the_feed_by_cursor(client: AsyncClient) -> None:
    await _signed_up(client, "reader")
    author = await make_account(client)
    for number in range(25):
        await post(client, author, f"numbered post {number:02}")
    # follow the author through the API, as the web page for it is still to come
    login = await client.post("/auth/login", data={"username": "reader", "password": "a long password"})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.post(f"/users/{author.id}/follow", headers=headers)).status_code == 200
    first = (await client.get("/")).text
    assert "numbered post 24" in first
    assert "numbered post 04" not in first
    more = re.search(r'href="(/\?cursor=[^"]+)"', first)
    assert more is not None
    second = (await client.get(more.group(1).replace("&amp;", "&"))).text
    assert "numbered post 04" in second
    assert "numbered post 24" not in second


async def test_sign_out_and_a_password_change_end_the_web_session(client: AsyncClient) -> None:
    csrf = await _signed_up(client, "leaver")
    out = await client.post("/signout", data={"csrf": csrf}, headers=SAME_SITE)
    assert out.status_code == 303
    assert 'townsquare_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert '<form method="post" action="/signin"' in (await client.get("/")).text
    # signed in again, then the password changes through the API: the cookie stops working
    again = await client.post("/signin", data={"login": "leaver", "password": "a long password"}, headers=SAME_SITE)
    assert again.status_code == 303
    kept = again.cookies.get("townsquare_session")
    login = await client.post("/auth/login", data={"username": "leaver", "password": "a long password"})
    changed = await client.post(
        "/auth/password",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        json={"current_password": "a long password", "new_password": "another long one"},
    )
    assert changed.status_code == 204
    client.cookies.set("townsquare_session", kept or "")
    assert '<form method="post" action="/signin"' in (await client.get("/")).text


async def test_the_cookie_is_secure_over_tls(client: AsyncClient) -> None:
    response = await client.post(
        "https://test/signup",
        data={"email": "tls@example.com", "username": "tls_user", "password": "a long password"},
        headers={"Origin": "https://test"},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


async def test_profiles_follow_likes_comments_bio_and_search(client: AsyncClient) -> None:
    csrf = await _signed_up(client, "visitor")
    author = await make_account(client, "author_page", bio="<img src=x onerror=alert(1)> writes")
    written = await post(client, author, "a post to discuss")
    page = await client.get("/@author_page")
    assert page.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt; writes" in page.text
    assert "<img src=x" not in page.text
    assert "a post to discuss" in page.text
    # follow, then the author's post is in the home feed
    followed = await client.post("/@author_page/follow", data={"csrf": csrf}, headers=SAME_SITE)
    assert followed.status_code == 303
    assert "Unfollow" in (await client.get("/@author_page")).text
    assert "a post to discuss" in (await client.get("/")).text
    # like and comment on the post page
    path = f"/@author_page/{written['id']}"
    liked = await client.post(f"{path}/like", data={"csrf": csrf}, headers=SAME_SITE)
    assert liked.status_code == 303
    assert (await client.get(f"/posts/{written['id']}")).json()["like_count"] == 1
    forged = await client.post(f"{path}/unlike", data={"csrf": "0" * 64}, headers=SAME_SITE)
    assert forged.status_code == 403
    commented = await client.post(f"{path}/comment", data={"csrf": csrf, "content": "well said"}, headers=SAME_SITE)
    assert commented.status_code == 303
    shown = (await client.get(path)).text
    assert "well said" in shown
    assert "1 like" in shown
    assert "Unlike" in shown
    unliked = await client.post(f"{path}/unlike", data={"csrf": csrf}, headers=SAME_SITE)
    assert unliked.status_code == 303
    assert (await client.get(f"/posts/{written['id']}")).json()["like_count"] == 0
    # my own bio; not someone else's
    mine = await client.post(
        "/@visitor/profile", data={"csrf": csrf, "new_username": "visitor", "bio": "hello there"}, headers=SAME_SITE
    )
    assert mine.status_code == 303
    assert "hello there" in (await client.get("/@visitor")).text
    theirs = await client.post(
        "/@author_page/profile", data={"csrf": csrf, "new_username": "author_page", "bio": "hacked"}, headers=SAME_SITE
    )
    assert theirs.status_code == 403
    assert "hacked" not in (await client.get("/@author_page")).text
    # search people and posts, typo tolerated
    found = (await client.get("/explore", params={"q": "author_pag"})).text
    assert 'href="/@author_page"' in found
    assert "a post to discuss" in (await client.get("/explore", params={"q": "discussing"})).text
    assert (await client.get("/@nobody_at_all")).status_code == 404
    assert (await client.get("/@author_page/123")).status_code == 404


async def test_settings_change_the_password_and_delete_the_account(client: AsyncClient) -> None:
    assert (await client.get("/settings")).status_code == 303  # signed out: to the sign-in page
    await _signed_up(client, "settler")
    page = await client.get("/settings")
    csrf = _csrf(page.text)
    wrong = await client.post(
        "/settings/password",
        data={"csrf": csrf, "current_password": "not it at all", "new_password": "a newer password"},
        headers=SAME_SITE,
    )
    assert wrong.status_code == 403
    assert "The password is not correct." in wrong.text
    changed = await client.post(
        "/settings/password",
        data={"csrf": csrf, "current_password": "a long password", "new_password": "a newer password"},
        headers=SAME_SITE,
    )
    assert changed.status_code == 200
    assert "Your password was changed." in changed.text
    assert (await client.get("/settings")).status_code == 303  # this session ended too
    old = await client.post("/signin", data={"login": "settler", "password": "a long password"}, headers=SAME_SITE)
    assert old.status_code == 401
    new = await client.post("/signin", data={"login": "settler", "password": "a newer password"}, headers=SAME_SITE)
    assert new.status_code == 303
    csrf = _csrf((await client.get("/settings")).text)
    refused = await client.post("/settings/delete", data={"csrf": csrf, "password": "wrong one"}, headers=SAME_SITE)
    assert refused.status_code == 403
    forged = await client.post(
        "/settings/delete", data={"csrf": "f" * 64, "password": "a newer password"}, headers=SAME_SITE
    )
    assert forged.status_code == 403
    deleted = await client.post(
        "/settings/delete", data={"csrf": csrf, "password": "a newer password"}, headers=SAME_SITE
    )
    assert deleted.status_code == 200
    assert "were deleted" in deleted.text
    assert (await client.get("/@settler")).status_code == 404


async def test_edit_and_delete_your_own_posts_and_no_one_elses(client: AsyncClient) -> None:
    csrf = await _signed_up(client, "editor")
    assert (await client.post("/compose", data={"content": "frist post", "csrf": csrf}, headers=SAME_SITE)).is_redirect
    home = (await client.get("/")).text
    post_id = re.search(r'id="post-([0-9]+)"', home)
    assert post_id is not None
    path = f"/@editor/{post_id.group(1)}"
    assert f'href="{path}/edit"' in home
    assert (await client.get(f"{path}/edit")).status_code == 200
    too_long = await client.post(f"{path}/edit", data={"csrf": csrf, "content": "x" * 501}, headers=SAME_SITE)
    assert too_long.status_code == 422
    assert "at most 500 characters" in too_long.text
    edited = await client.post(f"{path}/edit", data={"csrf": csrf, "content": "first post"}, headers=SAME_SITE)
    assert edited.headers["location"] == path
    shown = (await client.get(path)).text
    assert "first post" in shown
    assert "edited" in shown
    # someone else's post: no edit link, and the forms are refused
    other = await make_account(client, "other_author")
    theirs = await post(client, other, "not yours")
    their_path = f"/@other_author/{theirs['id']}"
    assert f"{their_path}/edit" not in (await client.get(their_path)).text
    assert (await client.get(f"{their_path}/edit")).status_code == 403
    refused = await client.post(f"{their_path}/edit", data={"csrf": csrf, "content": "mine now"}, headers=SAME_SITE)
    assert refused.status_code == 403
    assert (await client.post(f"{their_path}/delete", data={"csrf": csrf}, headers=SAME_SITE)).status_code == 403
    assert (await client.get(f"/posts/{theirs['id']}")).json()["content"] == "not yours"
    # deleting mine from its own page goes home: the page is gone
    gone = await client.post(
        f"{path}/delete", data={"csrf": csrf}, headers={**SAME_SITE, "Referer": f"http://test{path}"}
    )
    assert gone.headers["location"] == "/"
    assert (await client.get(path)).status_code == 404


async def test_followers_and_following_lists_and_a_new_username(client: AsyncClient) -> None:
    csrf = await _signed_up(client, "lister")
    famous = await make_account(client, "famous")
    fan = await make_account(client, "fan_one")
    await follow(client, fan, famous)
    assert (await client.post("/@famous/follow", data={"csrf": csrf}, headers=SAME_SITE)).is_redirect
    profile = (await client.get("/@famous")).text
    assert "<strong>2</strong> followers" in profile
    followers = (await client.get("/@famous/followers")).text
    assert 'href="/@lister"' in followers
    assert 'href="/@fan_one"' in followers
    following = (await client.get("/@lister/following")).text
    assert 'href="/@famous"' in following
    assert "Not following anyone yet." in (await client.get("/@famous/following")).text
    assert (await client.get("/@nobody_here/followers")).status_code == 404
    # a new username; a taken one is a sentence on the profile page
    taken = await client.post(
        "/@lister/profile", data={"csrf": csrf, "new_username": "famous", "bio": ""}, headers=SAME_SITE
    )
    assert taken.status_code == 409
    assert "taken" in taken.text
    assert 'action="/@lister/profile"' in taken.text  # the form, to try another
    bad = await client.post(
        "/@lister/profile", data={"csrf": csrf, "new_username": "a b", "bio": ""}, headers=SAME_SITE
    )
    assert bad.status_code == 422
    assert "Username: 3 to 30 letters" in bad.text
    renamed = await client.post(
        "/@lister/profile", data={"csrf": csrf, "new_username": "renamed", "bio": "new me"}, headers=SAME_SITE
    )
    assert renamed.headers["location"] == "/@renamed"
    assert "new me" in (await client.get("/@renamed")).text
    assert 'href="/@renamed"' in (await client.get("/@famous/followers")).text


async def test_likes_and_comments_answer_with_the_part_of_the_page_that_changed(client: AsyncClient) -> None:
    """What web.js asks for (X-Fragment: 1): the post card with its new count, the thread with
    the new comment, an error sentence; never a whole page."""
    csrf = await _signed_up(client, "fragmented")
    author = await make_account(client, "fragment_author")
    written = await post(client, author, "count me")
    path = f"/@fragment_author/{written['id']}"
    fragment = {**SAME_SITE, "X-Fragment": "1"}
    liked = await client.post(f"{path}/like", data={"csrf": csrf}, headers=fragment)
    assert liked.status_code == 200
    assert liked.text.strip().startswith(f'<article class="post" id="post-{written["id"]}">')
    assert "1 like<" in liked.text
    assert f'action="{path}/unlike"' in liked.text
    assert "<html" not in liked.text
    commented = await client.post(f"{path}/comment", data={"csrf": csrf, "content": "nice"}, headers=fragment)
    assert commented.status_code == 200
    assert commented.text.strip().startswith('<div id="thread">')
    assert "1 comment<" in commented.text
    assert "nice" in commented.text
    empty = await client.post(f"{path}/comment", data={"csrf": csrf, "content": "   "}, headers=fragment)
    assert empty.status_code == 422
    assert empty.text.strip() == '<p class="error" role="alert" data-error>A comment holds 1 to 300 characters.</p>'
    forged = await client.post(f"{path}/like", data={"csrf": "0" * 64}, headers=fragment)
    assert forged.status_code == 403
    assert "data-error" in forged.text


async def test_notifications_page_badge_and_mark_as_read(app: FastAPI, client: AsyncClient) -> None:
    csrf = await _signed_up(client, "noticed")
    fans = [await make_account(client, f"fan_{index}") for index in range(2)]
    mine = await client.post("/compose", data={"content": "like me", "csrf": csrf}, headers=SAME_SITE)
    assert mine.is_redirect
    post_id = re.search(r'id="post-([0-9]+)"', (await client.get("/")).text)
    assert post_id is not None
    for fan in fans:
        liked = await client.post(f"/posts/{post_id.group(1)}/likes", headers=fan.headers)
        assert liked.status_code in (200, 201, 204)
    await drain(app)
    page = (await client.get("/notifications")).text
    assert '<span class="n">2</span>' in page  # the badge
    assert page.count('class="card unread"') == 2
    assert "@fan_0" in page
    assert f'href="/@noticed/{post_id.group(1)}"' in page
    one = re.search(r'name="id" value="([0-9]+)"', page)
    assert one is not None
    read_one = await client.post("/notifications/read", data={"csrf": csrf, "id": one.group(1)}, headers=SAME_SITE)
    assert read_one.headers["location"] == "/notifications"
    page = (await client.get("/notifications")).text
    assert '<span class="n">1</span>' in page
    assert page.count('class="card unread"') == 1
    forged = await client.post("/notifications/read", data={"csrf": "1" * 64}, headers=SAME_SITE)
    assert forged.status_code == 403
    assert (await client.post("/notifications/read", data={"csrf": csrf}, headers=SAME_SITE)).is_redirect
    page = (await client.get("/notifications")).text
    assert 'class="card unread"' not in page
    assert "Mark all as read" not in page


async def test_the_live_stream_is_the_signed_in_users_and_ends_with_the_sign_in(
    client: AsyncClient, live_url: str
) -> None:
    listener = await make_account(client, "live_one")
    liker = await make_account(client, "live_liker")
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as http:
        assert (await http.get("/notifications/live")).status_code == 401
        origin = {"Origin": live_url, "Sec-Fetch-Site": "same-origin"}
        signed = await http.post("/signin", data={"login": "live_one", "password": PASSWORD}, headers=origin)
        assert signed.status_code == 303
        csrf = _csrf((await http.get("/")).text)
        async with stream(http, "/notifications/live") as received:
            await follow(client, liker, listener)
            event = await next_event(received)
            assert json.loads(event.data)["actor"]["username"] == "live_liker"
            assert (await http.post("/signout", data={"csrf": csrf}, headers=origin)).is_redirect
            ended = await next_event(received, kind="end")
            assert json.loads(ended.data) == {"reason": "session-ended"}


async def test_mute_block_and_report_from_a_profile_and_lift_them_in_settings(client: AsyncClient) -> None:
    csrf = await _signed_up(client, "careful")
    loud = await make_account(client, "loud_one")
    await post(client, loud, "shouting into the void")
    assert (await client.post("/@loud_one/follow", data={"csrf": csrf}, headers=SAME_SITE)).status_code == 303
    assert "shouting into the void" in (await client.get("/")).text
    profile = (await client.get("/@loud_one")).text
    assert "Mute @loud_one" in profile
    assert "Block @loud_one" in profile
    # Mute: gone from the home feed, still followed, the profile says Unmute.
    assert (await client.post("/@loud_one/mute", data={"csrf": csrf}, headers=SAME_SITE)).status_code == 303
    assert "shouting into the void" not in (await client.get("/")).text
    profile = (await client.get("/@loud_one")).text
    assert "Unmute" in profile
    assert "Unfollow" in profile
    settings = (await client.get("/settings")).text
    assert '<a href="/@loud_one">@loud_one</a>' in settings
    # Report: a sentence back; the moderators have it (with the account named).
    empty = await client.post("/@loud_one/report", data={"csrf": csrf, "reason": "  "}, headers=SAME_SITE)
    assert empty.status_code == 422
    reported = await client.post("/@loud_one/report", data={"csrf": csrf, "reason": "spam"}, headers=SAME_SITE)
    assert reported.status_code == 303
    assert "the moderators will look at your report" in (await client.get(reported.headers["location"])).text
    # Unmute from the settings page, then block: the profile is gone for both, and follows ended.
    loud_id = loud.id
    assert (await client.post(f"/settings/unmute/{loud_id}", data={"csrf": csrf}, headers=SAME_SITE)).status_code == 303
    assert "shouting into the void" in (await client.get("/")).text
    blocked = await client.post("/@loud_one/block", data={"csrf": csrf}, headers=SAME_SITE)
    assert blocked.headers["location"] == "/settings#blocked"
    assert (await client.get("/@loud_one")).status_code == 404
    assert "shouting into the void" not in (await client.get("/")).text
    assert (await client.get(f"/users/{loud_id}")).json()["followers_count"] == 0
    assert "@loud_one" in (await client.get("/settings")).text
    forged = await client.post(f"/settings/unblock/{loud_id}", data={"csrf": "0" * 64}, headers=SAME_SITE)
    assert forged.status_code == 403
    assert (
        await client.post(f"/settings/unblock/{loud_id}", data={"csrf": csrf}, headers=SAME_SITE)
    ).status_code == 303
    assert (await client.get("/@loud_one")).status_code == 200
    assert (await client.post("/settings/unblock/nope", data={"csrf": csrf}, headers=SAME_SITE)).status_code == 404
    assert (await client.post("/@careful/mute", data={"csrf": csrf}, headers=SAME_SITE)).status_code == 422


async def test_pages_hold_one_connection_at_a_time(settings: Settings) -> None:
    """Each request takes at most one of the pool's connections at a time: with a pool of one,
    concurrent signed-in home pages (the sign-in's reads, then the feed as a hot read) all
    answer. Holding the sign-in's connection during the hot read, they waited out the pool."""
    one = settings.db.model_copy(update={"pool_size": 1, "max_overflow": 0, "pool_timeout": 3})
    application = create_app(settings.model_copy(update={"db": one}))
    async with LifespanManager(application):
        transport = ASGITransport(app=application, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            await _signed_up(http, "onepool")
            pages = await asyncio.wait_for(asyncio.gather(*(http.get("/") for _ in range(8))), timeout=20)
    assert [page.status_code for page in pages] == [200] * 8
    assert all("What&#39;s happening?" in page.text or "What's happening?" in page.text for page in pages)
