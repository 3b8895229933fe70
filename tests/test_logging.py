"""What the logs show of real requests and jobs, and what they never show."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.content import post
from tests.fixtures.notifications import drain
from tests.fixtures.sse import events
from townsquare.app import create_app
from townsquare.config import Environment, LogSettings, Settings, WorkerSettings
from townsquare.observability.logs import configure_logging

Logs = Callable[[], str]


@pytest.fixture
def logs(settings: Settings, capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    """What has been logged (to stdout) since the test began, in the test environment's JSON."""
    configure_logging(settings)
    capsys.readouterr()
    seen: list[str] = []

    def read() -> str:
        seen.append(capsys.readouterr().out)
        return "".join(seen)

    yield read
    configure_logging(settings)  # as it was, whatever a test changed


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def request_line(text: str, request_id: str) -> dict[str, Any]:
    [line] = [line for line in lines(text) if line["event"] == "request" and line.get("request_id") == request_id]
    return line


async def test_a_session_is_logged_line_by_line_without_a_secret(
    client: AsyncClient, live_url: str, logs: Logs
) -> None:
    password, wrong = f"pw-{uuid.uuid4().hex}", f"wrong-{uuid.uuid4().hex}"
    name = f"logs{secrets.token_hex(4)}"
    body = {"email": f"{name}@example.com", "username": name, "password": password}
    answers = [await client.post("/auth/register", json=body)]
    answers.append(await client.post("/auth/login", data={"username": name, "password": password}))
    access, refresh = answers[-1].json()["access_token"], answers[-1].json()["refresh_token"]
    answers.append(await client.post("/auth/login", data={"username": name, "password": wrong}))
    answers.append(await client.post("/auth/refresh", json={"refresh_token": refresh}))
    renewed = answers[-1].json()
    answers.append(await client.get("/users/me", headers={"Authorization": f"Bearer {access}"}))
    me = answers[-1].json()["id"]
    # The event stream takes its token in the query string (browsers' EventSource), over real HTTP.
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream(
            "GET", f"{live_url}/users/me/notifications/stream", params={"access_token": renewed["access_token"]}
        ) as streamed,
    ):
        await anext(events(streamed))  # connected
    answers.append(streamed)
    deadline = time.monotonic() + 10
    while streamed.headers["x-request-id"] not in logs():  # its line comes once the server sees it closed
        assert time.monotonic() < deadline, "the stream's request line never came"
        await asyncio.sleep(0.05)

    text = logs()
    for secret in (password, wrong, access, refresh, renewed["access_token"], renewed["refresh_token"], "Bearer"):
        assert secret not in text
    requests = [request_line(text, answer.headers["x-request-id"]) for answer in answers]  # one line each
    assert [(line["method"], line["route"], line["status"], line["user_id"]) for line in requests] == [
        ("POST", "/auth/register", 201, None),
        ("POST", "/auth/login", 200, None),
        ("POST", "/auth/login", 401, None),
        ("POST", "/auth/refresh", 200, None),
        ("GET", "/users/{user_id}", 200, me),  # the route's template, not /users/me
        ("GET", "/users/{user_id}/notifications/stream", 200, me),
    ]
    for line in requests:
        assert isinstance(line["duration_ms"], float)
        assert {"timestamp", "level", "logger"} <= line.keys()


async def test_a_valid_request_id_is_kept_and_any_other_replaced(client: AsyncClient, logs: Logs) -> None:
    incoming = uuid.uuid4().hex
    kept = await client.get("/users/123", headers={"X-Request-ID": incoming})
    assert kept.headers["x-request-id"] == incoming
    # The last three pass asgi-correlation-id's default check (anything UUID() parses); not ours.
    odd = [f"urn:uuid:{uuid.uuid4()}", "0123_567" * 4, f"{{{uuid.uuid4().hex}}}"]
    for hostile in ['"}, {"level": "critical', "x" * 300, *odd]:
        replaced = await client.get("/users/123", headers={"X-Request-ID": hostile})
        assert len(replaced.headers["x-request-id"]) == 32
        assert replaced.headers["x-request-id"] != hostile
        assert hostile not in logs()
    assert request_line(logs(), incoming)["status"] == 404


