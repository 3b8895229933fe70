"""Scale-out check: two API processes and a separate job worker behind nginx, end to end.

What CI runs after the test suite (`.venv/bin/python deploy/scale_out_check.py`), as an
operator would deploy: a fresh database on the machine's PostgreSQL, `townsquare db upgrade`
once, two `townsquare run` processes without in-process workers, one `townsquare worker`,
rate-limit counters in Redis, and nginx balancing round-robin over the two APIs with the
locations of deploy/nginx/townsquare-locations.conf. It then checks, through nginx, that

- requests really reach both API processes (nginx names the upstream of each answer, and each
  upstream port is the listening socket of the process started for it);
- a follow, like and comment made through the balancer reach a notification stream held
  directly on the other API process (and one held through nginx), and only once the separate
  worker runs: the API processes queue jobs but do not run them;
- failed logins for one account, spread over both processes, are counted together in Redis:
  the 6th gets 429 with Retry-After;
- SIGTERM stops every process cleanly (exit status 0; an open stream gets its `end` event).

Everything it starts is stopped, and the database and Redis keys dropped, on failure too.
Needs PostgreSQL (TOWNSQUARE_CHECK_POSTGRES_URL, default postgres@127.0.0.1:5432, allowed to
create databases) and Redis (REDIS_URL, default 127.0.0.1:6379); installs nginx from the
distribution's packages when it is missing.
"""

# ruff: noqa: S603  # it runs the project's own commands, nginx and apt-get, with arguments it builds
from __future__ import annotations

