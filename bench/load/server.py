"""The API as production starts it, in its own process group, and its job worker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import procrastinate
import psycopg

from load import procs
from townsquare.db.urls import libpq_url
from townsquare.notifications.service import DELIVER

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(database_url: str, secret: str) -> dict[str, str]:
    """Production settings, rate limits off, logs at WARNING, metrics as with several workers."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "TOWNSQUARE_ENVIRONMENT": "production",
        "TOWNSQUARE_AUTH__JWT_SECRET": secret,
        "TOWNSQUARE_RATE_LIMIT_ENABLED": "false",
        "TOWNSQUARE_LOG__LEVEL": "WARNING",
        # As deployed (deploy/README.md): jobs run in a `townsquare worker` apart from the API.
        "TOWNSQUARE_WORKER__IN_PROCESS": "false",
    }


class Process:
    """A child in a session of its own: stopping it stops everything it started."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        with log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603
                argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return ""

    def stop(self, grace: float = 20.0) -> None:
        if not self.alive():
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(10)


PRODUCTION, ALTERNATIVE = "granian", "uvicorn"


class ApiServer:
    def __init__(self, kind: str, *, workers: int, env: dict[str, str], work: Path, dev_tools: Path | None) -> None:
        self.kind = kind
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="metrics-", dir=work))
        self.env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir)}
        self.log = work / f"{kind}.log"
        if kind == PRODUCTION:  # `townsquare run`: granian, its workers forked with the app imported
            argv = [str(VENV_BIN / "townsquare"), "run", "--workers", str(workers), "--host", "127.0.0.1"]
            argv += ["--port", str(self.port)]
        elif kind == ALTERNATIVE:  # the server `townsquare run` used before granian, for comparison
            argv = [str(VENV_BIN / "uvicorn"), "--factory", "--workers", str(workers), "--loop", "uvloop"]
            argv += ["--http", "httptools", "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
            argv += ["--no-server-header", "--log-level", "warning", "townsquare.app:create_app"]
        else:
            raise ValueError(kind)
        self.argv = argv
        self.process: Process | None = None
        self.job_worker: Process | None = None
        self.startup: dict[str, float | None] = {}

    def __enter__(self) -> ApiServer:
        url = self.env["DATABASE_URL"]
        probe = _queue_probe_job(url)
        started = time.monotonic()
        self.process = Process(self.kind, self.argv, self.env, self.log)
        self.job_worker = Process(
            "worker", [str(VENV_BIN / "townsquare"), "worker"], self.env, self.log.with_suffix(".worker.log")
        )
        try:
            self.startup = self._time_startup(url, probe, started, timeout=90)
            self._wait_ready(timeout=90)
        except BaseException:
            self.stop()
            raise
        return self

    def _time_startup(self, url: str, probe: int, started: float, *, timeout: float) -> dict[str, float | None]:
        """Seconds from start (both processes started together, as a deployment does) until
        the API's first 200 on /readyz and until the job worker has run the job queued before
        it started (measured to 20 ms)."""
        ready = first_job = None
        deadline = started + timeout
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            while (ready is None or first_job is None) and time.monotonic() < deadline:
                if ready is None and _answers(f"{self.base_url}/readyz"):
                    ready = time.monotonic() - started
                if (
                    first_job is None
                    and not connection.execute(
                        "SELECT 1 FROM procrastinate_jobs WHERE id = %s AND status IN ('todo', 'doing')", (probe,)
                    ).fetchone()
                ):
                    first_job = time.monotonic() - started
                time.sleep(0.02)
        return {"api_ready_seconds": _round(ready), "worker_first_job_seconds": _round(first_job)}

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for process in (self.process, self.job_worker):
            if process is not None:
                process.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _wait_ready(self, *, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise RuntimeError(f"{self.kind} exited at start:\n{self.process.tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200 and len(self.serving_processes()) >= self.workers:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.kind} was not ready in {timeout:.0f} s:\n{self.process.tail()}")

    def serving_processes(self) -> list[int]:
        """The processes that answer requests: the server's workers (not its supervisor)."""
        found = []
        for pid in procs.descendants(self.pid):
            line = procs.command_line(pid)
            if "resource_tracker" not in line and ("python" in line or "granian" in line or "townsquare" in line):
                found.append(pid)
        return found

    def memory(self) -> dict[str, float | None]:
        """Resident memory (MiB) of the supervisor and each serving process."""
        memory = {f"supervisor {self.pid}": procs.rss_mib(self.pid)}
        for pid in self.serving_processes():
            memory[f"worker {pid}"] = procs.rss_mib(pid)
        return memory


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _queue_probe_job(url: str) -> int:
    """A job for the worker to take when it starts: a follow's notification for an account that
    does not exist, which stores nothing."""

    async def defer() -> int:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url)))
        async with app.open_async():
            at = datetime.now(UTC).isoformat()
            job_id: int = await app.configure_task(DELIVER).defer_async(type="follow", actor_id=0, target_id=0, at=at)
            return job_id

    return asyncio.run(defer())
