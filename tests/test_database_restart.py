"""Faults: PostgreSQL stopped and started again under load, behind a real `townsquare run`.

Writers create posts without pause and a prober polls /readyz while the database is stopped
(fast shutdown, then immediate shutdown, which is like a crash) and started again. Every answer
must be a success or a 503 problem with Retry-After; the database's outage must be answered
with 503s, quickly; the same API process must serve again within seconds of the database's
return; and every post answered with a 2xx must be in the database, as it was sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.fixtures.accounts import make_account
from tests.fixtures.processes import free_port, wait_until_up
from tests.fixtures.restartable_postgres import RestartablePostgres, ShutdownMode, restartable_postgres

WRITERS = 4
MODES: tuple[ShutdownMode, ...] = ("fast", "immediate")
STEADY = 1.0  # seconds of normal load before each outage and after each recovery
DOWN = 2.0  # seconds the database stays down
RECOVERY_BOUND = 10.0  # from the database accepting connections to the API's first success
READY_BOUND = 3.0  # a /readyz answer while down (the probe gives the database 2 s)
UNAVAILABLE_BOUND = 5.0  # a 503 for a write while down (pool timeout 2 s)
SETTLE = 1.0  # after the first success, every request succeeds again within this
PAUSE_AFTER_FAILURE = 0.05  # a client's pause after an error, instead of the 1 s Retry-After
PROBE_EVERY = 0.1
NOTIFIED_BOUND = 15.0  # the job worker restarts at most 5 s apart
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class Api:
    process: subprocess.Popen[bytes]
    base: str
    postgres: RestartablePostgres
    database: str
    log: Path


@dataclass(frozen=True)
class Answer:
    path: str
    sent: float
    received: float
    status: int | None  # None: no HTTP answer at all (a reset, a timeout)
    problem: str  # what is wrong with the answer; empty when nothing is
    content: str | None = None  # for POST /posts: what was sent
    post_id: str | None = None  # ... and, on a 2xx, the post's id and content as answered
    answered_content: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.received - self.sent


@dataclass
class Outage:
    mode: ShutdownMode
    stopping: float  # pg_ctl stop called
    down: float  # ... returned: the server is gone
    starting: float  # pg_ctl start called
    up: float  # ... returned: the server accepts connections
    recovered: float = 0.0  # the first write sent after `up` answered with a 2xx


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with restartable_postgres() as (postgres, database):
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "TOWNSQUARE_DATA_DIR": str(tmp_path),
            "TOWNSQUARE_ENVIRONMENT": "test",
            "TOWNSQUARE_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
            "TOWNSQUARE_RATE_LIMIT_ENABLED": "false",
            "TOWNSQUARE_DB__POOL_TIMEOUT": "2",
        }
        port = free_port()
        log = tmp_path / "townsquare.log"
        # Output to a file, not a pipe: thousands of access-log lines would fill a pipe and stall the server.
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "townsquare", "run", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{base}/readyz", process)
            yield Api(process, base, postgres, database, log)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def problem_of(response: httpx.Response) -> str:
    """Empty for a 2xx or a proper 503 problem; otherwise what is wrong."""
    if 200 <= response.status_code < 300:
        return ""
    if response.status_code != 503:
        return f"unexpected {response.status_code}: {response.text[:300]}"
    wrong = []
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        wrong.append(f"content-type {response.headers.get('content-type')!r}")
    if "retry-after" not in response.headers:
        wrong.append("no Retry-After")
    try:
        if response.json().get("status") != 503:
            wrong.append("problem status is not 503")
    except ValueError:
        wrong.append("body is not JSON")
    return f"malformed 503: {', '.join(wrong)}: {response.text[:300]}" if wrong else ""


async def ask(http: httpx.AsyncClient, method: str, path: str, content: str | None = None) -> Answer:
    sent = time.monotonic()
    try:
        response = await http.request(method, path, json=None if content is None else {"content": content})
    except httpx.HTTPError as error:
        return Answer(path, sent, time.monotonic(), None, f"{type(error).__name__}: {error!r}", content)
    received = time.monotonic()
    problem = problem_of(response)
    if content is not None and 200 <= response.status_code < 300:
        post = response.json()
        return Answer(path, sent, received, response.status_code, problem, content, str(post["id"]), post["content"])
    return Answer(path, sent, received, response.status_code, problem, content)


async def write(base: str, headers: dict[str, str], writer: int, until: asyncio.Event, answers: list[Answer]) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as http:
        for number in itertools.count():
            if until.is_set():
                return
            answer = await ask(http, "POST", "/posts", f"writer {writer} post {number} {uuid.uuid4().hex}")
            answers.append(answer)
            if not answer.ok:
                await asyncio.sleep(PAUSE_AFTER_FAILURE)


async def probe(base: str, until: asyncio.Event, answers: list[Answer]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as http:
        while not until.is_set():
            answers.append(await ask(http, "GET", "/readyz"))
            await asyncio.sleep(PROBE_EVERY)


async def restart(postgres: RestartablePostgres, mode: ShutdownMode, writes: list[Answer]) -> Outage:
    stopping = time.monotonic()
    await asyncio.to_thread(postgres.halt, mode)
    down = time.monotonic()
    await asyncio.sleep(DOWN)
    starting = time.monotonic()
    await asyncio.to_thread(postgres.start)
    outage = Outage(mode, stopping, down, starting, up=time.monotonic())
    while not (successes := [a.received for a in writes if a.sent >= outage.up and a.ok]):
        assert time.monotonic() - outage.up < RECOVERY_BOUND, f"no successful write {RECOVERY_BOUND} s after {mode}"
        await asyncio.sleep(0.02)
    outage.recovered = min(successes)
    return outage


def stored_posts(database: str) -> dict[str, str]:
    with psycopg.connect(database) as connection:
        rows = connection.execute("SELECT id::text, content FROM post").fetchall()
    return dict(rows)


def between(answers: list[Answer], start: float, end: float) -> list[Answer]:
    """The answers to requests sent after `start` and answered before `end`."""
    return [a for a in answers if a.sent >= start and a.received <= end]


async def test_a_database_restart_under_load_is_answered_with_503s_and_loses_no_acknowledged_write(
    api: Api,
) -> None:
    async with httpx.AsyncClient(base_url=api.base, timeout=REQUEST_TIMEOUT) as http:
        account = await make_account(http)
    writes: list[Answer] = []
    probes: list[Answer] = []
    outages: list[Outage] = []
    until = asyncio.Event()
    load = [asyncio.create_task(write(api.base, account.headers, n, until, writes)) for n in range(WRITERS)]
    load.append(asyncio.create_task(probe(api.base, until, probes)))
    try:
        await asyncio.sleep(STEADY)
        for mode in MODES:
            outages.append(await restart(api.postgres, mode, writes))
            await asyncio.sleep(SETTLE + STEADY)
    finally:
        until.set()
        await asyncio.gather(*load)
    finished = time.monotonic()

    # The same API process served throughout: it recovered by itself, without a restart.
    assert api.process.poll() is None, "the API process exited"

    # Every answer was a success or a proper 503; never a 500, another code, or a reset.
    wrong = [a for a in writes + probes if a.problem]
    assert not wrong, "\n".join(f"{a.path} {a.status}: {a.problem}" for a in wrong[:20])
    assert {a.status for a in writes} <= {201, 503}
    assert {a.status for a in probes} <= {200, 503}

    report = [f"{len(writes)} writes, {len(probes)} probes"]
    for number, outage in enumerate(outages):
        next_stop = outages[number + 1].stopping if number + 1 < len(outages) else finished
        # While the database was down, every request was answered 503, and quickly.
        down_writes = between(writes, outage.down, outage.starting)
        down_probes = between(probes, outage.down, outage.starting)
        assert down_writes, f"no write was answered while the database was down ({outage.mode})"
        assert down_probes, f"/readyz was not answered while the database was down ({outage.mode})"
        assert {a.status for a in down_writes} == {503}, outage.mode
        assert {a.status for a in down_probes} == {503}, outage.mode
        assert max(a.latency for a in down_probes) < READY_BOUND, outage.mode
        assert max(a.latency for a in down_writes) < UNAVAILABLE_BOUND, outage.mode
        # Once back, the API serves again by itself within seconds, and then it keeps serving.
        assert outage.recovered - outage.up < RECOVERY_BOUND
        settled = between(writes, outage.recovered + SETTLE, next_stop)
        assert settled, outage.mode
        assert {a.status for a in settled} == {201}, outage.mode
        assert {a.status for a in between(probes, outage.recovered + SETTLE, next_stop)} == {200}, outage.mode
        cycle = between(writes, outage.stopping, next_stop)
        # Requests in flight while the server went down: their transactions were cut off.
        cut = [a for a in writes if a.sent < outage.down and a.received > outage.stopping]
        counts = {status: sum(a.status == status for a in cycle) for status in (201, 503)}
        late_503s = sum(a.status == 503 for a in between(writes, outage.recovered, next_stop))
        report.append(
            f"{outage.mode}: pg_ctl stop {outage.down - outage.stopping:.2f} s,"
            f" start {outage.up - outage.starting:.2f} s;"
            f" first success {outage.recovered - outage.up:.2f} s after start, then {late_503s} 503s;"
            f" writes {counts}; in flight at the stop {len(cut)} ({sum(a.ok for a in cut)} answered 2xx);"
            f" while down: write 503 median {statistics.median(a.latency for a in down_writes):.3f} s"
            f" max {max(a.latency for a in down_writes):.3f} s,"
            f" /readyz 503 max {max(a.latency for a in down_probes):.3f} s"
        )

    # The key one: every write answered with a 2xx is in the database, as it was sent.
    stored = await asyncio.to_thread(stored_posts, api.database)
    acknowledged = [a for a in writes if a.ok]
    lost = [a for a in acknowledged if stored.get(str(a.post_id)) != a.content]
    assert not lost, f"{len(lost)} acknowledged posts are missing or changed: {lost[:5]}"
    assert all(a.answered_content == a.content for a in acknowledged)
    # ... and nothing is there that was not sent: each stored post is one of our requests.
    sent = {a.content for a in writes}
    assert set(stored.values()) <= sent
    assert len(stored) == len(set(stored.values()))
    refused_but_stored = [a for a in writes if a.status == 503 and a.content in set(stored.values())]
    assert len(stored) == len(acknowledged) + len(refused_but_stored)
    report.append(f"503s whose post was committed anyway: {len(refused_but_stored)}")

    # The background parts came back too: a follow made now is notified within seconds
    # (the in-process job worker and the notification listener reconnected by themselves).
    async with httpx.AsyncClient(base_url=api.base, timeout=REQUEST_TIMEOUT) as http:
        follower = await make_account(http)
        assert (await http.post(f"/users/{account.id}/follow", headers=follower.headers)).status_code == 200
        followed = time.monotonic()
        while not (await http.get("/users/me/notifications", headers=account.headers)).json()["items"]:
            assert time.monotonic() - followed < NOTIFIED_BOUND, "no notification after the restarts"
            await asyncio.sleep(0.1)
    report.append(f"a follow after the restarts was notified in {time.monotonic() - followed:.2f} s")

    # Each outage is two warnings in the log, not one per failed attempt: no pool's
    # multi-line reconnection warnings, no line per 503 (the counter has those).
    logged = [json.loads(line) for line in api.log.read_text().splitlines() if line.startswith("{")]
    warnings = [line for line in logged if line.get("level") in ("warning", "error")]
    events = [line["event"] for line in warnings]
    assert events.count("database unreachable") == len(MODES), events
    assert events.count("database reachable again") == len(MODES), events
    noise = [line for line in warnings if line["event"] not in ("database unreachable", "database reachable again")]
    assert len(noise) <= 2 * len(MODES), [(line["event"], line.get("logger")) for line in noise]
    assert not [line for line in warnings if str(line.get("logger", "")).startswith("psycopg")], warnings[:5]
    async with httpx.AsyncClient(base_url=api.base, timeout=REQUEST_TIMEOUT) as http:
        metrics = (await http.get("/metrics")).text
    assert 'townsquare_database_errors_total{source="requests"}' in metrics
    report.append(f"warnings logged: {len(warnings)} ({events})")
    print("\n".join(report))  # shown with -s or -rP
