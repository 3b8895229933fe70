"""Input PostgreSQL cannot store, or that aims at the error paths: always a clear 4xx."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import PASSWORD, make_account
from townsquare.app import create_app
from townsquare.config import DatabaseSettings, Settings
from townsquare.db.session import SessionDep


async def test_nul_characters_are_refused_as_bad_input(client: AsyncClient) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "nul@example.com", "username": "nul_user", "password": PASSWORD, "bio": "a\x00b"},
    )
    assert response.status_code == 422
    account = await make_account(client)
    assert (await client.put("/users/me", headers=account.headers, json={"bio": "a\x00b"})).status_code == 422
    assert (await client.post("/posts", headers=account.headers, json={"content": "a\x00b"})).status_code == 422
    for username in ["a\x00b", "a\x00b@example.com"]:
        login = await client.post("/auth/login", data={"username": username, "password": PASSWORD})
        assert login.status_code == 401
    login = await client.post("/auth/login", data={"username": account.username, "password": "pass\x00word"})
    assert login.status_code == 401


async def test_no_free_connection_is_a_503_not_a_500(settings: Settings) -> None:
    tight = settings.model_copy(update={"db": DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=0.2)})
    app = create_app(tight)
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        async with app.state.database.engine.connect():  # the only connection, held
            response = await client.get("/users/123")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert (await client.get("/users/123")).status_code == 404  # and it recovers


async def test_sql_parameters_never_reach_the_logs(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings)
    secret = f"secret-{uuid.uuid4().hex}"  # made at run time, so no traceback's source line shows it

    @app.get("/fails")
    async def fails(session: SessionDep) -> None:
        # Fails with "division by zero": only the logged parameters could carry the value.
        await session.execute(text("SELECT 1 / 0 WHERE CAST(:secret AS text) IS NOT NULL"), {"secret": secret})

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.DEBUG):
        async with LifespanManager(app), AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/fails")
    assert response.status_code == 500
    assert "division by zero" in caplog.text  # the error was logged...
    assert secret not in caplog.text  # ...without its parameters
    assert secret not in response.text


async def test_a_body_over_the_limit_is_413_before_it_is_read(client: AsyncClient) -> None:
    big = b'{"content": "' + b"a" * 70_000 + b'"}'
    declared = await client.post("/posts", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"a" * 8192

    streamed = await client.post("/auth/register", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"
    # Just under the limit is read and judged on its content.
    fine = await client.post(
        "/auth/register", content=b" " * 60_000 + b"{}", headers={"content-type": "application/json"}
    )
    assert fine.status_code == 422


async def test_a_body_sent_on_an_open_stream_ends_it_quietly(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await make_account(client)

    async def chunks() -> AsyncIterator[bytes]:  # a body on a GET, growing after the stream began
        for _ in range(20):
            yield b"a" * 8192

    async with client.stream(
        "GET", "/users/me/notifications/stream", headers=alice.headers, content=chunks()
    ) as stream:
        assert stream.status_code in (200, 413)
        async for _ in stream.aiter_bytes():
            pass  # the server ends the stream: too late for a 413 once it has begun
    assert "unhandled error" not in caplog.text


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("PUT", "/users/me", {"bio": 123}, ["body", "bio"]),
        ("PUT", "/users/me", {"username": ["x"]}, ["body", "username"]),
        ("PUT", "/users/me", {"username": "a b"}, ["body", "username"]),
        ("POST", "/users/me/notifications/read", {"ids": "1"}, ["body", "ids"]),
        ("POST", "/users/me/notifications/read", {"all": "yes"}, ["body", "all"]),
    ],
)
async def test_an_optional_field_that_fails_is_one_error_at_its_own_path(
    client: AsyncClient, method: str, path: str, body: dict[str, object], loc: list[str]
) -> None:
    """Pydantic reports `X | None` once per member ("constrained-str", and "none": "Input
    should be None"); the answer has one error per field, at the field's path."""
    account = await make_account(client)
    response = await client.request(method, path, json=body, headers=account.headers)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [error["loc"] for error in errors] == [loc]
    assert "should be None" not in errors[0]["msg"]