import asyncio
import contextlib
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import redis
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
LOCATIONS = REPO / "deploy" / "nginx" / "townsquare-locations.conf"
# `townsquare` beside the interpreter running this script: the project's own venv.
TOWNSQUARE = str(Path(sys.executable).with_name("townsquare"))
ADMIN_URL = os.environ.get("TOWNSQUARE_CHECK_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"

TOTAL_SECONDS = 120  # the whole check, however it goes (it takes about 15 s)
START_SECONDS = 30  # for a process to answer
DELIVERY_SECONDS = 10  # for notifications to arrive once the worker is started
QUIET_SECONDS = 1.5  # with no worker running, no notification may appear in this time
STOP_SECONDS = 20  # for a process to exit after SIGTERM
LOGIN_LIMIT = 5  # the default TOWNSQUARE_RATE_LIMIT__LOGIN_PER_ACCOUNT: 5/minute


class CheckFailed(Exception):
    """A check did not hold: the message says which, and what was seen instead."""


def fail(message: str) -> NoReturn:
    raise CheckFailed(message)


def expect(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


STARTED = time.monotonic()


# --- machine set-up -------------------------------------------------------------------------


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )


def ensure_nginx() -> str:
    """nginx from the distribution's packages, installed when missing (root, or sudo without a password)."""
    found = find_nginx()
    if found is not None:
        return found
    if shutil.which("apt-get") is None:
        fail("nginx is not installed and there is no apt-get to install it: install nginx, then run again")
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") is not None:
        prefix = ["sudo", "-n"]  # never prompts: fails plainly instead
    else:
        fail("nginx is not installed, and installing it needs root (no sudo here): apt-get install nginx")
    say("nginx is missing: installing the distribution's package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        # Stale or missing package lists: refresh them once and try again.
        subprocess.run([*prefix, "apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            fail(f"could not install nginx (apt-get exited {result.returncode}):\n{result.stderr[-2000:]}")
    found = find_nginx()
    if found is None:
        fail("nginx was installed but no nginx binary was found")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listener_pid_owns(port: int, pid: int) -> bool | None:
    """Whether process `pid` or one of its workers (granian's parent hands the listening socket
    to the processes it forks) holds the socket listening on 127.0.0.1:`port` (None: cannot
    tell here)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return None
    inodes = set()
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rpartition(":")[2], 16)
        if fields[3] == "0A" and local_port == port:  # 0A: LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    with contextlib.suppress(OSError):
        return any(
            os.readlink(fd) in inodes
            for process in (pid, *_children(pid))
            for fd in Path(f"/proc/{process}/fd").iterdir()
        )
    return None


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


# --- the database and Redis ------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """A new database on the machine's PostgreSQL; dropped at the end, connections and all."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        fail(f"PostgreSQL is not reachable at {ADMIN_URL} (set TOWNSQUARE_CHECK_POSTGRES_URL): {error}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            say(f"dropped database {name}")


@contextlib.contextmanager
def redis_keys(prefix: str) -> Iterator[None]:
    """Redis must answer; the counters under `prefix` are deleted at the end."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        fail(f"Redis is not reachable at {REDIS_URL} (set REDIS_URL): {error}")
    try:
        yield
    finally:
        with client:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)


# --- processes --------------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])


@dataclass
class Deployment:
    workdir: Path
    env: dict[str, str]
    services: list[Service] = field(default_factory=list)

    def start(self, name: str, command: list[str], *, port: int | None = None) -> Service:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL, stdout=output, stderr=output
            )
        service = Service(name, process, log, port)
        self.services.append(service)
        return service

    def stop(self, service: Service, sig: signal.Signals = signal.SIGTERM) -> int:
        if service.running():
            service.process.send_signal(sig)
        try:
            return service.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()
            fail(f"{service.name} did not exit within {STOP_SECONDS} s of {sig.name}:\n{service.tail()}")

    def stop_all(self) -> None:
        """After a failure: whatever still runs gets SIGTERM, then SIGKILL."""
        for service in reversed(self.services):
            if service.running():
                service.process.send_signal(signal.SIGTERM)
        for service in self.services:
            try:
                service.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {service.name} (last lines of {service.log}):\n{service.tail()}" for service in self.services
        )


def run_once(deployment: Deployment, *args: str) -> None:
    result = subprocess.run(
        [TOWNSQUARE, *args],
        cwd=deployment.workdir,
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        fail(f"`townsquare {' '.join(args)}` exited {result.returncode}:\n{result.stdout}{result.stderr}")


async def wait_until_up(http: httpx.AsyncClient, service: Service, url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if not service.running():
            fail(f"{service.name} exited ({service.process.returncode}) while starting:\n{service.tail()}")
        with contextlib.suppress(httpx.TransportError):
            if (await http.get(url, timeout=1)).status_code == 200:
                return
        await asyncio.sleep(0.1)
    fail(f"{service.name} did not answer {url} within {START_SECONDS} s:\n{service.tail()}")


def nginx_config(workdir: Path, *, port: int, upstreams: list[int]) -> Path:
    user = ""
    if os.geteuid() == 0:  # workers as this same user: they write to the temporary paths below
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    servers = "\n".join(f"        server 127.0.0.1:{upstream};" for upstream in upstreams)
    config = workdir / "nginx.conf"
    config.write_text(
        f"""{user}
daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log notice;
events {{ worker_connections 256; }}
http {{
    access_log {workdir}/nginx-access.log;
    client_body_temp_path {workdir}/nginx-client-body;
    proxy_temp_path {workdir}/nginx-proxy;
    fastcgi_temp_path {workdir}/nginx-fastcgi;
    uwsgi_temp_path {workdir}/nginx-uwsgi;
    scgi_temp_path {workdir}/nginx-scgi;
    upstream townsquare_api {{
{servers}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        # For this check only: which API process answered.
        add_header X-Upstream $upstream_addr always;
        include {LOCATIONS};
    }}
}}
"""
    )
    return config


# --- HTTP -------------------------------------------------------------------------------------


class Balancer:
    """Calls through nginx, tallying which upstream answered each one."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url
        self.upstreams: Counter[str] = Counter()

    async def call(
        self, method: str, path: str, status: int, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)
        upstream = response.headers.get("x-upstream")
        expect(upstream is not None, f"{method} {path}: nginx named no upstream (status {response.status_code})")
        self.upstreams[str(upstream)] += 1
        expect(
            response.status_code == status,
            f"{method} {path} via {upstream}: expected {status}, got {response.status_code}: {response.text[:500]}",
        )
        return response


@dataclass
class Stream:
    """One notification stream, read in the background."""

    name: str
    notifications: list[dict[str, Any]] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    upstream: str | None = None


async def read_stream(http: httpx.AsyncClient, url: str, token: str, stream: Stream) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with http.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=None)) as response:
        if response.status_code != 200:
            fail(f"{stream.name}: GET {url} gave {response.status_code}: {(await response.aread())[:500]!r}")
        stream.upstream = response.headers.get("x-upstream")
        event, data = "message", ""
        async for line in response.aiter_lines():
            if line.startswith(":"):
                stream.connected.set()  # the server subscribed the stream before its first comment
            elif line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data += line.partition(":")[2].removeprefix(" ")
            elif line == "" and data:
                if event == "notification":
                    stream.notifications.append(json.loads(data))
                elif event == "end":
                    stream.ends.append(json.loads(data).get("reason", ""))
                event, data = "message", ""


@contextlib.asynccontextmanager
async def listening(http: httpx.AsyncClient, url: str, token: str, name: str) -> AsyncIterator[Stream]:
    stream = Stream(name)
    task = asyncio.create_task(read_stream(http, url, token, stream))
    try:
        connected = asyncio.create_task(stream.connected.wait())
        await asyncio.wait({task, connected}, timeout=START_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        connected.cancel()
        if task.done():
            task.result()  # its failure, if any
            fail(f"{name} ended before it was connected")
        if not stream.connected.is_set():
            fail(f"{name} sent nothing within {START_SECONDS} s")
        yield stream
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await task


def remaining(response: httpx.Response) -> int:
    """What the tightest window of a rate-limited answer has left (`RateLimit: "name";r=N;t=S`)."""
    header = response.headers.get("ratelimit", "")
    for part in header.split(";"):
        if part.strip().startswith("r="):
            return int(part.strip()[2:])
    fail(f"{response.request.method} {response.request.url.path}: no usable RateLimit header: {header!r}")


async def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


# --- the check --------------------------------------------------------------------------------


async def check_deployment(deployment: Deployment, nginx_binary: str) -> None:
    say("townsquare db upgrade (once, before any API process)")
    await asyncio.to_thread(run_once, deployment, "db", "upgrade")

    port_a, port_b, port_nginx = free_port(), free_port(), free_port()
    process_names = {f"127.0.0.1:{port_a}": "api-a", f"127.0.0.1:{port_b}": "api-b"}  # as nginx names them
    api_a = deployment.start("api-a", [TOWNSQUARE, "run", "--host", "127.0.0.1", "--port", str(port_a)], port=port_a)
    api_b = deployment.start("api-b", [TOWNSQUARE, "run", "--host", "127.0.0.1", "--port", str(port_b)], port=port_b)
    config = nginx_config(deployment.workdir, port=port_nginx, upstreams=[port_a, port_b])
    nginx_command = [
        nginx_binary,
        "-p",
        str(deployment.workdir),
        "-c",
        str(config),
        "-e",
        f"{deployment.workdir}/nginx-error.log",
    ]
    test_config = await asyncio.to_thread(
        subprocess.run, [*nginx_command, "-t"], capture_output=True, text=True, check=False
    )
    expect(test_config.returncode == 0, f"nginx refused its configuration:\n{test_config.stderr}")
    nginx = deployment.start("nginx", nginx_command, port=port_nginx)

    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        for service in (api_a, api_b):
            await wait_until_up(http, service, f"{service.url}/readyz")
        await wait_until_up(http, nginx, f"{nginx.url}/healthz")
        proof = "each port's listening socket held by that process or its workers"
        for service in (api_a, api_b):
            owns = listener_pid_owns(service.port or 0, service.process.pid)
            expect(
                owns is not False, f"port {service.port} is not served by {service.name} (pid {service.process.pid})"
            )
            if owns is None:
                proof = "no /proc here to match ports to pids"
        say(
            f"up: api-a pid {api_a.process.pid} on :{port_a}, api-b pid {api_b.process.pid} on :{port_b} "
            f"({proof}), nginx on :{port_nginx}"
        )
        balancer = Balancer(http, nginx.url)

        # Two accounts, through the balancer.
        tag = secrets.token_hex(4)
        password = secrets.token_urlsafe(12)
        names = {"alice": f"so_{tag}_alice", "bob": f"so_{tag}_bob"}
        ids: dict[str, str] = {}
        tokens: dict[str, str] = {}
        for who, username in names.items():
            body = {"email": f"{username}@example.com", "username": username, "password": password}
            ids[who] = (await balancer.call("POST", "/auth/register", 201, json=body)).json()["id"]
            form = {"username": username, "password": password}
            tokens[who] = (await balancer.call("POST", "/auth/login", 200, data=form)).json()["access_token"]
        say(f"registered and logged in {names['alice']} and {names['bob']} through nginx")

        # nginx forwards the client's address, and the APIs believe it (TRUSTED_PROXIES): a client
        # at another loopback address starts a fresh per-address login count.
        login = {"username": names["alice"], "password": password}
        here = await balancer.call("POST", "/auth/login", 200, data=login)
        elsewhere_transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=elsewhere_transport, timeout=10, trust_env=False) as other:
            there = await Balancer(other, nginx.url).call("POST", "/auth/login", 200, data=login)
        left_here, left_there = remaining(here), remaining(there)
        expect(
            left_there > left_here,
            f"logins from 127.0.0.1 and 127.0.0.2 share one per-address count ({left_here} vs {left_there} left): "
            "the forwarded address was not believed",
        )
        say(
            f"per-address login counts follow X-Forwarded-For: {left_here} left at 127.0.0.1, {left_there} at 127.0.0.2"
        )

        # Alice listens directly on api-b, and through nginx; everything else goes through nginx.
        stream_path = "/users/me/notifications/stream"
        async with (
            listening(http, f"{api_b.url}{stream_path}", tokens["alice"], "stream on api-b") as direct,
            listening(http, f"{nginx.url}{stream_path}", tokens["alice"], "stream through nginx") as proxied,
        ):
            served_by = process_names.get(proxied.upstream or "", proxied.upstream)
            say(f"alice's streams are open: on api-b directly, and through nginx (served by {served_by})")
            post = (await balancer.call("POST", "/posts", 201, token=tokens["alice"], json={"content": "hello"})).json()
            await balancer.call("POST", f"/users/{ids['alice']}/follow", 200, token=tokens["bob"])
            await balancer.call("POST", f"/posts/{post['id']}/likes", 200, token=tokens["bob"])
            comment = {"content": "hi alice"}
            await balancer.call("POST", f"/posts/{post['id']}/comments", 201, token=tokens["bob"], json=comment)
            feed = (await balancer.call("GET", "/feed", 200, token=tokens["bob"])).json()
            expect(
                post["id"] in [item["id"] for item in feed["items"]], "bob's feed lacks the post of alice he follows"
            )
            say("alice posted; bob followed, liked and commented through nginx")

            # No worker runs yet: the API processes only queue the jobs.
            await asyncio.sleep(QUIET_SECONDS)
            listed = (await balancer.call("GET", "/users/me/notifications", 200, token=tokens["alice"])).json()
            early = direct.notifications + proxied.notifications + listed["items"]
            expect(not early, f"notifications appeared before any worker ran (is the in-process worker off?): {early}")
            say(f"no notification after {QUIET_SECONDS} s without a worker: the API processes run no jobs")

            worker = deployment.start("worker", [TOWNSQUARE, "worker"])
            begun = time.monotonic()
            wanted = {"follow", "like", "comment"}

            def delivered() -> bool:
                return all({item["type"] for item in s.notifications} >= wanted for s in (direct, proxied))

            if not await wait_for(delivered, DELIVERY_SECONDS):
                fail(
                    f"within {DELIVERY_SECONDS} s of starting the worker, the stream on api-b got "
                    f"{[n['type'] for n in direct.notifications]}, the one through nginx "
                    f"{[n['type'] for n in proxied.notifications]}; expected {sorted(wanted)}"
                )
            for stream in (direct, proxied):
                types = sorted(item["type"] for item in stream.notifications)
                expect(types == sorted(wanted), f"{stream.name} got {types}, expected each of {sorted(wanted)} once")
                actors = {item["actor"]["username"] for item in stream.notifications}
                expect(actors == {names["bob"]}, f"{stream.name}: notifications by {actors}, expected bob")
            say(
                f"follow, like and comment reached both streams "
                f"{time.monotonic() - begun:.1f} s after the worker started"
            )

            # Spread over both processes, one account's failed logins are counted once, in Redis.
            # (Counted in each process's memory, no process would have seen 5 attempts by the 6th.)
            both = set(process_names)
            wrong = {"username": names["bob"], "password": "not-" + password}
            failures = [await balancer.call("POST", "/auth/login", 401, data=wrong) for _ in range(LOGIN_LIMIT)]
            spread = [response.headers["x-upstream"] for response in failures]
            expect(set(spread) == both, f"the {LOGIN_LIMIT} failed logins were not spread over both APIs: {spread}")
            refused = await balancer.call("POST", "/auth/login", 429, data=wrong)
            retry_after = refused.headers.get("retry-after", "")
            expect(
                retry_after.isdigit() and int(retry_after) >= 1, f"429 without a usable Retry-After: {retry_after!r}"
            )
            by_process = Counter(process_names[upstream] for upstream in spread)
            say(
                f"{LOGIN_LIMIT} failed logins for bob, 401 from {dict(sorted(by_process.items()))}; "
                f"attempt {LOGIN_LIMIT + 1}: 429 with Retry-After {retry_after} (one count, in Redis)"
            )

            tally = {process_names.get(upstream, upstream): count for upstream, count in balancer.upstreams.items()}
            expect(set(balancer.upstreams) == both, f"answers came from {tally}, expected both API processes")
            expect(all(count >= 3 for count in tally.values()), f"nginx did not spread the load: {tally}")
            say(f"answers through nginx per API process: {dict(sorted(tally.items()))}")

            # Stop, front to back: nginx, then the APIs (a stream gets its end), then the worker.
            for service in (nginx, api_a):
                status = await asyncio.to_thread(deployment.stop, service)
                expect(status == 0, f"{service.name} exited {status} after SIGTERM:\n{service.tail()}")
            status = await asyncio.to_thread(deployment.stop, api_b)
            expect(status == 0, f"api-b exited {status} after SIGTERM:\n{api_b.tail()}")
            await wait_for(lambda: bool(direct.ends), 2)
            expect(
                direct.ends == ["server-shutdown"], f"the stream on api-b ended with {direct.ends}, not server-shutdown"
            )
        status = await asyncio.to_thread(deployment.stop, worker)
        expect(status == 0, f"the worker exited {status} after SIGTERM:\n{worker.tail()}")
        say("SIGTERM: nginx, both APIs and the worker exited 0; the open stream got its end event")


def environment(workdir: Path, database_url: str, key_prefix: str) -> dict[str, str]:
    # A clean slate: nothing from the caller's own TOWNSQUARE_* settings leaks in.
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TOWNSQUARE_") and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "TOWNSQUARE_ENVIRONMENT": "production",
        "TOWNSQUARE_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "TOWNSQUARE_WORKER__IN_PROCESS": "false",
        "TOWNSQUARE_SERVER__TRUSTED_PROXIES": '["127.0.0.1"]',
        "TOWNSQUARE_RATE_LIMIT__KEY_PREFIX": key_prefix,
        "TOWNSQUARE_DATA_DIR": str(workdir / "data"),
        "PYTHONUNBUFFERED": "1",
    }


async def main() -> int:
    # Stopped from outside (a CI timeout, say): unwind, so that everything started is stopped.
    this = asyncio.current_task()
    if this is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, this.cancel)
    nginx_binary = ensure_nginx()
    name = f"townsquare_scale_out_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="townsquare-scale-out-") as temporary:
        workdir = Path(temporary)
        deployment: Deployment | None = None
        try:
            with redis_keys(name), fresh_database(name) as database_url:
                say(f"database {name}, Redis key prefix {name}, work directory {workdir}")
                deployment = Deployment(workdir, environment(workdir, database_url, name))
                try:
                    async with asyncio.timeout(TOTAL_SECONDS):
                        await check_deployment(deployment, nginx_binary)
                finally:
                    deployment.stop_all()
        except (CheckFailed, TimeoutError) as error:
            reason = str(error) or f"the check took longer than {TOTAL_SECONDS} s"
            print(f"\nSCALE-OUT CHECK FAILED: {reason}", file=sys.stderr)
            if deployment is not None:
                print(deployment.logs(), file=sys.stderr)
            return 1
    say("scale-out check passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("scale-out check interrupted; what it started is stopped")
