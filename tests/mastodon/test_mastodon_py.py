"""Mastodon.py (a client nobody here wrote) drives a whole session against the server over HTTP.

Its calls are synchronous (requests), and the app lives on the test session's event loop: each
scenario runs in a worker thread while that loop serves it. Warnings are errors: Mastodon.py
warns when an answer does not look like Mastodon's (a version it cannot place, say).
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
import time
from typing import Any

import pytest
import requests
from httpx import AsyncClient
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError, StreamListener

from tests.fixtures.accounts import Account, make_account

pytestmark = pytest.mark.filterwarnings("error")
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _password_login(base: str, account: Account, client_id: str, secret: str) -> Mastodon:
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)
    # Over plain http on loopback: Mastodon.py wants https OAuth URLs unless told otherwise.
    token = api.log_in(account.email, account.password, allow_http=True)
    assert isinstance(token, str)
    return api


def _code_login(base: str, account: Account, client_id: str, secret: str) -> Mastodon:
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)
    url = api.auth_request_url(redirect_uris=OOB, scopes=["read", "write", "follow", "push"], allow_http=True)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    form = {key: html.unescape(value) for key, value in form.items()}
    approved = requests.post(
        f"{base}/oauth/authorize", data={**form, "login": account.username, "password": account.password}, timeout=10
    )
    code = re.search(r'<code id="code">([^<]+)</code>', approved.text)
    assert code is not None, approved.text
    api.log_in(code=code.group(1), redirect_uri=OOB, scopes=["read", "write", "follow", "push"], allow_http=True)
    return api


class Collector(StreamListener):
    def __init__(self) -> None:
        super().__init__()
        self.notifications: list[Any] = []
        self.updates: list[Any] = []
        self.errors: list[BaseException] = []
        self.arrived = threading.Event()

    def on_notification(self, notification: Any) -> None:
        self.notifications.append(notification)
        self.arrived.set()

    def on_update(self, status: Any) -> None:
        self.updates.append(status)
        self.arrived.set()

    def handle_stream_error(self, error: BaseException) -> None:  # a malformed event would land here
        self.errors.append(error)


def _wait(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _session(base: str, alice: Account, bob: Account) -> None:
    client_id, secret = Mastodon.create_app("townsquare smoke", api_base_url=base)
    m = _password_login(base, alice, client_id, secret)
    assert m.retrieve_mastodon_version() == "4.2.0"
    m2 = _code_login(base, bob, client_id, secret)

    me = m.me()
    assert me.acct == alice.username
    assert me.created_at.tzinfo is not None
    assert requests.get(me.avatar, timeout=10).status_code == 200

    listener = Collector()
    stream = m.stream_user(listener, run_async=True, reconnect_async=False)
    try:
        first = m.status_post("a <b> & c\n\nsecond")
        assert first.content == "<p>a &lt;b&gt; &amp; c</p><p>second</p>"
        assert first.visibility == "public"
        assert first.mentions == []

        assert m2.account_follow(me.id).following is True
        assert m2.account_relationships(me.id)[0].following is True
        later = [m.status_post(f"page post {number}") for number in range(4)]

        page = m2.timeline_home(limit=2)
        assert [s.id for s in page] == [later[3].id, later[2].id]
        following = m2.fetch_next(page)
        assert following is not None
        assert [s.id for s in following] == [later[1].id, later[0].id]
        back = m2.fetch_previous(following)
        assert back is not None
        assert [s.id for s in back] == [later[3].id, later[2].id]

        favourited = m2.status_favourite(first.id)
        assert favourited.favourited is True
        assert favourited.favourites_count == 1
        reply = m2.status_reply(first, "nice")
        assert reply.in_reply_to_id == first.id
        assert reply.content == f"<p>@{alice.username} nice</p>"
        assert [s.id for s in m.status_context(first.id).descendants] == [reply.id]

        # live: the like, the follow and the reply reach the open stream
        _wait(lambda: {n.type for n in listener.notifications} >= {"favourite", "follow", "mention"})
        assert not listener.errors
        assert {s.id for s in listener.updates} >= {first.id, later[0].id}  # her own posts, in her home

        notifications = m.notifications()
        assert [n.type for n in notifications] == ["mention", "favourite", "follow"]
        assert notifications[0].status.id == reply.id
        assert notifications[1].status.id == first.id
        assert [n.type for n in m.notifications(types=["mention"])] == ["mention"]
        older = m.fetch_next(m.notifications(limit=1))  # the Link keeps limit=1
        assert older is not None
        assert [n.type for n in older] == ["favourite"]
        oldest = m.fetch_next(older)
        assert oldest is not None
        assert [n.type for n in oldest] == ["follow"]
        assert m.notifications_unread_count().count == 3
    finally:
        stream.close()

    assert m.search_v2("second").statuses[0].id == first.id
    assert [a.acct for a in m.search(bob.username, result_type="accounts").accounts] == [bob.username]
    assert m.account_lookup(bob.username).id == m2.me().id

    edited = m.status_update(first.id, "edited")
    assert edited.edited_at is not None
    assert m.status_delete(first.id).text == "edited"
    with pytest.raises(MastodonNotFoundError):
        m.status(first.id)
    with pytest.raises(MastodonAPIError):
        m2.status_reblog(later[0].id)  # no boosts here: a clean error, not a crash

    m.revoke_access_token(allow_http=True)
    with pytest.raises(MastodonUnauthorizedError):
        m.me()
    assert m2.me().acct == bob.username  # another login goes on


async def test_mastodon_py_session(client: AsyncClient, live_url: str) -> None:
    # Names far apart: the account search tolerates typos.
    alice = await make_account(client, "wanderer")
    bob = await make_account(client, "quokka")
    await asyncio.to_thread(_session, live_url, alice, bob)


def _registration(base: str) -> str:
    client_id, secret = Mastodon.create_app("signup", api_base_url=base)
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=base)
    token = api.create_account("mpy_newcomer", "long enough password", "mpy_newcomer@example.com", agreement=True)
    assert isinstance(token, str)
    username: str = api.me().username
    return username


async def test_mastodon_py_creates_an_account(live_url: str) -> None:
    assert await asyncio.to_thread(_registration, live_url) == "mpy_newcomer"


def _safety(base: str, alice: Account, bob: Account) -> None:
    client_id, secret = Mastodon.create_app("safety", api_base_url=base)
    m = _password_login(base, alice, client_id, secret)
    m2 = _password_login(base, bob, client_id, secret)
    bobs = m2.status_post("loud opinions")
    bob_id = m2.me().id
    m.account_follow(bob_id)
    assert [s.id for s in m.timeline_home()] == [bobs.id]
    muted = m.account_mute(bob_id, notifications=False, duration=3600)
    assert (muted.muting, muted.muting_notifications) == (True, False)
    assert [a.id for a in m.mutes()] == [bob_id]
    assert m.timeline_home() == []  # still followed, no longer shown
    assert m.account_relationships(bob_id)[0].following is True
    assert m.account_unmute(bob_id).muting is False
    reported = m.report(bob_id, status_ids=[bobs.id], comment="rude")
    assert reported.target_account.id == bob_id
    assert reported.status_ids == [bobs.id]
    blocked = m.account_block(bob_id)
    assert (blocked.blocking, blocked.following) == (True, False)
    assert [a.id for a in m.blocks()] == [bob_id]
    with pytest.raises(MastodonNotFoundError):
        m2.account(m.me().id)  # the blocker is gone for the blocked
    with pytest.raises(MastodonNotFoundError):
        m2.account_follow(m.me().id)
    assert m.account_unblock(bob_id).blocking is False


async def test_mastodon_py_blocks_mutes_and_reports(client: AsyncClient, live_url: str) -> None:
    alice = await make_account(client, "careful_one")
    bob = await make_account(client, "shouty_one")
    await asyncio.to_thread(_safety, live_url, alice, bob)
