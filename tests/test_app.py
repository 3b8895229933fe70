"""Platform behaviour every endpoint shares: health, docs, and errors as problem+json."""

from __future__ import annotations

import re
import secrets

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from townsquare.app import create_app
from townsquare.config import AuthSettings, Environment, Settings
from townsquare.db.session import SessionDep

PROBLEM = "application/problem+json"


def assert_problem(response_json: dict[str, object], status: int) -> None:
    assert response_json["status"] == status
    assert {"type", "title", "status", "detail"} <= response_json.keys()


async def test_healthz_and_readyz(client: AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    settings = Settings(
        environment=Environment.TEST,
        database_url="postgresql://postgres@127.0.0.1:1/nowhere",  # nothing listens on port 1
        auth=AuthSettings(jwt_secret=SecretStr(secrets.token_urlsafe(48))),
    )
    app = create_app(settings)
    async with LifespanManager(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert "127.0.0.1" not in response.text  # no connection details leak
        # A request that needs the database is a clear 503 too, not a 500.
        register = await client.post(
            "/auth/register", json={"email": "a@example.com", "username": "abc", "password": "long enough"}
        )
        assert register.status_code == 503
        assert register.headers["retry-after"] == "1"
        assert_problem(register.json(), 503)


async def test_openapi_and_docs(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path in ["/auth/register", "/auth/login", "/auth/refresh", "/users/{user_id}", "/users/me"]:
        assert path in schema["paths"]
    # The Authorize button of /docs uses the OAuth2 password flow at /auth/login.
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/auth/login"
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_need_no_internet(client: AsyncClient, page: str) -> None:
    html = (await client.get(page)).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets  # scripts, styles, the icon
    assert not [url for url in assets if not url.startswith("/")], "every asset from this server"
    assert "fonts.googleapis" not in html
    for url in assets:
        served = await client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 100, url


async def test_unknown_route_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert_problem(response.json(), 404)


async def test_wrong_method_is_a_405_problem_with_allow(client: AsyncClient) -> None:
    response = await client.patch("/auth/register")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert "POST" in response.headers["allow"]
    assert_problem(response.json(), 405)


async def test_validation_error_lists_fields_without_echoing_input(client: AsyncClient) -> None:
    response = await client.post(
        "/auth/register", json={"email": "not-an-email", "username": "x", "password": "hunter2secret!" * 20}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert_problem(body, 422)
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert {("body", "email"), ("body", "username"), ("body", "password")} <= locations
    assert "hunter2secret" not in response.text


async def test_malformed_json_is_a_422_problem(client: AsyncClient) -> None:
    response = await client.post("/auth/register", content=b'{"email": ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert_problem(response.json(), 422)


async def test_unexpected_error_is_a_500_problem_without_internals(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom(session: SessionDep) -> None:
        raise RuntimeError("secret internal detail")

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with LifespanManager(app), AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert_problem(response.json(), 500)
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
