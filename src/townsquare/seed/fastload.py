"""Bulk loading: binary COPY into emptied tables, with keys and indexes set aside meanwhile.

Everything happens in the caller's one transaction: if anything fails, the dropped constraints
and indexes come back with the rollback (DDL is transactional in PostgreSQL).
"""

from __future__ import annotations

import struct
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

Connection = psycopg.AsyncConnection[TupleRow]
Progress = Callable[[str], None]

# Binary COPY: a signature, then 32-bit flags and header-extension length (both 0); each row is
# its field count and, per field, a byte length and the bytes; a field count of -1 ends it.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = struct.pack(">h", -1)
# timestamptz travels as microseconds since 2000-01-01 UTC.
POSTGRES_EPOCH_MS = 946_684_800_000


def timestamp(ms: int) -> int:
    """A time in milliseconds since the Unix epoch, as binary COPY sends a timestamptz."""
    return (ms - POSTGRES_EPOCH_MS) * 1000


def text_field(value: str) -> bytes:
    encoded = value.encode()
    return struct.pack(">i", len(encoded)) + encoded


# Foreign keys from, or to, the tables; and their primary keys and unique constraints.
_CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype = 'f'
FROM pg_constraint c
WHERE (c.contype = 'f' AND (c.conrelid = ANY(%(tables)s::regclass[]) OR c.confrelid = ANY(%(tables)s::regclass[])))
   OR (c.contype IN ('p', 'u') AND c.conrelid = ANY(%(tables)s::regclass[]))
ORDER BY c.contype = 'f', c.conrelid::regclass::text, c.conname
"""
# Indexes that belong to no constraint (those come back with their constraint).
_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(%(tables)s::regclass[])
  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY 1
"""


@asynccontextmanager
async def emptied_without_keys(
    connection: Connection, tables: Iterable[str], progress: Progress
) -> AsyncIterator[None]:
    """Empty `tables` of a locked, empty database and drop their keys and indexes; rebuild them after.

    COPY then appends rows to bare heaps, and each index is built once by sorting, in parallel
    where PostgreSQL can, instead of being updated row by row in random order; each foreign key
    is checked by one join instead of one lookup per row. The tables are TRUNCATEd in this
    transaction so that COPY ... FREEZE can write rows already frozen and visible to all."""
    names = list(tables)
    params = {"tables": names}
    constraints = await (await connection.execute(_CONSTRAINTS, params)).fetchall()
    indexes = await (await connection.execute(_INDEXES, params)).fetchall()
    keys = [(table, name, definition) for table, name, definition, foreign in constraints if not foreign]
    foreign_keys = [(table, name, definition) for table, name, definition, foreign in constraints if foreign]
    # Names from the catalog: regclass::text is already quoted (and qualified) as needed.
    for table, name, _ in foreign_keys + keys:  # foreign keys first: they depend on the keys
        await connection.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.SQL(table), sql.Identifier(name))
        )
    for name, _ in indexes:
        await connection.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
    await connection.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, names))))
    yield
    rebuilt: list[tuple[str, sql.SQL | sql.Composed]] = [
        *(_add_constraint(table, name, definition) for table, name, definition in keys),
        *((name, sql.SQL(definition)) for name, definition in indexes),
        *(_add_constraint(table, name, definition) for table, name, definition in foreign_keys),
    ]
    for name, statement in rebuilt:
        started = time.perf_counter()
        await connection.execute(statement)
        if (seconds := time.perf_counter() - started) >= 0.5:
            progress(f"  {name}: {seconds:.1f} s")


def _add_constraint(table: str, name: str, definition: str) -> tuple[str, sql.Composed]:
    statement = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        sql.SQL(table), sql.Identifier(name), sql.SQL(definition)
    )
    return name, statement
