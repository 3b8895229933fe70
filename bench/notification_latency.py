"""How long a notification takes to reach an open stream, across two API processes.

    .venv/bin/python bench/notification_latency.py postgresql://postgres@127.0.0.1:5432/ts_latency [ROUNDS]

Creates the database if missing (dropping nothing), starts two `townsquare run` processes on
it, each with its in-process worker, opens the recipient's event stream on the first and
likes posts through the second, one at a time. For each like it reports the time from
sending the request to the event arriving on the stream (the full path: HTTP, commit, job
pick-up over LISTEN/NOTIFY, insert, NOTIFY, fan-out, SSE), and from the 200 answer to the
event. Figures are medians and percentiles: the machine is shared and noisy.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from townsquare.db.urls import libpq_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_database(url: str) -> None:
    name = make_url(url).database
    server = libpq_url(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(server, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(name))))


def start_api(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "townsquare", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the API did not start")


async def account(http: httpx.AsyncClient, base: str) -> tuple[str, dict[str, str]]:
    name = f"b{uuid.uuid4().hex[:12]}"
    body = {"email": f"{name}@example.com", "username": name, "password": "long enough password"}
    user = (await http.post(f"{base}/auth/register", json=body)).json()
    tokens = (await http.post(f"{base}/auth/login", data={"username": name, "password": body["password"]})).json()
    return user["id"], {"Authorization": f"Bearer {tokens['access_token']}"}


async def measure(first: str, second: str, rounds: int) -> tuple[list[float], list[float]]:
    async with httpx.AsyncClient(timeout=30) as http:
        owner_id, owner = await account(http, second)
        posts = [
            (await http.post(f"{second}/posts", headers=owner, json={"content": f"post {n}"})).json()["id"]
            for n in range(rounds)
        ]
        _, liker = await account(http, second)
        total: list[float] = []
        after_answer: list[float] = []
        async with http.stream("GET", f"{first}/users/{owner_id}/notifications/stream", headers=owner) as response:
            lines = response.aiter_lines()
            for post_id in posts:
                sent = time.perf_counter()
                answer = await http.post(f"{second}/posts/{post_id}/likes", headers=liker)
                answered = time.perf_counter()
                assert answer.status_code == 200
                async for line in lines:
                    if line.startswith("event: notification"):
                        arrived = time.perf_counter()
                        break
                total.append(arrived - sent)
                after_answer.append(arrived - answered)
        return total, after_answer


def report(label: str, seconds: list[float]) -> None:
    ms = sorted(value * 1000 for value in seconds)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    print(f"{label:<28} median {statistics.median(ms):6.1f} ms   p95 {p95:6.1f} ms   max {ms[-1]:6.1f} ms")


def main(url: str, rounds: int) -> None:
    ensure_database(url)
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TOWNSQUARE_ENVIRONMENT": "test",
            "TOWNSQUARE_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
            "TOWNSQUARE_DATA_DIR": data_dir,
        }
        processes = [start_api(env), start_api(env)]
        try:
            total, after_answer = asyncio.run(measure(processes[0][1], processes[1][1], rounds))
        finally:
            for process, _ in processes:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=60)
    print(f"{rounds} likes through one API process, streamed from another:")
    report("request sent -> event", total)
    report("200 received -> event", after_answer)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 200)
