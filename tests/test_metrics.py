"""GET /metrics: what Prometheus scrapes, with bounded labels, from one process or several."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text

from tests.fixtures.accounts import make_account
from tests.fixtures.content import post
from tests.fixtures.notifications import drain
from tests.fixtures.processes import free_port, stop, townsquare, wait_until_up
from tests.fixtures.sse import next_event, stream
from townsquare.app import create_app
from townsquare.config import MetricsSettings, Settings, WorkerSettings
from townsquare.observability.metrics import queue_backlog

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def scrape(client: AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


REQUESTS = "townsquare_http_request_duration_seconds_count"


async def test_requests_are_counted_by_route_template_method_and_status(client: AsyncClient) -> None:
    before = await scrape(client)
    marks = [uuid.uuid4().hex for _ in range(3)]
    for mark in marks[:2]:
        assert (await client.get(f"/users/{int(mark[:12], 16)}")).status_code == 404
    for mark in marks:
        assert (await client.get(f"/no/such/{mark}")).status_code == 404
    assert (await client.request("BREW", f"/coffee/{marks[0]}")).status_code == 404
    response = await client.get("/metrics")
    after = parse(response.text)

    def added(**labels: str) -> float:
        return value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels)

    assert added(method="GET", route="/users/{user_id}", status="404") == 2
    assert added(method="GET", route="unmatched", status="404") == 3  # one label value for every stray path
    assert added(method="OTHER", route="unmatched", status="404") == 1  # and for every unknown method
    assert not any(mark in response.text for mark in marks)
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    everything = value(after, "townsquare_http_request_duration_seconds_bucket", le="+Inf", **unmatched)
    assert everything == value(after, REQUESTS, **unmatched)


async def test_a_body_refused_before_routing_is_counted_under_its_route(client: AsyncClient) -> None:
    """The body limit answers 413 before the router runs: counted as "unmatched" it was."""
    account = await make_account(client)
    before = await scrape(client)
    huge = {"content": "x" * 2_000_000}
    assert (await client.post("/posts", json=huge, headers=account.headers)).status_code == 413
    assert (await client.post("/no/such/place", json=huge)).status_code == 413
    after = await scrape(client)

    def added(**labels: str) -> float:
        return value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels)

    assert added(method="POST", route="/posts", status="413") == 1
    assert added(method="POST", route="unmatched", status="413") == 1  # no route: still one label


async def test_the_job_queue_depth_and_age_come_from_the_database(app: FastAPI, client: AsyncClient) -> None:
    async with app.state.database.engine.connect() as connection:  # never committed: no worker sees these
        insert = text("""
            INSERT INTO procrastinate_jobs (queue_name, task_name, scheduled_at)
            VALUES ('probe', 'notifications.deliver', NULL),
                   ('probe', 'notifications.deliver', now() - interval '30 seconds'),  -- a retry, due
                   ('probe', 'notifications.deliver', now() + interval '1 hour'),      -- not yet due
                   ('elsewhere', 'notifications.deliver', NULL)
        """)
        await connection.execute(insert)
        # The first job was deferred 90 s ago: it is the oldest waiting.
        await connection.execute(text("UPDATE procrastinate_events SET at = now() - interval '90 seconds'"))
        metrics = {family.name: family for family in await queue_backlog(connection, {"probe", "unused"})}
        await connection.rollback()
    # Not `default`: the worker's periodic housekeeping passes through it every few seconds.
    depth = {
        tuple(sample.labels.values()): sample.value
        for sample in metrics["townsquare_job_queue_jobs"].samples
        if sample.labels["queue"] != "default"
    }
    assert depth == {
        ("probe", "todo"): 3,
        ("probe", "doing"): 0,
        ("elsewhere", "todo"): 1,
        ("unused", "todo"): 0,  # known queues are shown when empty too
        ("unused", "doing"): 0,
    }
    oldest = metrics["townsquare_job_queue_oldest_waiting_seconds"]
    waited = {sample.labels["queue"]: sample.value for sample in oldest.samples}
    assert 89 < waited["probe"] < 100
    assert waited["unused"] == 0
    # The scrape shows the queues of the registered tasks.
    samples = await scrape(client)
    assert ("townsquare_job_queue_jobs", frozenset({("queue", "default"), ("status", "todo")})) in samples


async def test_pool_streams_and_notification_lag(app: FastAPI, client: AsyncClient, live_url: str) -> None:
    alice, bob = await make_account(client), await make_account(client)
    liked = await post(client, bob)
    await drain(app)
    before = await scrape(client)
    async with app.state.database.engine.connect():
        held = await scrape(client)
    assert value(held, "townsquare_db_pool_checked_out") == value(before, "townsquare_db_pool_checked_out") + 1
    assert value(held, "townsquare_db_pool_size") == app.state.settings.db.pool_size

    async with httpx.AsyncClient(timeout=10) as http:
        url = f"{live_url}/users/{bob.id}/notifications/stream"
        async with stream(http, url, headers=bob.headers) as events:
            assert (await client.post(f"/posts/{liked['id']}/likes", headers=alice.headers)).status_code == 200
            await asyncio.wait_for(next_event(events), 10)
            during = await scrape(client)
    streams = "townsquare_notification_streams_open"
    assert value(during, streams) == value(before, streams) + 1
    lag = "townsquare_notification_lag_seconds_count"
    assert value(during, lag, stage="stored") == value(before, lag, stage="stored") + 1
    assert value(during, lag, stage="pushed") == value(before, lag, stage="pushed") + 1
    jobs = "townsquare_job_duration_seconds_count"
    succeeded = {"task": "notifications.deliver", "outcome": "succeeded"}
    assert value(during, jobs, **succeeded) == value(before, jobs, **succeeded) + 1
    deadline = time.monotonic() + 10
    while value(await scrape(client), streams) != value(before, streams):  # the server notices the client left
        assert time.monotonic() < deadline, "the stream is still counted as open"
        await asyncio.sleep(0.05)


async def test_metrics_can_require_a_token_or_be_turned_off(settings: Settings) -> None:
    token = secrets.token_urlsafe(32)
    quiet = settings.model_copy(update={"worker": WorkerSettings(in_process=False)})
    guarded = create_app(quiet.model_copy(update={"metrics": MetricsSettings(token=SecretStr(token))}))
    transport = ASGITransport(app=guarded)
    async with LifespanManager(guarded), AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": f"Bearer {token[:-1]}"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert (await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status_code == 200
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]
    off = create_app(quiet.model_copy(update={"metrics": MetricsSettings(enabled=False)}))
    async with LifespanManager(off), AsyncClient(transport=ASGITransport(app=off), base_url="http://t") as client:
        assert (await client.get("/metrics")).status_code == 404


def test_several_processes_add_up_in_multiprocess_mode(database_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_ENVIRONMENT": "test",
        "TOWNSQUARE_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "TOWNSQUARE_WORKER__IN_PROCESS": "false",
        "TOWNSQUARE_DB__POOL_SIZE": "3",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = townsquare("run", "--port", str(port), "--workers", "2", env=env)
    try:
        wait_until_up(f"{base}/readyz", process)
        deadline = time.monotonic() + 30  # both processes up: each has set its pool size
        while len(list(directory.glob("gauge_livesum_*.db"))) < 2:
            assert time.monotonic() < deadline, "the second process did not start"
            time.sleep(0.1)
        for _ in range(20):  # a new connection each: either process may answer
            assert httpx.get(f"{base}/users/123").status_code == 404
        for _ in range(3):  # and either may answer the scrape: the sum is the same
            samples = parse(httpx.get(f"{base}/metrics").text)
            assert value(samples, REQUESTS, method="GET", route="/users/{user_id}", status="404") == 20
            assert value(samples, "townsquare_db_pool_size") == 2 * 3  # one pool of 3 in each process
    finally:
        output = stop(process)
    assert not list(directory.glob("gauge_livesum_*.db"))  # stopped processes count no more
    # One line per request, ours: uvicorn's access log is off.
    assert output.count('"route": "/users/{user_id}"') == 20
    assert "HTTP/1.1" not in output
