"""Keep the job table's statistics (and, if autovacuum falls behind, its dead rows) in hand.

A queue table swings from empty to thousands of rows in seconds. procrastinate's job fetch is a
PL/pgSQL function, so each worker connection plans it once and keeps that plan until the table's
statistics change. A plan made while the queue was empty scans the whole table once per waiting
job (the anti-join on job locks), so a fetch over a backlog of 6,000 jobs took 2.8 s instead of
0.7 ms, and a burst of likes drained at 2 to 5 notifications a second. An ANALYZE ends it:
PostgreSQL plans the fetch again. Autovacuum would get there, but only after its nap (a minute),
and not at all while its workers are busy with big tables or when it is turned off.

So the worker looks every few seconds (one PostgreSQL round trip reading the table's statistics).
It analyzes the table only when its size has doubled since the planner's figure (or halved, to
no fewer than a few hundred rows: a drained queue keeps its larger figure), and
vacuums it only when its dead rows outnumber the live ones twice over, which autovacuum, when it
keeps up, never lets happen. Other PostgreSQL job queues (Que, River) met the same trouble with
autovacuum on their job tables and vacuum them on a schedule of their own.
"""

from __future__ import annotations

import logging
from typing import Literal

import psycopg
from psycopg.rows import TupleRow

logger = logging.getLogger(__name__)

# Below these, a stale figure or the dead rows cost nothing worth a statement.
ROWS_SLACK = 500
DEAD_SLACK = 5_000

_FIGURES = """
SELECT greatest(c.reltuples, 0)::bigint AS planned, s.n_live_tup AS live, s.n_dead_tup AS dead
FROM pg_class AS c JOIN pg_stat_user_tables AS s ON s.relid = c.oid
WHERE c.oid = 'procrastinate_jobs'::regclass
"""

Upkeep = Literal["analyze", "vacuum"]


def needed(*, planned: int, live: int, dead: int) -> Upkeep | None:
    """What the job table needs, from the planner's row count and the live and dead rows."""
    if dead >= 2 * live + DEAD_SLACK:
        return "vacuum"  # VACUUM (ANALYZE): the statistics come fresh with it
    if live >= 2 * planned + ROWS_SLACK:
        return "analyze"  # grown: the dangerous way
    if planned >= 2 * live + ROWS_SLACK and live >= ROWS_SLACK:
        # Shrunk, but not to nearly empty: a table the planner takes for empty gets the plan
        # this module is about, so a drained queue keeps its larger figure.
        return "analyze"
    return None


async def tend(connection: psycopg.AsyncConnection[TupleRow]) -> Upkeep | None:
    """Analyze or vacuum the job table if it needs it; says which. `connection` must be in
    autocommit (VACUUM runs outside a transaction). Never waits for a lock: a table another
    VACUUM or ANALYZE holds is left for the next time."""
    row = await (await connection.execute(_FIGURES)).fetchone()
    assert row is not None  # pg_stat_user_tables has a row for every table, used or not
    planned, live, dead = row
    upkeep = needed(planned=int(planned), live=int(live), dead=int(dead))
    if upkeep == "vacuum":
        await connection.execute("VACUUM (ANALYZE, SKIP_LOCKED) procrastinate_jobs, procrastinate_events")
    elif upkeep == "analyze":
        await connection.execute("ANALYZE (SKIP_LOCKED) procrastinate_jobs")
    if upkeep is not None:
        logger.info("job table upkeep: %s (planner's rows %s, live %s, dead %s)", upkeep, planned, live, dead)
    return upkeep
