"""Contract fuzzing of the Mastodon surface: every route, fed odd parameters and bodies in every
encoding its clients use, with and without a token, answers below 500, and its errors are
Mastodon's `{"error": ...}` as application/json.

The native API is fuzzed from its OpenAPI document (tests/test_contract.py); this surface's
contract is Mastodon's documentation, so its requests are made here. Deterministic (a fixed
seed); `MASTODON_FUZZ_EXAMPLES=200` digs deeper, `MASTODON_FUZZ_SEED=<n>` looks elsewhere.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.mastodon import create_app, token_for
from townsquare.mastodon import PREFIXES
from townsquare.mastodon.router import PARTS

EXAMPLES = int(os.environ.get("MASTODON_FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("MASTODON_FUZZ_SEED", "20261207"))
# Streams never end by themselves: they have their own tests (test_streaming, test_mastodon_py).
ENDLESS = ("/api/v1/streaming/user", "/api/v1/streaming/public")
# Answers that are not JSON by design: the authorization page, the default images, a health text.
NOT_JSON = ("/oauth/authorize", "/avatars/", "/headers/", "/api/v1/streaming/health")

KEYS = [
    "status",
    "in_reply_to_id",
    "max_id",
    "since_id",
    "min_id",
    "limit",
    "offset",
    "q",
    "type",
    "acct",
    "note",
    "display_name",
    "client_name",
    "redirect_uris",
    "scopes",
    "scope",
    "website",
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "code_verifier",
    "redirect_uri",
    "username",
    "password",
    "email",
    "agreement",
    "token",
    "refresh_token",
    "response_type",
    "state",
    "code_challenge",
    "login",
    "decision",
    "id[]",
    "types[]",
    "exclude_types[]",
    "timeline[]",
    "media_ids[]",
    "poll[options][]",
    "notifications[last_read_id]",
    "pinned",
    "only_media",
    "local",
    "resolve",
    "sensitive",
    "visibility",
    "spoiler_text",
    "language",
]
VALUES = [
    "",
    " ",
    "0",
    "1",
    "-1",
    "true",
    "false",
    "null",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999",
    "1.5",
    "abc",
    "me",
    "@someone@elsewhere.example",
    "read write follow push",
    "read:statuses",
    "bogus:scope",
    "urn:ietf:wg:oauth:2.0:oob",
    "javascript:alert(1)",
    "https://x.example/cb",
    "password",
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "<script>x</script>",
    "x" * 600,
    "\u200b",
    "é",
    "%00",
    "\x00",
    "a\x00b",
    "[]",
    "{}",
    "\ufeff",
    "a\nb\n\nc",
]


def _value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.75:
        return rng.choice(VALUES)
    if roll < 0.85:
        return rng.randint(-(2**70), 2**70)
    if roll < 0.92:
        return [rng.choice(VALUES) for _ in range(rng.randint(0, 3))]
    return {rng.choice(KEYS): rng.choice(VALUES)}


def _params(rng: random.Random) -> dict[str, Any]:
    return {rng.choice(KEYS): _value(rng) for _ in range(rng.randint(0, 5))}


def _flat(params: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (key, item if isinstance(item, str) else json.dumps(item))
        for key, value in params.items()
        for item in (value if isinstance(value, list) else [value])
    ]


def _path(route: APIRoute, rng: random.Random, ids: list[str]) -> str:
    path = route.path
    for name in route.param_convertors:
        path = path.replace("{" + name + "}", rng.choice([*ids, "0", "abc", "9" * 25, "-1", "%20", "me"]))
    return path


async def test_no_mastodon_route_answers_5xx_or_problem_json(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    token = await token_for(client, alice)
    registered = await create_app(client)
    post = (await client.post("/api/v1/statuses", headers=token.headers, data={"status": "fuzz target"})).json()
    reply = (
        await client.post(
            "/api/v1/statuses", headers=token.headers, data={"status": "re", "in_reply_to_id": post["id"]}
        )
    ).json()
    ids = [alice.id, bob.id, post["id"], reply["id"]]
    routes = [
        route
        for part in PARTS
        for route in part.router.routes
        if isinstance(route, APIRoute) and not route.path.startswith(ENDLESS)
    ]
    assert all(route.path.startswith(PREFIXES) for route in routes)
    assert len(routes) > 60  # the whole surface, not a part of it
    rng = random.Random(SEED)
    failures = []
    for route in routes:
        for method in sorted((route.methods or set()) - {"HEAD"}):
            for _ in range(EXAMPLES):
                params = _params(rng)
                if "client_id" in params and rng.random() < 0.5:
                    params["client_id"] = registered.client_id
                headers = token.headers if rng.random() < 0.6 else {}
                request: dict[str, Any] = {"params": _flat(_params(rng))}
                if method != "GET":
                    encoding = rng.choice(["form", "json", "multipart", "raw"])
                    if encoding == "form":
                        request["data"] = dict(_flat(params))
                    elif encoding == "json":
                        request["json"] = params if rng.random() < 0.9 else [params]
                    elif encoding == "multipart":
                        request["files"] = {key: (None, value) for key, value in _flat(params)} or {"x": (None, "")}
                    else:
                        request["content"] = rng.choice([b"\xff\xfe", b"{", b"null", b"[1,2]", b"a=%ZZ"])
                        headers = {
                            **headers,
                            "Content-Type": rng.choice(["application/json", "application/x-www-form-urlencoded"]),
                        }
                path = _path(route, rng, ids)
                response = await client.request(method, path, headers=headers, **request)
                problem = response.status_code >= 500 or (
                    response.status_code >= 400
                    and not path.startswith(NOT_JSON)
                    and (response.headers.get("content-type") != "application/json" or "error" not in response.json())
                )
                if problem:
                    failures.append((method, path, request, response.status_code, response.text[:200]))
    assert not failures, failures[:10]
