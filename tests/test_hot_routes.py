"""Hot routes (kit/hot_routes.py): the feed, the post page and a user's posts answered past
FastAPI's routing and dependency solving, with the bytes FastAPI's routes send."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from tests.test_metrics import REQUESTS, parse, value
from townsquare.app import create_app
from townsquare.config import Settings
from townsquare.db.hot import HotReads
from townsquare.db.session import _hot_reads
from townsquare.kit.pagination import encode_cursor

# Per response: differs between any two requests.
VARYING = {"x-request-id", "date"}


@pytest.fixture
async def reference(settings: Settings) -> AsyncIterator[AsyncClient]:
    """The same app on the same database with FastAPI's routes answering every request."""
    server = settings.server.model_copy(update={"hot_routes": False})
    application = create_app(settings.model_copy(update={"server": server}))
    async with LifespanManager(application):
        transport = ASGITransport(app=application, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def answer(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {name: value for name, value in response.headers.items() if name not in VARYING}
    return response.status_code, headers, response.content


async def requests_of_every_kind(client: AsyncClient) -> list[tuple[str, dict[str, str]]]:
    """Plain and not plain, right and wrong, with their token headers."""
    reader, author = await make_account(client), await make_account(client)
    await follow(client, reader, author)
    posts = [await post(client, author, f"post {n}") for n in range(3)]
    gone = await make_account(client)
    assert (await client.post("/auth/logout", headers=gone.headers)).status_code == 204
    token = reader.headers
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    forged = {"Authorization": "Bearer not.a.token"}
    spaced = {"Authorization": f"Bearer  {reader.access_token}"}
    cursor = encode_cursor(int(posts[1]["id"]))
    paged = ["", "?limit=1", "?limit=100", "?limit=0", "?limit=101", "?limit=abc", "?limit=", "?limit=01"]
    paged += ["?limit=1&limit=2", f"?cursor={cursor}", "?cursor=nonsense", "?cursor=" + "a" * 201, "?other=1"]
    paged += [f"?limit=1&cursor={cursor}", "?limit=+5", "?limit=%205"]
    kinds = [token, {}, basic, forged, spaced, gone.headers]
    found: list[tuple[str, dict[str, str]]] = []
    for headers in kinds:
        found += [(f"/feed{query}", headers) for query in paged]
        for ref in (posts[0]["id"], "1", "abc", "me", "9" * 21, "9" * 20, "-1"):
            found.append((f"/posts/{ref}", headers))
        for ref in (author.id, reader.id, "me", "abc", "1", "9" * 21):
            found += [(f"/users/{ref}/posts{query}", headers) for query in paged[:6]]
    found += [("/feed/", token), ("/posts/", token), ("/users//posts", token), ("/feed", {**token, "Origin": "x"})]
    return found


async def test_every_answer_is_the_fastapi_routes_own(client: AsyncClient, reference: AsyncClient) -> None:
    requests = await requests_of_every_kind(client)
    assert len(requests) > 300
    for path, headers in requests:
        hot, fastapi = await client.get(path, headers=headers), await reference.get(path, headers=headers)
        assert answer(hot) == answer(fastapi), (path, headers)
    statuses = {(await client.get(path, headers=headers)).status_code for path, headers in requests}
    assert statuses >= {200, 401, 404, 422}  # the corpus reaches every kind of answer


async def test_plain_requests_never_reach_fastapi_and_the_rest_do(app: FastAPI, client: AsyncClient) -> None:
    reader = await make_account(client)
    published, _ = await post(client, reader), await post(client, reader)
    through_fastapi: list[str] = []

    async def recorded(request: Request) -> HotReads:
        through_fastapi.append(request.url.path + "?" + request.url.query)
        return await _hot_reads(request)

    app.dependency_overrides[_hot_reads] = recorded
    try:
        for path in ("/feed", "/feed?limit=5", f"/posts/{published['id']}", "/posts/1", "/users/me/posts"):
            assert (await client.get(path, headers=reader.headers)).status_code in (200, 404)
        assert through_fastapi == []
        for path in ("/feed?limit=abc", f"/users/{reader.id}/posts?limit=500"):
            assert (await client.get(path, headers=reader.headers)).status_code == 422
        # FastAPI takes the last of a repeated parameter.
        assert len((await client.get("/feed?limit=5&limit=1", headers=reader.headers)).json()["items"]) == 1
        assert (await client.get("/feed", headers={"Authorization": "Basic eDp5"})).status_code == 401
        assert len(through_fastapi) == 4
    finally:
        app.dependency_overrides.pop(_hot_reads)


async def test_hot_answers_are_measured_and_secured_as_routes(client: AsyncClient) -> None:
    reader: Account = await make_account(client)
    before = parse((await client.get("/metrics")).text)
    response = await client.get("/posts/12345", headers=reader.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"  # it carried a token
    assert response.headers["x-request-id"]
    assert (await client.get("/feed", headers=reader.headers)).status_code == 200
    after = parse((await client.get("/metrics")).text)

    def added(route: str, status: str) -> float:
        return value(after, REQUESTS, method="GET", route=route, status=status) - value(
            before, REQUESTS, method="GET", route=route, status=status
        )

    assert added("/posts/{post_id}", "404") == 1
    assert added("/feed", "200") == 1
