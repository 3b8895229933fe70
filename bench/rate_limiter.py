"""Cost of one rate-limited request's counting, in memory and in Redis.

    .venv/bin/python bench/rate_limiter.py [REDIS_URL]

A policy of two windows, as the defaults have: a hit per window plus the window statistics
for the RateLimit headers. Prints the median and 95th percentile per request, in microseconds.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import time

from townsquare.kit.rate_limits import Policy, RateLimiter

POLICY = Policy.parse("bench", "100000/minute;1000000/hour")
REQUESTS, WARM_UP, KEYS = 3000, 500, 50


async def measure(limiter: RateLimiter, label: str) -> None:
    samples = []
    for number in range(REQUESTS):
        started = time.perf_counter()
        await limiter.hit(POLICY, f"user{number % KEYS}")
        samples.append((time.perf_counter() - started) * 1e6)
    kept = sorted(samples[WARM_UP:])
    print(f"{label}: median {statistics.median(kept):.0f} µs, p95 {kept[int(len(kept) * 0.95)]:.0f} µs")


async def main(redis_url: str) -> None:
    await measure(RateLimiter(enabled=True), "memory")
    shared = RateLimiter(enabled=True, redis_url=redis_url, key_prefix=f"bench-{secrets.token_hex(3)}")
    try:
        await measure(shared, "redis ")
    finally:
        await shared.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379"))
