"""Rate limits: password guessing, registration floods and write floods get 429, and only those."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient, Response
from pydantic import ValidationError

from tests.fixtures.accounts import PASSWORD, Account, make_account
from tests.fixtures.mastodon import create_app as create_mastodon_app
from tests.fixtures.mastodon import token_for
from tests.fixtures.processes import free_port
from townsquare.app import create_app
from townsquare.auth.limits import Limits
from townsquare.config import RateLimitSettings, ServerSettings, Settings, WorkerSettings
from townsquare.kit.rate_limits import Policy, RateLimiter, TooManyRequests, client_address

LIMITS = RateLimitSettings(
    login_per_account="3/minute",
    login_per_address="8/minute",
    registrations_per_address="3/minute",
    signup_attempts_per_address="6/minute",
    apps_per_address="2/minute",
    writes_per_user="4/minute;6/hour",
    reports_per_user="2/minute",
)


@pytest.fixture(scope="module")
async def limited_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The API as deployed: limits on (small ones), behind a proxy at 10.0.0.0/8."""
    limited = settings.model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit": LIMITS,
            "redis_url": None,  # counters in memory, new for each test (Redis has its own tests)
            "server": ServerSettings(trusted_proxies=["10.0.0.0/8"]),
            "worker": WorkerSettings(in_process=False),
        }
    )
    application = create_app(limited)
    async with LifespanManager(application):
        yield application


@pytest.fixture(autouse=True)
def _fresh_counters(request: pytest.FixtureRequest) -> None:
    if "limited_app" in request.fixturenames:
        limited_app: FastAPI = request.getfixturevalue("limited_app")
        limited_app.state.limits = Limits.from_settings(limited_app.state.settings)


@asynccontextmanager
async def calling(app: FastAPI, address: str = "198.51.100.1") -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=(address, 40000), raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def alice(app: FastAPI, client: AsyncClient) -> Account:
    # Made through the unlimited session app: the counters under test start at zero.
    return await make_account(client)


async def log_in(client: AsyncClient, login: str, password: str) -> Response:
    return await client.post("/auth/login", data={"username": login, "password": password})


