"""Rate limits: named policies counted in moving windows by the `limits` library.

Counters live in Redis when a URL is given, so every API process shares them; otherwise in
this process's memory. Should Redis fail, counting goes on in memory (per process) and a
warning is logged: limits get looser for a while, but never disappear.

Clients learn where they stand from the `RateLimit` and `RateLimit-Policy` headers of
draft-ietf-httpapi-ratelimit-headers (a policy per window, e.g. `"login-account-60s";q=5;w=60`),
and from `Retry-After` on the 429 problem.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from fastapi import Request, Response
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from townsquare.kit.errors import DomainError

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

log = logging.getLogger(__name__)

T = TypeVar("T")

# A slow Redis must not stall requests: past this, counting falls back to memory, and Redis is
# tried again after a pause.
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Policy:
    """One limited thing (e.g. "login-account"), with one or more windows that all apply."""

    name: str
    items: tuple[RateLimitItem, ...]

    @classmethod
    def parse(cls, name: str, notation: str) -> Policy:
        return cls(name, tuple(parse_many(notation)))

    def window_name(self, item: RateLimitItem) -> str:
        return f"{self.name}-{item.get_expiry()}s"

    def header(self) -> str:
        return ", ".join(f'"{self.window_name(item)}";q={item.amount};w={item.get_expiry()}' for item in self.items)


@dataclass(frozen=True, slots=True)
class Usage:
    """Where a client stands in the tightest window of a policy."""

    policy: Policy
    item: RateLimitItem
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": self.policy.header(),
            "RateLimit": f'"{self.policy.window_name(self.item)}";r={self.remaining};t={self.reset_seconds}',
        }


class TooManyRequests(DomainError):
    status = 429
    code = "rate-limited"
    title = "Too Many Requests"

    def __init__(self, usage: Usage) -> None:
        super().__init__(f"Too many requests; try again in {usage.reset_seconds} s.")
        self.headers = {"Retry-After": str(usage.reset_seconds), **usage.headers()}


class RateLimiter:
    def __init__(self, *, enabled: bool, redis_url: str | None = None, key_prefix: str = "townsquare") -> None:
        self.enabled = enabled
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._pool: ConnectionPool | None = None
        self._shared: MovingWindowRateLimiter | None = None
        self._shared_down_until = 0.0  # monotonic time; Redis is skipped until then
        if enabled and redis_url is not None:
            from redis.asyncio import ConnectionPool  # imported only where Redis is used: 50 ms a start

            self._pool = ConnectionPool.from_url(
                redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
            )
            storage = RedisStorage(
                f"async+{redis_url}",
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=key_prefix,
                connection_pool=self._pool,  # type: ignore[arg-type]  # typed as scalars, passed to redis-py
            )
            self._shared = MovingWindowRateLimiter(storage)

    @property
    def shared(self) -> bool:
        """Whether the counters are shared by every process (in Redis)."""
        return self._shared is not None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def hit(self, policy: Policy, key: str) -> Usage | None:
        """Count one request for `key`; raise TooManyRequests if a window of the policy is full.

        Windows are counted in turn: the one that refuses, and those after it, do not count the
        request; those before it do. Returns the tightest window, or None when limits are off.
        """
        if not self.enabled:
            return None
        for item in policy.items:
            if not await self._hit(policy, item, key):
                raise TooManyRequests(await self._usage(policy, item, key))
        usages = [await self._usage(policy, item, key) for item in policy.items]
        return min(usages, key=lambda usage: (usage.remaining, -usage.reset_seconds))

    async def check(self, policy: Policy, key: str) -> None:
        """Raise TooManyRequests if a window of the policy is full, counting nothing (for limits
        on outcomes, counted with `hit` once the outcome is known)."""
        if not self.enabled:
            return
        for item in policy.items:
            if not await self._test(policy, item, key):
                raise TooManyRequests(await self._usage(policy, item, key))

    async def clear(self, policy: Policy, key: str) -> None:
        """Forget what `key` has used of the policy (e.g. after a correct password)."""
        if not self.enabled:
            return
        for item in policy.items:
            await self._clear(policy, item, key)

    async def _hit(self, policy: Policy, item: RateLimitItem, key: str) -> bool:
        return await self._run(lambda limiter: limiter.hit(item, policy.name, key))

    async def _test(self, policy: Policy, item: RateLimitItem, key: str) -> bool:
        return await self._run(lambda limiter: limiter.test(item, policy.name, key))

    async def _clear(self, policy: Policy, item: RateLimitItem, key: str) -> None:
        await self._run(lambda limiter: limiter.clear(item, policy.name, key))

    async def _usage(self, policy: Policy, item: RateLimitItem, key: str) -> Usage:
        stats = await self._run(lambda limiter: limiter.get_window_stats(item, policy.name, key))
        reset_seconds = max(1, math.ceil(stats.reset_time - time.time()))
        return Usage(policy, item, max(0, stats.remaining), reset_seconds)

    async def _run(self, operation: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            try:
                return await operation(self._shared)
            except StorageError as error:
                # Not asked again for a while: a hung Redis costs one timeout, not one per call.
                self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                log.warning(
                    "rate-limit storage failed (%s); counting in memory for %d s",
                    type(error.storage_error).__name__,
                    REDIS_RETRY_SECONDS,
                )
        return await operation(self._memory)


async def enforce(limiter: RateLimiter, policy: Policy, key: str, response: Response) -> None:
    """Count a request and tell the client where it stands (in the response's headers)."""
    usage = await limiter.hit(policy, key)
    if usage is not None:
        response.headers.update(usage.headers())


def client_address(request: Request) -> str:
    """The key of a client's address: IPv4 as is, IPv6 by its /64 (one subscriber's network).

    The address is the connection's peer, or what a trusted proxy forwarded (see
    `server.trusted_proxies`, applied by uvicorn's ProxyHeadersMiddleware).
    """
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # some proxies forward "address:port" ("[v6]:port"); the port says nothing of the client
            address = ipaddress.ip_address(host.rpartition(":")[0].strip("[]"))
        except ValueError:
            return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
