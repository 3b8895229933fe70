"""Headers, CORS and the documentation switch: what a browser or a scanner sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr, ValidationError

from tests.fixtures.accounts import make_account
from townsquare.app import create_app
from townsquare.config import DatabaseSettings, Environment, ServerSettings, Settings


async def test_every_answer_carries_the_security_headers(client: AsyncClient) -> None:
    for response in (await client.get("/healthz"), await client.get("/no/such/route")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in response.headers  # plain HTTP here


async def test_answers_to_a_token_are_not_stored(client: AsyncClient) -> None:
    alice = await make_account(client)
    private = await client.get("/users/me", headers=alice.headers)
    assert private.headers["cache-control"] == "no-store"
    public = await client.get(f"/users/{alice.id}")
    assert "no-store" not in public.headers.get("cache-control", "")


@asynccontextmanager
async def serving(settings: Settings, base_url: str = "http://t") -> AsyncIterator[AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url=base_url) as client:
        yield client


async def test_issued_tokens_are_not_stored(client: AsyncClient) -> None:
    alice = await make_account(client)  # OAuth 2.0 (RFC 6749 5.1): token answers are not cached
    login = await client.post("/auth/login", data={"username": alice.username, "password": alice.password})
    refresh = await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert [login.status_code, refresh.status_code] == [200, 200]
    assert login.headers["cache-control"] == refresh.headers["cache-control"] == "no-store"


async def test_hsts_over_tls(settings: Settings) -> None:
    async with serving(settings, "https://t") as client:
        response = await client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_cors_is_off_unless_origins_are_configured(client: AsyncClient, settings: Settings) -> None:
    asked = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in (await client.options("/posts", headers=asked)).headers
    allowed = settings.model_copy(update={"server": ServerSettings(cors_origins=["https://app.example"])})
    async with serving(allowed) as other:
        ok = await other.options("/posts", headers={**asked, "Origin": "https://app.example"})
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        refused = await other.options("/posts", headers=asked)
        assert "access-control-allow-origin" not in refused.headers


async def test_docs_are_off_outside_development_unless_turned_on(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": Environment.PRODUCTION, "server": ServerSettings()})
    async with serving(production) as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404
        assert (await client.get("/static-offline-docs/swagger-ui-bundle.js")).status_code == 404
    turned_on = production.model_copy(update={"server": ServerSettings(docs=True)})
    async with serving(turned_on) as client:
        assert (await client.get("/openapi.json")).status_code == 200


def test_sql_echo_is_refused_outside_development() -> None:
    secret = SecretStr("x" * 48)
    with pytest.raises(ValidationError, match="ECHO"):
        Settings(environment=Environment.PRODUCTION, auth={"jwt_secret": secret}, db=DatabaseSettings(echo=True))
    Settings(environment=Environment.DEVELOPMENT, db=DatabaseSettings(echo=True))