def assert_rate_limited(response: Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:townsquare:problem:rate-limited"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert "r=0;" in response.headers["ratelimit"]
    return retry_after


# --- Login: guessing one account's password (API2 Broken Authentication, API4) ---------------


@pytest.fixture
def hashed(limited_app: FastAPI) -> Iterator[list[str]]:
    """The passwords the limited app checks, as it checks them."""
    passwords = limited_app.state.passwords
    original, checked = passwords.verify, []

    async def recording(password: str, hashed: str | None) -> tuple[bool, str | None]:
        checked.append(password)
        result: tuple[bool, str | None] = await original(password, hashed)
        return result

    passwords.verify = recording
    yield checked
    del passwords.verify


async def test_password_guesses_are_limited_per_login_name_whatever_the_address(
    limited_app: FastAPI, alice: Account, hashed: list[str]
) -> None:
    # Each guess from another address, in any letter case: it is the name that counts.
    for number, login in enumerate([alice.email, alice.email.upper(), alice.email.title()]):
        async with calling(limited_app, f"203.0.113.{number}") as client:
            assert (await log_in(client, login, f"guess {number}")).status_code == 401
    async with calling(limited_app, "203.0.113.99") as client:
        refused = await log_in(client, alice.email, alice.password)  # even the right password
    assert_rate_limited(refused)
    assert refused.headers["ratelimit-policy"] == '"login-account-60s";q=3;w=60'
    assert hashed == ["guess 0", "guess 1", "guess 2"]  # the refused attempt was never checked


async def test_counts_do_not_tell_whose_email_a_username_is(limited_app: FastAPI, alice: Account) -> None:
    # Shared counts for an account's email and username would let anyone pair them up (and
    # tell real names from made-up ones): the email is private. So each name counts alone.
    async with calling(limited_app) as client:
        for _ in range(3):
            assert (await log_in(client, alice.email, "wrong password")).status_code == 401
        assert_rate_limited(await log_in(client, alice.email, "wrong password"))
        assert (await log_in(client, alice.username, "wrong password")).status_code == 401
        assert (await log_in(client, alice.username, alice.password)).status_code == 200


async def test_a_correct_password_clears_the_count(limited_app: FastAPI, alice: Account) -> None:
    async with calling(limited_app) as client:
        for _ in range(2):
            assert (await log_in(client, alice.username, "wrong password")).status_code == 401
        assert (await log_in(client, alice.username, alice.password)).status_code == 200
        for _ in range(3):
            assert (await log_in(client, alice.username, "wrong password")).status_code == 401
        assert_rate_limited(await log_in(client, alice.username, "wrong password"))


async def test_unknown_accounts_are_limited_alike(limited_app: FastAPI) -> None:
    async with calling(limited_app) as client:
        answers = [await log_in(client, "nobody@example.com", "guess") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]


async def test_parallel_guesses_are_counted_before_any_is_checked(
    limited_app: FastAPI, alice: Account, hashed: list[str]
) -> None:
    async def guess(number: int) -> int:
        async with calling(limited_app, f"203.0.113.{number}") as client:
            return (await log_in(client, alice.username, f"guess {number}")).status_code

    statuses = await asyncio.gather(*(guess(number) for number in range(12)))
    assert sorted(statuses) == [401] * 3 + [429] * 9
    assert len(hashed) == 3


async def test_logins_are_limited_per_address(limited_app: FastAPI, app: FastAPI, client: AsyncClient) -> None:
    accounts = [await make_account(client) for _ in range(3)]
    async with calling(limited_app, "192.0.2.7") as limited:
        answers = [await log_in(limited, accounts[n % 3].username, PASSWORD) for n in range(9)]
    assert [answer.status_code for answer in answers] == [200] * 8 + [429]
    assert answers[0].headers["ratelimit"] == '"login-address-60s";r=7;t=60'
    async with calling(limited_app, "192.0.2.8") as other:
        assert (await log_in(other, accounts[0].username, PASSWORD)).status_code == 200


async def test_token_refreshes_are_limited_per_address(limited_app: FastAPI, alice: Account) -> None:
    refresh_token = alice.refresh_token
    async with calling(limited_app, "192.0.2.30") as client:
        statuses = []
        for _ in range(9):
            response = await client.post("/auth/refresh", json={"refresh_token": refresh_token})
            statuses.append(response.status_code)
            if response.status_code == 200:
                refresh_token = response.json()["refresh_token"]
    assert statuses == [200] * 8 + [429]


async def test_password_change_and_deletion_count_as_guesses(limited_app: FastAPI, alice: Account) -> None:
    async with calling(limited_app) as client:
        wrong = {"current_password": "wrong password", "new_password": "a new good password"}
        for _ in range(2):
            assert (await client.post("/auth/password", json=wrong, headers=alice.headers)).status_code == 403
        deletion = await client.request("DELETE", "/users/me", json={"password": "nope"}, headers=alice.headers)
        assert deletion.status_code == 403
        assert_rate_limited(
            await client.request("DELETE", "/users/me", json={"password": PASSWORD}, headers=alice.headers)
        )
        assert (await client.get("/users/me", headers=alice.headers)).status_code == 200  # not deleted


# --- Registration floods (API4 Unrestricted Resource Consumption, API6 sensitive flows) -------


async def register(client: AsyncClient, name: str) -> Response:
    body = {"email": f"{name}@example.com", "username": name, "password": PASSWORD}
    return await client.post("/auth/register", json=body)


async def test_registrations_are_limited_per_address(limited_app: FastAPI, app: FastAPI) -> None:
    async with calling(limited_app, "192.0.2.20") as client:
        answers = [await register(client, f"flood{n}") for n in range(4)]
        assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
        assert_rate_limited(answers[3])
        assert (await client.get("/users/flood3")).status_code == 404  # nothing was made
    async with calling(limited_app, "192.0.2.21") as other:
        assert (await register(other, "flood3")).status_code == 201


async def test_only_accounts_made_count_and_a_malformed_sign_up_is_always_a_422(
    limited_app: FastAPI, app: FastAPI
) -> None:
    """Sign-ups and conflicts, then a malformed email got a 429 instead of its 422 (3 accounts
    a minute here)."""
    async with calling(limited_app, "192.0.2.22") as client:
        made = [await register(client, f"made{n}") for n in range(2)]
        assert [answer.status_code for answer in made] == [201, 201]
        taken = [await register(client, "made0") for _ in range(2)]
        assert [answer.status_code for answer in taken] == [409, 409]
        malformed = await client.post(
            "/auth/register", json={"email": "not an email", "username": "fine_name", "password": PASSWORD}
        )
        assert malformed.status_code == 422
        assert (await register(client, "made2")).status_code == 201  # conflicts did not count
        assert_rate_limited(await register(client, "made3"))  # the fourth account in a minute
        malformed = await client.post(
            "/auth/register", json={"email": "not an email", "username": "fine_name", "password": PASSWORD}
        )
        assert malformed.status_code == 422  # whatever the budget
    async with calling(limited_app, "192.0.2.23") as prober:
        # Probing which names are taken: no account is made, yet attempts are bounded.
        probes = [await register(prober, "made0") for _ in range(7)]
        assert [answer.status_code for answer in probes] == [409] * 6 + [429]
        assert_rate_limited(probes[6])
        assert (await register(prober, "made9")).status_code == 429
        assert (
            await prober.post("/auth/register", json={"email": "x", "username": "made9", "password": PASSWORD})
        ).status_code == 422  # still a 422, whatever the budget


async def test_mastodon_app_registrations_are_limited_per_address(limited_app: FastAPI, app: FastAPI) -> None:
    async with calling(limited_app, "192.0.2.30") as client:
        answers = [await client.post("/api/v1/apps", data={"client_name": f"app {n}"}) for n in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        assert answers[2].json() == {"error": answers[2].json()["error"]}  # Mastodon's shape on its surface
        assert "Retry-After" in answers[2].headers
    async with calling(limited_app, "192.0.2.31") as other:
        assert (await other.post("/api/v1/apps", data={"client_name": "elsewhere"})).status_code == 200


async def test_ipv6_clients_are_counted_by_their_64(limited_app: FastAPI, app: FastAPI) -> None:
    for number in range(3):
        async with calling(limited_app, f"2001:db8:1:2::{number + 1:x}") as client:
            assert (await register(client, f"six{number}")).status_code == 201
    async with calling(limited_app, "2001:db8:1:2:ffff::1") as same_network:
        assert (await register(same_network, "six3")).status_code == 429
    async with calling(limited_app, "2001:db8:1:3::1") as next_network:
        assert (await register(next_network, "six4")).status_code == 201


async def test_forwarded_addresses_count_only_from_trusted_proxies(limited_app: FastAPI, app: FastAPI) -> None:
    # Behind the trusted proxy, each forwarded client has its own count ...
    for number in range(4):
        async with calling(limited_app, "10.1.2.3") as proxy:
            forwarded = {"X-Forwarded-For": f"192.0.2.{100 + number}"}
            response = await proxy.post(
                "/auth/register",
                json={"email": f"p{number}@example.com", "username": f"proxied{number}", "password": PASSWORD},
                headers=forwarded,
            )
            assert response.status_code == 201
    # ... but anyone else claiming to forward for others is counted as themselves.
    async with calling(limited_app, "192.0.2.50") as spoofer:
        statuses = []
        for number in range(4):
            response = await spoofer.post(
                "/auth/register",
                json={"email": f"s{number}@example.com", "username": f"spoof{number}", "password": PASSWORD},
                headers={"X-Forwarded-For": f"192.0.2.{150 + number}"},
            )
            statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429]


# --- Writes (API4, API6: a bot flooding posts, likes, comments and follows) -------------------


async def test_writes_are_limited_per_user_across_kinds(
    limited_app: FastAPI, alice: Account, client: AsyncClient
) -> None:
    bob = await make_account(client)
    post = (await client.post("/posts", json={"content": "bob's"}, headers=bob.headers)).json()
    async with calling(limited_app) as limited:
        answers = [
            await limited.post("/posts", json={"content": "one"}, headers=alice.headers),
            await limited.post(f"/posts/{post['id']}/likes", headers=alice.headers),
            await limited.post(f"/posts/{post['id']}/comments", json={"content": "hi"}, headers=alice.headers),
            await limited.post(f"/users/{bob.id}/follow", headers=alice.headers),
            await limited.post("/posts", json={"content": "five"}, headers=alice.headers),
        ]
        assert [answer.status_code for answer in answers] == [201, 200, 201, 200, 429]
        assert [answer.headers["ratelimit"] for answer in answers[:4]] == [
            f'"writes-user-60s";r={remaining};t=60' for remaining in (3, 2, 1, 0)
        ]
        assert answers[0].headers["ratelimit-policy"] == '"writes-user-60s";q=4;w=60, "writes-user-3600s";q=6;w=3600'
        assert_rate_limited(answers[4])
        mine = await limited.get(f"/users/{alice.id}/posts")
        assert [item["content"] for item in mine.json()["items"]] == ["one"]  # "five" was not made
        # Reads go on, and other users write as before.
        assert (await limited.get("/feed", headers=alice.headers)).status_code == 200
        assert (await limited.post("/posts", json={"content": "bob"}, headers=bob.headers)).status_code == 201


async def test_reports_are_limited_per_user_and_only_valid_ones_count(
    limited_app: FastAPI, alice: Account, client: AsyncClient
) -> None:
    bob = await make_account(client)
    async with calling(limited_app) as limited:
        report = {"account_id": bob.id, "reason": "spam"}
        answers = [
            await limited.post("/reports", json={**report, "account_id": alice.id}, headers=alice.headers),  # own
            await limited.post("/reports", json=report, headers=alice.headers),
            await limited.post("/reports", json=report, headers=alice.headers),
        ]
        assert [answer.status_code for answer in answers] == [422, 201, 201]
        # The writes budget (4 a minute) is not spent yet: the reports' own one is.
        assert_rate_limited(await limited.post("/reports", json=report, headers=alice.headers))
        # Another user's budget is their own.
        of_alice = {"account_id": alice.id, "reason": "spam"}
        assert (await limited.post("/reports", json=of_alice, headers=bob.headers)).status_code == 201


async def test_nothing_is_limited_when_turned_off(app: FastAPI, client: AsyncClient) -> None:
    assert app.state.settings.rate_limit_enabled is False  # the suite's app, as for load tests
    alice = await make_account(client)
    answers = [await log_in(client, alice.username, "wrong") for _ in range(8)]
    assert {answer.status_code for answer in answers} == {401}
    assert "ratelimit" not in answers[0].headers
    posts = [await client.post("/posts", json={"content": str(n)}, headers=alice.headers) for n in range(8)]
    assert {answer.status_code for answer in posts} == {201}


# --- Settings ---------------------------------------------------------------------------------


def test_limits_are_on_by_default_and_switched_off_by_one_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().rate_limit_enabled is True
    monkeypatch.setenv("TOWNSQUARE_RATE_LIMIT_ENABLED", "false")
    monkeypatch.setenv("TOWNSQUARE_RATE_LIMIT__WRITES_PER_USER", "10/second")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/2")
    read = Settings()
    assert read.rate_limit_enabled is False
    assert read.rate_limit.writes_per_user == "10/second"
    assert read.redis_url == "redis://cache.internal:6379/2"


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_limit": {"writes_per_user": "lots"}},
        {"rate_limit": {"login_per_account": "5 per fortnight"}},
        {"server": {"trusted_proxies": ["proxy.example"]}},
        {"redis_url": "http://127.0.0.1:6379"},
    ],
)
def test_bad_limit_settings_stop_the_server(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate(bad)


# --- The limiter itself: shared through Redis, per process in memory ---------------------------


POLICY = Policy.parse("test", "3/minute")


async def exhaust(limiter: RateLimiter, key: str) -> list[bool]:
    outcomes = []
    for _ in range(4):
        try:
            await limiter.hit(POLICY, key)
            outcomes.append(True)
        except TooManyRequests:
            outcomes.append(False)
    return outcomes


async def test_memory_counters_are_per_process() -> None:
    first, second = RateLimiter(enabled=True), RateLimiter(enabled=True)
    assert await exhaust(first, "k") == [True, True, True, False]
    assert await exhaust(second, "k") == [True, True, True, False]


REDIS_URL = os.environ.get("REDIS_URL")


@pytest.mark.skipif(REDIS_URL is None, reason="REDIS_URL is not set (CI sets it)")
async def test_redis_counters_are_shared_by_every_process() -> None:
    assert REDIS_URL is not None
    prefix = f"townsquare-test-{secrets.token_hex(4)}"
    first = RateLimiter(enabled=True, redis_url=REDIS_URL, key_prefix=prefix)
    second = RateLimiter(enabled=True, redis_url=REDIS_URL, key_prefix=prefix)
    try:
        assert first.shared
        for _ in range(2):
            await first.hit(POLICY, "k")
        usage = await second.hit(POLICY, "k")
        assert usage is not None
        assert usage.remaining == 0
        assert await exhaust(first, "k") == [False] * 4
        await second.clear(POLICY, "k")
        assert await exhaust(first, "k") == [True, True, True, False]
    finally:
        await first.close()
        await second.close()


@pytest.mark.skipif(REDIS_URL is None, reason="REDIS_URL is not set (CI sets it)")
async def test_api_processes_share_login_counters_through_redis(settings: Settings, alice: Account) -> None:
    assert REDIS_URL is not None
    shared = settings.model_copy(
        update={
            "rate_limit_enabled": True,
            "redis_url": REDIS_URL,
            "rate_limit": LIMITS.model_copy(update={"key_prefix": f"townsquare-test-{secrets.token_hex(4)}"}),
            "worker": WorkerSettings(in_process=False),
        }
    )
    first, second = create_app(shared), create_app(shared)
    async with LifespanManager(first), LifespanManager(second), calling(first) as one, calling(second) as two:
        assert (await log_in(one, alice.username, "wrong")).status_code == 401
        assert (await log_in(two, alice.username, "wrong")).status_code == 401
        assert (await log_in(one, alice.username, "wrong")).status_code == 401
        assert_rate_limited(await log_in(two, alice.username, alice.password))


async def test_an_unreachable_redis_falls_back_to_memory_counters(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(enabled=True, redis_url=f"redis://127.0.0.1:{free_port()}")  # nothing listens
    try:
        started = time.monotonic()
        assert await exhaust(limiter, "k") == [True, True, True, False]
        assert time.monotonic() - started < 5
    finally:
        await limiter.close()
    assert caplog.text.count("counting in memory") == 1  # then Redis is left alone for a while


async def test_a_hung_redis_costs_one_timeout_not_one_per_request() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(60)

    hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = hung.sockets[0].getsockname()[1]
    limiter = RateLimiter(enabled=True, redis_url=f"redis://127.0.0.1:{port}")
    try:
        started = time.monotonic()
        assert await exhaust(limiter, "k") == [True, True, True, False]
        # One 0.5 s socket timeout, then memory: not four (or sixteen: a hit asks several times).
        assert time.monotonic() - started < 1.5
    finally:
        await limiter.close()
        hung.close()


def test_client_address_is_the_peer_and_ipv6_is_grouped_by_64() -> None:
    def address_of(host: str | None) -> str:
        scope: dict[str, object] = {"type": "http", "client": (host, 1) if host else None, "headers": []}
        return client_address(Request(scope))

    assert address_of("192.0.2.1") == "192.0.2.1"
    assert address_of("2001:db8::1") == address_of("2001:db8::ffff:1") == "2001:db8::/64"
    assert address_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_of(None) == "unknown"
    # Some proxies forward the client's port too; it does not make another client.
    assert address_of("192.0.2.1:51000") == "192.0.2.1"
    assert address_of("[2001:db8::1]:51000") == "2001:db8::/64"


async def test_mastodon_writes_share_the_users_write_budget(
    limited_app: FastAPI, alice: Account, client: AsyncClient
) -> None:
    token = await token_for(client, alice)
    bob = await make_account(client)
    async with calling(limited_app) as limited:
        answers = [
            await limited.post("/posts", json={"content": "native"}, headers=alice.headers),
            await limited.post("/api/v1/statuses", data={"status": "one"}, headers=token.headers),
            await limited.post(f"/api/v1/accounts/{bob.id}/follow", headers=token.headers),
            await limited.post("/api/v1/statuses", data={"status": "three"}, headers=token.headers),
            await limited.post("/api/v1/statuses", data={"status": "over"}, headers=token.headers),
        ]
    assert [answer.status_code for answer in answers] == [201, 200, 200, 200, 429]
    assert "error" in answers[4].json()  # Mastodon's shape on its surface
    assert "Retry-After" in answers[4].headers


async def test_the_mastodon_password_grant_counts_as_a_login(
    limited_app: FastAPI, alice: Account, client: AsyncClient
) -> None:
    registered = await create_mastodon_app(client)
    body = {
        "grant_type": "password",
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
        "username": alice.username,
        "password": "wrong password",
    }
    async with calling(limited_app, "192.0.2.40") as limited:
        answers = [await limited.post("/oauth/token", data=body) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]
    assert [answer.json()["error"] for answer in answers[:3]] == ["invalid_grant"] * 3


async def test_the_web_client_says_when_to_try_again_in_a_sentence(
    limited_app: FastAPI, app: FastAPI, alice: Account
) -> None:
    """Over a limit, the web pages answer with a page that says so, not raw problem JSON."""
    same_site = {"Origin": "http://test", "Sec-Fetch-Site": "same-origin"}
    async with calling(limited_app, "192.0.2.60") as browser:
        for _ in range(3):
            wrong = await browser.post("/signin", data={"login": alice.username, "password": "nope"}, headers=same_site)
            assert wrong.status_code == 401
            assert "Incorrect email, username or password." in wrong.text
        locked = await browser.post("/signin", data={"login": alice.username, "password": PASSWORD}, headers=same_site)
        assert locked.status_code == 429
        assert locked.headers["content-type"].startswith("text/html")
        assert re.search(r"Too many attempts\. Try again in [0-9]+ seconds\.", locked.text)
    async with calling(limited_app, "192.0.2.61") as browser:
        made = await browser.post(
            "/signup",
            data={"email": "webby@example.com", "username": "webby_limits", "password": PASSWORD},
            headers=same_site,
        )
        assert made.status_code == 303
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', (await browser.get("/")).text)
        assert csrf is not None
        answers = [
            await browser.post("/compose", data={"content": f"post {n}", "csrf": csrf.group(1)}, headers=same_site)
            for n in range(5)
        ]
        assert [answer.status_code for answer in answers] == [303, 303, 303, 303, 429]  # 4 writes a minute
        assert answers[4].headers["content-type"].startswith("text/html")
        assert "Too many attempts. Try again in" in answers[4].text
