from __future__ import annotations

import os
import subprocess
import sys

import psycopg
from alembic import command
from alembic.script import ScriptDirectory

from tests.fixtures.database import fresh_database
from tests.fixtures.processes import stop, townsquare
from townsquare.db import migrate
from townsquare.db.urls import libpq_url


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


def test_the_head_read_from_the_files_is_alembics(server_url: str) -> None:
    with fresh_database(server_url, migrated=False) as url:
        assert ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads() == [migrate.head()]
        assert migrate.current(url) is None
        migrate.upgrade(url)
        assert migrate.current(url) == migrate.head()
        migrate.downgrade(url, "-1")
        assert migrate.current(url) != migrate.head()
        migrate.upgrade(url)  # not at the head: Alembic runs
        assert migrate.current(url) == migrate.head()


def test_a_database_at_the_head_is_upgraded_without_loading_alembic(database_url: str) -> None:
    """Every start after the first: one query instead of Alembic's import and environment."""
    code = (
        "import sys; from townsquare.db import migrate; migrate.upgrade(sys.argv[1]); print('alembic' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code, database_url], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False", shown.stderr


def test_processes_starting_at_once_migrate_once(server_url: str) -> None:
    # Replicas each run `townsquare run`, which migrates first: without a lock two of them
    # would create the same types and tables, and one would crash.
    with fresh_database(server_url, migrated=False) as url:
        env = {**os.environ, "DATABASE_URL": url}
        upgrades = [townsquare("db", "upgrade", env=env) for _ in range(4)]
        outputs = [stop(process, None) for process in upgrades]
        assert [process.returncode for process in upgrades] == [0] * 4, outputs
        with psycopg.connect(libpq_url(url)) as conn:
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_ids_grow_with_time(database_url: str) -> None:
    with psycopg.connect(libpq_url(database_url)) as conn:
        ids = [row[0] for row in conn.execute("SELECT next_id() FROM generate_series(1, 1000)").fetchall()]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(0 < value < 2**63 for value in ids)
