"""argon2id password hashing, off the event loop and bounded in how many run at once."""

from __future__ import annotations

import secrets
from functools import cached_property

import anyio
import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from townsquare.config import AuthSettings


class Passwords:
    def __init__(self, settings: AuthSettings) -> None:
        self._context = PasswordHash(
            (
                Argon2Hasher(
                    memory_cost=settings.argon2_memory_kib,
                    time_cost=settings.argon2_time_cost,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )
        self._max_concurrent = settings.max_concurrent_hashes

    @cached_property
    def _limiter(self) -> anyio.CapacityLimiter:
        # Created on first use, inside the running event loop.
        return anyio.CapacityLimiter(self._max_concurrent)

    @cached_property
    def _dummy_hash(self) -> str:
        # Verifying against this when the account does not exist makes both cases cost the same.
        return self._context.hash(secrets.token_urlsafe(16))

    def _verify_dummy(self, password: str) -> None:
        # In the worker thread: the first call also computes the dummy hash.
        self._context.verify(password, self._dummy_hash)

    async def warm_up(self) -> None:
        """Compute the dummy hash at start-up, not during someone's first login."""
        await anyio.to_thread.run_sync(self._verify_dummy, "")

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._context.hash, password, limiter=self._limiter)

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """Whether `password` matches, and a new hash when the stored one uses outdated parameters."""
        if hashed is None:
            await anyio.to_thread.run_sync(self._verify_dummy, password, limiter=self._limiter)
            return False, None
        return await anyio.to_thread.run_sync(self._context.verify_and_update, password, hashed, limiter=self._limiter)