async def test_a_job_has_one_line_with_its_outcome(app: FastAPI, client: AsyncClient, logs: Logs) -> None:
    alice, bob = await make_account(client), await make_account(client)
    liked = await post(client, bob)
    assert (await client.post(f"/posts/{liked['id']}/likes", headers=alice.headers)).status_code == 200
    await drain(app)
    [line] = [line for line in lines(logs()) if line.get("task") == "notifications.deliver"]
    assert line["event"] == "job"
    assert line["outcome"] == "succeeded"
    assert line["attempt"] == 1
    assert isinstance(line["job_id"], int)
    assert isinstance(line["duration_ms"], float)
    assert "Starting job" not in logs()  # procrastinate's own lines give way to this one


async def test_an_unexpected_error_is_logged_with_its_request_id_and_no_local_variable(
    settings: Settings, logs: Logs
) -> None:
    quiet = settings.model_copy(update={"worker": WorkerSettings(in_process=False)})
    app = create_app(quiet)
    secret = f"secret-{uuid.uuid4().hex}"  # made at run time, so no traceback's source line shows it

    @app.get("/fails")
    async def fails() -> None:
        password = secret
        raise RuntimeError(f"failed with a password of {len(password)} characters")

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with LifespanManager(app), AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/fails")
    assert response.status_code == 500
    text = logs()
    assert "RuntimeError: failed with a password of" in text
    assert secret not in text
    request_id = response.headers["x-request-id"]
    error = next(line for line in lines(text) if line["event"].startswith("unhandled error"))
    assert error["request_id"] == request_id
    assert request_line(text, request_id)["status"] == 500


async def test_probes_are_not_logged_at_info(client: AsyncClient, logs: Logs) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status_code == 200
    assert not [line for line in lines(logs()) if line["event"] == "request"]


async def test_a_client_looping_on_404s_is_logged_at_a_sampled_rate(app: FastAPI, logs: Logs) -> None:
    """About 1,000 requests a second for unknown paths from one app filled the log line by line:
    its first five a minute are logged, then one line per hundred, saying so."""
    looping = ASGITransport(app=app, client=("192.0.2.77", 4000))
    elsewhere = ASGITransport(app=app, client=("192.0.2.78", 4000))
    async with AsyncClient(transport=looping, base_url="http://test") as client:
        for number in range(305):
            assert (await client.get(f"/api/v1/nothing/{number}")).status_code == 404
    async with AsyncClient(transport=elsewhere, base_url="http://test") as other:
        assert (await other.get("/api/v1/nothing")).status_code == 404
        assert (await other.get("/users/999999999")).status_code == 404  # a route's 404: always logged
    stray = [line for line in lines(logs()) if line["event"] == "request" and line["status"] == 404]
    assert [line.get("repeated") for line in stray] == [None] * 5 + [100, 100, 100] + [None, None]
    assert stray[-1]["route"] == "/users/{user_id}"


def test_the_format_follows_the_environment_unless_set(settings: Settings, logs: Logs) -> None:
    development = settings.model_copy(update={"environment": Environment.DEVELOPMENT})
    configure_logging(development)
    logging.getLogger("townsquare.example").info("hello %s", "there")
    console = logs().splitlines()[-1]
    assert "hello there" in console
    assert "[townsquare.example]" in console
    assert not console.startswith("{")

    configure_logging(development.model_copy(update={"log": LogSettings(format="json", level="WARNING")}))
    logging.getLogger("townsquare.example").info("not shown")
    structlog.stdlib.get_logger("townsquare.example").warning("shown", answer=42)
    [line] = lines(logs())
    assert line["event"] == "shown"
    assert line["answer"] == 42
    assert line["level"] == "warning"
    assert line["logger"] == "townsquare.example"


def test_an_error_logged_with_its_request_id_is_not_logged_again_by_uvicorn(app: FastAPI) -> None:
    from asgi_correlation_id import correlation_id

    from townsquare.observability.logs import StdoutHandler

    handler = next(h for h in logging.getLogger().handlers if isinstance(h, StdoutHandler))

    def record(name: str, message: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)

    copy = record("uvicorn.error", "Exception in ASGI application\n")
    assert handler.filter(copy)  # outside a request (nothing logged it before): kept
    token = correlation_id.set(uuid.uuid4().hex)
    try:
        assert not handler.filter(copy)  # our handler logged it, with this request's id
        assert handler.filter(record("uvicorn.error", "Something else"))
        assert handler.filter(record("townsquare", "Exception in ASGI application"))
    finally:
        correlation_id.reset(token)
