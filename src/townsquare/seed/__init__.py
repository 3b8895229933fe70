"""Demo data: `townsquare seed` fills a database with a small, living world.

The world is made in memory (`world.py`) and written in one transaction with COPY
(`store.py`), counters included, so a failed or refused seed leaves nothing behind.
"""

from townsquare.seed.store import DatabaseNotEmpty, SeedReport, seed

__all__ = ["DatabaseNotEmpty", "SeedReport", "seed"]
