from __future__ import annotations

import psycopg
from alembic import command

from tests.fixtures.database import fresh_database
from townsquare.db import migrate
from townsquare.db.session import libpq_url


def test_migrations_upgrade_downgrade_and_match_the_models(server_url: str) -> None:
    with fresh_database(server_url, migrated=False) as url:
        migrate.upgrade(url)
        # Autogenerate finds nothing to add: the migrations and the models agree.
        command.check(migrate.alembic_config(url))
        migrate.downgrade(url, "base")
        with psycopg.connect(libpq_url(url)) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            ).fetchone()
            assert tables == (0,)
            # procrastinate's functions and types went with migration 0003's downgrade.
            leftovers = conn.execute(
                "SELECT (SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%')"
                " + (SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%')"
            ).fetchone()
            assert leftovers == (0,)
        migrate.upgrade(url)


def test_ids_grow_with_time(database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url)) as conn:
        ids = [row[0] for row in conn.execute("SELECT next_id() FROM generate_series(1, 1000)").fetchall()]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(0 < value < 2**63 for value in ids)
