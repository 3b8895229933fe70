from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import text

from tests.fixtures.database import fresh_database, maintenance_url
from tests.fixtures.notifications import drain
from tests.fixtures.processes import free_port
from townsquare.app import create_app
from townsquare.config import AuthSettings, Environment, NotificationSettings, ServerSettings, Settings
from townsquare.db.base import Base


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with maintenance_url() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    with fresh_database(server_url) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        auth=AuthSettings(jwt_secret=SecretStr(secrets.token_urlsafe(48))),
        # Idle event streams show a heartbeat within a test's patience.
        notifications=NotificationSettings(stream_heartbeat_seconds=0.3),
        server=ServerSettings(docs=True),
        # Tests make many accounts and writes from one address; rate limits have their own tests.
        rate_limit_enabled=False,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    # raise_app_exceptions=False: a 500 reaches the test as the response a client would get.
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts from empty tables, whatever the one before it left."""
    yield
    if "app" not in request.fixturenames:
        return
    app: FastAPI = request.getfixturevalue("app")
    # Let the in-process worker finish first: a job racing the TRUNCATE would deadlock with it,
    # and come back 2 s later in the middle of the next test.
    await drain(app)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(scope="session")
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    """The session's app served by uvicorn over real HTTP (for streams), in this process."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving
