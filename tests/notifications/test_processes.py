"""Real processes: API servers side by side, and job workers killed with SIGKILL mid-job."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.fixtures.database import fresh_database
from tests.fixtures.processes import free_port, refusal, stop, townsquare, wait_until_up
from tests.fixtures.sse import next_event, stream
from townsquare.db.urls import libpq_url

WAIT = 60  # seconds: a bound for a broken pipeline to fail on, not a measure of speed


@pytest.fixture
def database(server_url: str) -> Iterator[str]:
    """A database of its own: the session's in-process worker must not take these jobs."""
    with fresh_database(server_url) as url:
        yield url


def environment(database: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database,
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_ENVIRONMENT": "test",
        "TOWNSQUARE_AUTH__JWT_SECRET": SECRET,
        # A worker is taken for dead 1.5 s after its last heartbeat; recovery runs every second.
        "TOWNSQUARE_WORKER__HEARTBEAT_SECONDS": "0.5",
        "TOWNSQUARE_WORKER__STALLED_AFTER_SECONDS": "1.5",
        "TOWNSQUARE_WORKER__RECOVER_EVERY_SECONDS": "1",
        # Many accounts from one address in seconds: rate limits have their own tests.
        "TOWNSQUARE_RATE_LIMIT_ENABLED": "false",
        **settings,
    }


SECRET = secrets.token_urlsafe(48)


def api(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = townsquare("run", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/readyz", process)
    return process, base


def account(http: httpx.Client, name: str) -> tuple[str, dict[str, str]]:
    body = {"email": f"{name}@example.com", "username": name, "password": "long enough password"}
    created = http.post("/auth/register", json=body)
    assert created.status_code == 201, created.text
    token = http.post("/auth/login", data={"username": name, "password": body["password"]}).json()["access_token"]
    return created.json()["id"], {"Authorization": f"Bearer {token}"}


def wait_for(condition: Callable[[], bool], what: str, patience: float = WAIT) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def scalar(database: str, query: str) -> int:
    with psycopg.connect(libpq_url(database), autocommit=True) as connection:
        row = connection.execute(query).fetchone()
        assert row is not None
        return int(row[0])


def two_accounts_and_a_post(base: str) -> tuple[tuple[str, dict[str, str]], tuple[str, dict[str, str]], str]:
    with httpx.Client(base_url=base, timeout=WAIT) as http:
        bob = account(http, "bob")
        alice = account(http, "alice")
        post_id: str = http.post("/posts", headers=bob[1], json={"content": "hi"}).json()["id"]
    return bob, alice, post_id


async def test_a_stream_on_one_api_process_gets_actions_made_through_another(database: str, tmp_path: Path) -> None:
    env = environment(database, tmp_path)
    stopped_first = False
    (first, first_url), (second, second_url) = await asyncio.gather(
        asyncio.to_thread(api, env), asyncio.to_thread(api, env)
    )
    try:
        (bob_id, bob), (alice_id, alice), post_id = await asyncio.to_thread(two_accounts_and_a_post, second_url)
        async with (
            httpx.AsyncClient(timeout=WAIT) as listener,
            httpx.AsyncClient(base_url=second_url, timeout=WAIT) as actor,
            stream(listener, f"{first_url}/users/{bob_id}/notifications/stream", headers=bob) as received,
        ):
            assert (await actor.post(f"/posts/{post_id}/likes", headers=alice)).status_code == 200
            made = await actor.post(f"/posts/{post_id}/comments", headers=alice, json={"content": "yo"})
            assert made.status_code == 201
            assert (await actor.post(f"/users/{bob_id}/follow", headers=alice)).status_code == 200
            events = [json.loads((await asyncio.wait_for(next_event(received), WAIT)).data) for _ in range(3)]
            # Stopping the server ends the open stream at once, with a word to the client.
            first.send_signal(signal.SIGINT)
            stopped_first = True
            end = await asyncio.wait_for(next_event(received, kind="end"), WAIT)
        assert sorted(event["type"] for event in events) == ["comment", "follow", "like"]
        assert {event["actor"]["id"] for event in events} == {alice_id}
        assert json.loads(end.data) == {"reason": "server-shutdown"}
    finally:
        outputs = [stop(first, None if stopped_first else signal.SIGINT), stop(second)]
    assert first.returncode == 0
    for output in outputs:
        assert "Traceback" not in output
        assert "timeout graceful shutdown exceeded" not in output


def test_killed_api_and_killed_workers_lose_and_duplicate_nothing(database: str, tmp_path: Path) -> None:
    # 1. An API process without a worker answers 18 actions, and is killed right after the last.
    api_process, base = api(environment(database, tmp_path, TOWNSQUARE_WORKER__IN_PROCESS="false"))
    expected: set[tuple[str, str, str | None, str | None]] = set()
    try:
        with httpx.Client(base_url=base, timeout=WAIT) as http:
            owner_id, owner = account(http, "owner")
            post_id = http.post("/posts", headers=owner, json={"content": "hello"}).json()["id"]
            assert http.post(f"/posts/{post_id}/likes", headers=owner).status_code == 200  # self: nothing
            for number in range(6):
                actor_id, actor = account(http, f"actor{number}")
                assert http.post(f"/posts/{post_id}/likes", headers=actor).status_code == 200
                comment = http.post(f"/posts/{post_id}/comments", headers=actor, json={"content": "hey"})
                assert comment.status_code == 201
                assert http.post(f"/users/{owner_id}/follow", headers=actor).status_code == 200
                expected |= {
                    ("like", actor_id, post_id, None),
                    ("comment", actor_id, post_id, comment.json()["id"]),
                    ("follow", actor_id, None, None),
                }
    finally:  # killed right after the last action, and also should anything above fail
        api_process.kill()
        stop(api_process)
    assert scalar(database, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'") >= 18

    env = environment(database, tmp_path)
    with psycopg.connect(libpq_url(database)) as blocker:
        # 2. Jobs cannot finish while this holds the table: a worker takes four and is killed.
        blocker.execute("LOCK TABLE notification IN SHARE MODE")
        doomed = townsquare("worker", "--concurrency", "4", env=env)
        doing = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
        wait_for(lambda: scalar(database, doing) == 4, "the worker to take four jobs")
        doomed.kill()
        stop(doomed)
        blocker.rollback()

    # 3. Two new workers side by side: the stalled jobs come back and everything is done once.
    workers = [townsquare("worker", env=env) for _ in range(2)]
    try:
        pending = "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        wait_for(lambda: scalar(database, "SELECT count(*) FROM notification") >= 18, "18 notifications")
        wait_for(lambda: scalar(database, pending) == 0, "the queue to empty")
    finally:
        outputs = [stop(worker) for worker in workers]
    assert any("of a stalled worker" in output for output in outputs), outputs
    assert all("Traceback" not in output for output in outputs), outputs

    with psycopg.connect(libpq_url(database)) as connection:
        rows = connection.execute(
            "SELECT type, actor_id::text, post_id::text, comment_id::text FROM notification WHERE recipient_id = %s",
            (int(owner_id),),
        ).fetchall()
        failed = connection.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'").fetchone()
    assert len(rows) == 18
    assert set(rows) == expected
    assert failed == (0,)


def test_worker_stops_cleanly_on_sigterm(database: str, tmp_path: Path) -> None:
    worker = townsquare("worker", env=environment(database, tmp_path))
    wait_for(lambda: scalar(database, "SELECT count(*) FROM procrastinate_workers") == 1, "the worker to register")
    output = stop(worker, signal.SIGTERM)
    assert worker.returncode == 0, output
    assert scalar(database, "SELECT count(*) FROM procrastinate_workers") == 0
    assert "Traceback" not in output


def test_a_worker_outlives_a_lost_database_connection(database: str, tmp_path: Path) -> None:
    worker = townsquare("worker", env=environment(database, tmp_path))
    api_process, base = api(environment(database, tmp_path, TOWNSQUARE_WORKER__IN_PROCESS="false"))
    try:
        wait_for(lambda: scalar(database, "SELECT count(*) FROM procrastinate_workers") == 1, "the worker")
        cut = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'townsquare-worker'"
        )
        assert scalar(database, cut) >= 1
        with httpx.Client(base_url=base, timeout=WAIT) as http:
            owner_id, _ = account(http, "owner")
            _, fan = account(http, "fan")
            assert http.post(f"/users/{owner_id}/follow", headers=fan).status_code == 200
        wait_for(lambda: scalar(database, "SELECT count(*) FROM notification") == 1, "the follow's notification")
    finally:
        outputs = [stop(api_process), stop(worker)]
    assert worker.returncode == 0, outputs[1]


def test_a_worker_does_not_start_an_embedded_database_of_its_own(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    assert "start the API first" in refusal("worker", env={**env, "TOWNSQUARE_DATA_DIR": str(tmp_path)})
