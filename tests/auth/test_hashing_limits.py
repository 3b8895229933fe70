"""Password hashing is the costliest thing a request can ask for: its use is bounded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from townsquare.auth.passwords import Passwords
from townsquare.config import AuthSettings


@pytest.fixture
def hashing(app: FastAPI) -> Iterator[list[str]]:
    """Every password the app hashes or verifies, recorded as argon2 receives it."""
    context = app.state.passwords._context
    seen: list[str] = []
    original_hash, original_verify = context.hash, context.verify_and_update

    def hash_(password: str, *args: object, **kwargs: object) -> str:
        seen.append(password)
        hashed: str = original_hash(password)
        return hashed

    def verify(password: str, hashed: str) -> tuple[bool, str | None]:
        seen.append(password)
        result: tuple[bool, str | None] = original_verify(password, hashed)
        return result

    context.hash, context.verify_and_update = hash_, verify
    yield seen
    del context.hash, context.verify_and_update


async def test_over_long_passwords_are_refused_before_hashing(client: AsyncClient, hashing: list[str]) -> None:
    alice = await make_account(client)
    hashing.clear()
    huge = "x" * 20_000  # under the body limit, far over the password limit
    registration = {"email": "b@example.com", "username": "bob", "password": huge}
    assert (await client.post("/auth/register", json=registration)).status_code == 422
    login = await client.post("/auth/login", data={"username": alice.username, "password": huge})
    assert login.status_code == 401
    change = {"current_password": huge, "new_password": huge}
    assert (await client.post("/auth/password", json=change, headers=alice.headers)).status_code == 422
    assert hashing == []


async def test_no_more_hashes_run_at_once_than_configured() -> None:
    passwords = Passwords(AuthSettings(max_concurrent_hashes=2))
    running, most = 0, 0
    lock = threading.Lock()
    original = passwords._context.hash

    def hash_(password: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return original(password)
        finally:
            with lock:
                running -= 1

    passwords._context.hash = hash_  # type: ignore[method-assign,assignment]
    hashes = await asyncio.gather(*(passwords.hash(f"password {n}") for n in range(8)))
    assert len(set(hashes)) == 8
    assert most == 2
