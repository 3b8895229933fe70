"""Contract fuzzing: every operation, fed generated requests, answers only as the OpenAPI document says.

Schemathesis generates requests from the document (examples, coverage and fuzzing phases; valid and
invalid inputs) and checks each answer: no 5xx, a documented status code, content type and headers, a body
that matches the documented schema, invalid input refused, a 405 that names the allowed methods.
Deterministic (fixed seed); `CONTRACT_EXAMPLES=500` digs deeper, `CONTRACT_SEED=<n>` looks elsewhere.

Schemathesis' transport is synchronous, and the app (with its connection pool) lives on the session's
event loop: requests go over HTTP to `live_url`, from a worker thread, while that loop serves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import schemathesis
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.checks import allow_header_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.fixtures.accounts import PASSWORD, Account, make_account
from tests.fixtures.content import follow, post
from tests.fixtures.processes import free_port
from townsquare.app import create_app
from townsquare.config import (
    AuthSettings,
    DatabaseSettings,
    Environment,
    ServerSettings,
    Settings,
    WorkerSettings,
)

T = TypeVar("T")
Case = schemathesis.Case[Any]

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
SEED = int(os.environ.get("CONTRACT_SEED", "20261123"))
STREAM_PATH = "/users/{user_id}/notifications/stream"
OVERSIZED_BODY: dict[str, Any] = {"padding": "x" * (64 * 1024)}  # over the default 64 KiB limit, whatever the fields
NO_DATABASE_CALL = {"GET /healthz"}
PLAIN = {"user_id": "me", "post_id": "1", "comment_id": "1", "report_id": "1", "q": "run"}
# The one check left out: the API answers 422 to some requests the schema cannot rule out (a cursor it did
# not issue, following yourself), as the contract says it does.
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    "checks": {"positive_data_acceptance": {"enabled": False}},
}
DOCUMENT_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _documented_api() -> OpenApiSchema:
    """The document the app serves; building an app connects to nothing, so it can be read at collection.

    (`schemathesis.pytest.from_fixture` would read it from the session's app, but fails on pytest 9.2.)
    """
    app = create_app(
        Settings(
            environment=Environment.TEST,
            database_url="postgresql://unused@localhost/unused",
            auth=AuthSettings(jwt_secret=SecretStr(secrets.token_urlsafe(48))),
            server=ServerSettings(docs=True),
        )
    )
    return schemathesis.openapi.from_dict(app.openapi(), config=schemathesis.Config.from_dict(CONFIG))


schema = _documented_api()
DOCUMENT: dict[str, Any] = schema.raw_schema
OPERATIONS = [(method, path) for path, item in DOCUMENT["paths"].items() for method in item]


def _operation(method: str, path: str) -> dict[str, Any]:
    definition: dict[str, Any] = DOCUMENT["paths"][path][method]
    return definition


def _takes_token(method: str, path: str) -> bool:
    return any(requirement for requirement in _operation(method, path).get("security", []))


@dataclass(frozen=True)
class World:
    """A caller with some data around them, and values that name what exists."""

    caller: Account
    known: Mapping[str, Sequence[str]]

    @property
    def headers(self) -> dict[str, str]:
        return self.caller.headers


@pytest.fixture
async def world(client: AsyncClient) -> World:
    caller = await make_account(client)
    other = await make_account(client)
    await follow(client, caller, other)
    await follow(client, other, caller)
    mine = await post(client, caller, "my running shoes")
    theirs = await post(client, other, "their morning run")
    comments = []
    for author, target in [(caller, theirs), (other, mine)]:
        response = await client.post(f"/posts/{target['id']}/comments", headers=author.headers, json={"content": "hi"})
        assert response.status_code == 201, response.text
        comments.append(response.json()["id"])
    liked = await client.post(f"/posts/{mine['id']}/likes", headers=other.headers)
    assert liked.status_code == 200, liked.text
    return World(
        caller=caller,
        known={
            "user_id": ["me", caller.id, other.id],
            "post_id": [mine["id"], theirs["id"]],
            "comment_id": comments,
            "password": [PASSWORD],
            "current_password": [PASSWORD],
            "refresh_token": [caller.refresh_token],
            "username": [caller.username, other.username],
        },
    )


@pytest.fixture(scope="session")
async def session_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def _serving(loop: asyncio.AbstractEventLoop, blocking: Callable[[], T]) -> T:
    """Run `blocking` in a thread while the session's loop (idle during a sync test) serves the app."""
    return loop.run_until_complete(asyncio.to_thread(blocking))


def _pick(value: T, known: Sequence[str]) -> T | str:
    """Swap about half of the generated strings for one that names something that exists."""
    if not isinstance(value, str) or not known:
        return value
    digest = zlib.crc32(value.encode("utf-8", "surrogatepass"))
    return value if digest % 2 else known[digest // 2 % len(known)]


def _name_existing_things(case: Case, known: Mapping[str, Sequence[str]]) -> None:
    for name, value in case.path_parameters.items():
        case.path_parameters[name] = _pick(value, known.get(name, ()))
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            case.body[name] = _pick(value, known.get(name, ()))


@schema.parametrize()
# One world per operation, shared by its examples on purpose: what one request changes, the next meets.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_keeps_its_contract(
    case: Case, live_url: str, world: World, session_loop: asyncio.AbstractEventLoop
) -> None:
    if case.meta is not None and case.meta.generation.mode is schemathesis.GenerationMode.POSITIVE:
        # Valid values for valid ones only: an invalid request stays invalid, and is judged as one.
        _name_existing_things(case, world.known)
    timeout = 0.5 if case.path == STREAM_PATH else 30  # an event stream never ends: read it for a moment

    # `/users/me` is also `/users/{user_id}` with `me`: its 405 rightly allows GET and PUT too,
    # which the document lists under the template, not under `/users/me` (DELETE only).
    excluded = [allow_header_conformance] if case.path == "/users/me" else []

    def call() -> None:
        case.call_and_validate(base_url=live_url, headers=world.headers, timeout=timeout, excluded_checks=excluded)

    _serving(session_loop, call)


def _plain_case(method: str, path: str, body: dict[str, Any] | None = None) -> Case:
    """A request to the operation, with well-formed ids and the query values it requires."""
    parameters = _operation(method, path).get("parameters", [])
    operation = schema[path][method.upper()]
    path_parameters = {p["name"]: PLAIN[p["name"]] for p in parameters if p["in"] == "path"}
    query = {p["name"]: PLAIN[p["name"]] for p in parameters if p["in"] == "query" and p.get("required")}
    if body is None:
        return operation.Case(path_parameters=path_parameters, query=query)
    return operation.Case(path_parameters=path_parameters, query=query, body=body)


async def _send(case: Case, base_url: str, headers: dict[str, str]) -> schemathesis.Response:
    response = await asyncio.to_thread(case.call, base_url=base_url, headers=headers, timeout=5)
    case.validate_response(response, checks=DOCUMENT_CHECKS)
    return response


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p in OPERATIONS if "requestBody" in _operation(m, p)], ids=str
)
async def test_an_oversized_body_is_a_documented_413(method: str, path: str, live_url: str) -> None:
    response = await _send(_plain_case(method, path, OVERSIZED_BODY), live_url, {})
    assert response.status_code == 413


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in OPERATIONS if _takes_token(m, p)], ids=str)
async def test_a_bad_token_is_a_documented_401(method: str, path: str, live_url: str) -> None:
    response = await _send(_plain_case(method, path), live_url, {"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == ["Bearer"]


@contextlib.asynccontextmanager
async def _served(app: FastAPI) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, port=free_port(), lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        await serving


@pytest.fixture(scope="module")
async def unavailable_url(settings: Settings) -> AsyncIterator[str]:
    """An app whose only database connection is taken: every query times out waiting for the pool."""
    starved = settings.model_copy(
        update={
            "db": DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=0.05),
            "worker": WorkerSettings(in_process=False),
        }
    )
    app = create_app(starved)
    async with LifespanManager(app), app.state.database.engine.connect(), _served(app) as url:
        yield url


_PUBLIC_BODIES: dict[str, Callable[[Account], dict[str, Any]]] = {
    "POST /auth/register": lambda _: {"email": "fresh@example.com", "username": "fresh", "password": PASSWORD},
    "POST /auth/login": lambda account: {"username": account.username, "password": PASSWORD},
    "POST /auth/refresh": lambda account: {"refresh_token": account.refresh_token},
}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=str)
async def test_an_unavailable_database_is_a_documented_503(
    method: str, path: str, unavailable_url: str, client: AsyncClient
) -> None:
    account = await make_account(client)
    label = f"{method.upper()} {path}"
    # Requests with a token fail at authentication, before their body is read; the others need a valid one.
    body = _PUBLIC_BODIES[label](account) if label in _PUBLIC_BODIES else None
    if body is None and "requestBody" in _operation(method, path) and not _takes_token(method, path):
        pytest.fail(f"{label}: add a valid body to _PUBLIC_BODIES")
    response = await _send(_plain_case(method, path, body), unavailable_url, account.headers)
    assert response.status_code == (200 if label in NO_DATABASE_CALL else 503)


def test_the_fuzzed_document_is_the_served_one(app: FastAPI) -> None:
    assert app.openapi() == DOCUMENT


def _is_problem(response: dict[str, Any]) -> bool:
    content: dict[str, Any] = response.get("content", {})
    return set(content) == {"application/problem+json"} and "schema" in content["application/problem+json"]


def test_every_error_documents_a_problem_body() -> None:
    wrong = [
        f"{method.upper()} {path} {status}"
        for method, path in OPERATIONS
        for status, response in _operation(method, path)["responses"].items()
        if int(status) >= 400 and not _is_problem(response)
    ]
    assert not wrong, "error responses must be application/problem+json with the Problem schema"


def test_validation_failures_are_documented_where_there_is_input() -> None:
    wrong = [
        f"{method.upper()} {path}"
        for method, path in OPERATIONS
        if ("422" in _operation(method, path)["responses"])
        != bool(_operation(method, path).get("parameters") or "requestBody" in _operation(method, path))
    ]
    assert not wrong, "422 documented on an operation that takes no input, or missing on one that does"
