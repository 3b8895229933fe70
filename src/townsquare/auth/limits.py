"""The server's rate-limit policies, built from settings, and the dependencies that apply them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from townsquare.config import Settings
from townsquare.kit.openapi import answers
from townsquare.kit.rate_limits import Policy, RateLimiter, TooManyRequests, client_address, enforce


@dataclass(frozen=True, slots=True)
class Limits:
    limiter: RateLimiter
    login_per_account: Policy
    login_per_address: Policy
    registrations_per_address: Policy
    signup_attempts_per_address: Policy
    apps_per_address: Policy
    writes_per_user: Policy
    reports_per_user: Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        numbers = settings.rate_limit
        return cls(
            limiter=RateLimiter(
                enabled=settings.rate_limit_enabled, redis_url=settings.redis_url, key_prefix=numbers.key_prefix
            ),
            login_per_account=Policy.parse("login-account", numbers.login_per_account),
            login_per_address=Policy.parse("login-address", numbers.login_per_address),
            registrations_per_address=Policy.parse("registration-address", numbers.registrations_per_address),
            signup_attempts_per_address=Policy.parse("signup-attempt-address", numbers.signup_attempts_per_address),
            apps_per_address=Policy.parse("app-address", numbers.apps_per_address),
            writes_per_user=Policy.parse("writes-user", numbers.writes_per_user),
            reports_per_user=Policy.parse("reports-user", numbers.reports_per_user),
        )

    async def password_attempt(self, account: str) -> None:
        """Count a password check for the account; 429 once it has had too many."""
        await self.limiter.hit(self.login_per_account, account)

    async def password_correct(self, account: str) -> None:
        await self.limiter.clear(self.login_per_account, account)

    async def signup_attempt(self, address: str) -> None:
        """Before a valid sign-up reaches the database: 429 if the address has made its accounts
        for now (not counted until one is made), or tried too often (counted)."""
        await self.limiter.check(self.registrations_per_address, address)
        await self.limiter.hit(self.signup_attempts_per_address, address)

    async def reported(self, user: str) -> None:
        """A valid report by the user; 429 once they made too many."""
        await self.limiter.hit(self.reports_per_user, user)

    async def signed_up(self, address: str) -> None:
        """An account was made from the address."""
        # A concurrent sign-up may have taken the last place: this account is made all the same.
        with contextlib.suppress(TooManyRequests):
            await self.limiter.hit(self.registrations_per_address, address)


# async although it waits for nothing: FastAPI runs a plain `def` dependency in a thread.
@answers(429)
async def _limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


LimitsDep = Annotated[Limits, Depends(_limits)]


async def _login_allowed(request: Request, response: Response, limits: LimitsDep) -> None:
    await enforce(limits.limiter, limits.login_per_address, client_address(request), response)


async def _app_registration_allowed(request: Request, response: Response, limits: LimitsDep) -> None:
    await enforce(limits.limiter, limits.apps_per_address, client_address(request), response)


AppRegistrationAllowed = Depends(_app_registration_allowed)
LoginAllowed = Depends(_login_allowed)
