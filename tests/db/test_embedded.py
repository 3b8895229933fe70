"""The embedded PostgreSQL: private, socket-only, and it keeps its data across restarts."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from townsquare.db.embedded import EmbeddedPostgres


@pytest.fixture
def scratch() -> Iterator[Path]:
    # Under the checkout like `.data/` itself: as root, the server's unprivileged account must
    # reach it, and pytest's own temporary directories are private to root.
    path = Path(".data/test-embedded") / uuid.uuid4().hex[:8]
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only once the last test's directory is gone


def test_private_socket_no_tcp_and_data_survives_a_restart(scratch: Path) -> None:
    root = scratch / "pg"
    server = EmbeddedPostgres(root)
    server.start()
    try:
        url = server.ensure_database("townsquare")
        for directory in [root, root / "data", root / "run"]:
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
            if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as an unprivileged account
                assert directory.stat().st_uid != 0
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
            assert conn.execute("SHOW unix_socket_permissions").fetchone() == ("0700",)
            conn.execute("CREATE TABLE kept (value text)")
            conn.execute("INSERT INTO kept VALUES ('still here')")
            assert conn.execute("SELECT current_setting('server_version_num')::int >= 150000").fetchone() == (True,)
    finally:
        server.stop()
    assert not (root / "data" / "postmaster.pid").exists()

    again = EmbeddedPostgres(root)
    again.start()
    try:
        with psycopg.connect(again.ensure_database("townsquare")) as conn:
            assert conn.execute("SELECT value FROM kept").fetchone() == ("still here",)
    finally:
        again.stop()


def test_a_running_server_is_adopted_not_restarted(scratch: Path) -> None:
    first = EmbeddedPostgres(scratch / "pg")
    first.start()
    try:
        second = EmbeddedPostgres(scratch / "pg")
        second.start()
        assert second.started_here is False
        second.stop()  # does nothing: it did not start the server
        with psycopg.connect(first.url("postgres")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        first.stop()
