"""What a review of the Mastodon surface found and must stay fixed: app sessions that could
become native ones, private posts published as public, a cross-site authorization form, and
inputs that were answered with a 500."""

from __future__ import annotations

import base64
import json

import pytest
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.mastodon import OOB, create_app, password_token


async def test_an_app_login_never_becomes_a_native_login(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client, scopes="read")
    token = await password_token(client, app, alice, scope="read")
    assert token.refresh_token is not None
    # the native refresh does not know the app's refresh token: no JWT with every scope
    native = await client.post("/auth/refresh", json={"refresh_token": token.refresh_token})
    assert native.status_code == 401
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": token.refresh_token,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    renewed = await client.post("/oauth/token", data=refresh)
    assert renewed.status_code == 200
    assert renewed.json()["scope"] == "read"  # the scopes stay what they were
    headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert (await client.post("/api/v1/statuses", headers=headers, data={"status": "no"})).status_code == 403
    again = await client.post("/oauth/token", data=refresh)  # the old refresh token is spent
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    other = await create_app(client, scopes="read")
    stolen = {
        **refresh,
        "refresh_token": renewed.json()["refresh_token"],
        "client_id": other.client_id,
        "client_secret": other.client_secret,
    }
    assert (await client.post("/oauth/token", data=stolen)).status_code == 400  # another app's


async def test_private_posts_and_content_warnings_are_refused_not_published(client: AsyncClient) -> None:
    alice = await make_account(client)
    token = await password_token(client, await create_app(client), alice)
    for extra in (
        {"visibility": "direct"},
        {"visibility": "private"},
        {"visibility": "unlisted"},
        {"spoiler_text": "cw"},
    ):
        refused = await client.post("/api/v1/statuses", headers=token.headers, data={"status": "secret", **extra})
        assert refused.status_code == 422, extra
        assert "error" in refused.json()
    assert (await client.get(f"/users/{alice.id}")).json()["posts_count"] == 0
    public = await client.post(
        "/api/v1/statuses", headers=token.headers, data={"status": "fine", "visibility": "public", "spoiler_text": ""}
    )
    assert public.status_code == 200


async def test_the_authorization_form_is_refused_from_other_sites(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client)
    form = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": OOB,
        "login": alice.username,
        "password": alice.password,
    }
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = await client.post("/oauth/authorize", data=form, headers=headers)
        assert refused.status_code == 403, headers
        assert "code" not in refused.text.lower() or 'id="code"' not in refused.text
    ours = await client.post(
        "/oauth/authorize", data=form, headers={"Origin": "http://test", "Sec-Fetch-Site": "same-origin"}
    )
    assert ours.status_code == 200
    assert 'id="code"' in ours.text
    page = await client.get("/oauth/authorize", params=form, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in page.headers  # a page for people, not other sites' scripts


async def test_pkce_and_redirects_follow_the_rfcs(client: AsyncClient) -> None:
    app = await create_app(client, redirect_uris="https://app.example/cb")
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": "https://app.example/cb"}
    no_method = await client.get("/oauth/authorize", params={**query, "code_challenge": "a" * 43})
    assert no_method.status_code == 400  # `plain` would be the default: only S256, said explicitly
    odd = await client.get(
        "/oauth/authorize", params={**query, "code_challenge": "é" * 43, "code_challenge_method": "S256"}
    )
    assert odd.status_code == 400
    fragment = await client.post(
        "/api/v1/apps", data={"client_name": "x", "redirect_uris": "https://app.example/cb#frag"}
    )
    assert fragment.status_code == 422


async def test_scopes_default_to_read_and_any_token_verifies_its_app(client: AsyncClient) -> None:
    alice = await make_account(client)
    app = await create_app(client, scopes="read write")
    body = {
        "grant_type": "password",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "username": alice.username,
        "password": alice.password,
    }
    granted = await client.post("/oauth/token", data=body)
    assert granted.json()["scope"] == "read"  # as Mastodon: no scope asked, `read` given
    writer = await client.post("/oauth/token", data={**body, "scope": "write"})
    headers = {"Authorization": f"Bearer {writer.json()['access_token']}"}
    assert (await client.get("/api/v1/apps/verify_credentials", headers=headers)).status_code == 200


NON_ASCII_BASIC = {"Authorization": "Basic é".encode()}


@pytest.mark.parametrize(
    "request_args",
    [
        {"method": "POST", "url": "/oauth/token", "headers": NON_ASCII_BASIC, "data": {"grant_type": "x"}},
        {"method": "POST", "url": "/oauth/revoke", "headers": NON_ASCII_BASIC, "data": {"token": "x"}},
        {
            "method": "POST",
            "url": "/api/v1/apps",
            "content": "[" * 30_000 + "]" * 30_000,
            "headers": {"Content-Type": "application/json"},
        },
        {"method": "POST", "url": "/api/v1/apps", "data": {"client_name": "x", "redirect_uris[]": "https://a/\x00"}},
        {"method": "POST", "url": "/api/v1/apps", "json": {"client_name": "x", "redirect_uris": ["https://a/\u0000"]}},
        {"method": "GET", "url": "/api/v1/accounts/lookup", "params": {"acct": "\x00ab"}},
    ],
)
async def test_odd_input_is_a_4xx(client: AsyncClient, request_args: dict[str, object]) -> None:
    response = await client.request(**request_args)  # type: ignore[arg-type]
    assert 400 <= response.status_code < 500, response.text
    assert "error" in json.loads(response.text)


async def test_a_non_ascii_basic_secret_is_an_unknown_client(client: AsyncClient) -> None:
    credentials = base64.b64encode("é:é".encode()).decode()
    response = await client.post(
        "/oauth/token", headers={"Authorization": f"Basic {credentials}"}, data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
