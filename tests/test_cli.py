"""`townsquare run` as a person runs it: a real process, real HTTP, Ctrl-C."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import httpx
import psycopg

from tests.fixtures.database import fresh_database
from tests.fixtures.processes import free_port, refusal, serving
from townsquare.db.urls import libpq_url
from townsquare.observability.logs import redact_query


def test_run_migrates_serves_and_stops_on_ctrl_c(server_url: str, tmp_path: Path) -> None:
    port = free_port()
    with fresh_database(server_url, migrated=False) as url:
        env = {**os.environ, "DATABASE_URL": url, "TOWNSQUARE_DATA_DIR": str(tmp_path)}
        with serving(env, port) as output:
            # Migrations ran: an account can be made.
            body = {"email": "cli@example.com", "username": "cli_user", "password": "long enough pw"}
            assert httpx.post(f"http://127.0.0.1:{port}/auth/register", json=body).status_code == 201
    text = output[0]
    assert f"http://127.0.0.1:{port}/docs" in text
    assert "Traceback" not in text


def test_bad_configuration_is_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "TOWNSQUARE_ENVIRONMENT": "production", "TOWNSQUARE_AUTH__JWT_SECRET": "changeme"}
    assert "JWT_SECRET" in refusal("run", env=env)


def test_make_run_without_database_url_starts_and_stops_the_embedded_database() -> None:
    data_dir = Path(".data") / f"test-cli-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TOWNSQUARE_DATABASE_URL")}
    env["TOWNSQUARE_DATA_DIR"] = str(data_dir)
    try:
        with serving(env, port, timeout=120) as output:
            assert (data_dir / "postgres" / "data" / "postmaster.pid").exists()
        # Ctrl-C stopped the API, then the database.
        assert not (data_dir / "postgres" / "data" / "postmaster.pid").exists()
        assert "embedded PostgreSQL stopped" in output[0]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_run_can_leave_migrations_to_a_release_step(server_url: str, tmp_path: Path) -> None:
    with fresh_database(server_url, migrated=False) as url:
        env = {**os.environ, "DATABASE_URL": url, "TOWNSQUARE_DATA_DIR": str(tmp_path)}
        unmigrated = {**env, "TOWNSQUARE_SERVER__MIGRATE_ON_START": "false"}
        with serving(unmigrated, free_port()), psycopg.connect(libpq_url(url)) as connection:
            tables = connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)  # served, and migrated nothing


def test_no_log_text_shows_an_access_token() -> None:
    assert redact_query("/s?access_token=eyJ.x.y") == "/s?access_token=[redacted]"
    assert redact_query("/s?a=1&access%5Ftoken=eyJ.x.y") == "/s?a=1&access_token=[redacted]"
    assert redact_query("/s?a=1") == "/s?a=1"
    assert "eyJ" not in redact_query("/s?access_token=eyJ&access_token=eyJ2")
    assert "eyJ" not in redact_query("/s?%61ccess%5Ftoken=eyJ.x.y")
    # Inside longer text (a traceback, an error line), after another "?", the rest kept.
    line = 'why? GET /a?b and /s?ACCESS_TOKEN=eyJ.x.y&x=1 "HTTP/1.1 200"\nnext line'
    assert redact_query(line) == 'why? GET /a?b and /s?ACCESS_TOKEN=[redacted]&x=1 "HTTP/1.1 200"\nnext line'


def test_worker_options_are_checked_like_settings(tmp_path: Path) -> None:
    env = {**os.environ, "TOWNSQUARE_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}
    assert "concurrency" in refusal("worker", "--concurrency", "-1", env=env)
