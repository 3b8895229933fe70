"""`townsquare run | worker | db upgrade | db downgrade`."""

from __future__ import annotations

import argparse
import contextlib
import copy
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from townsquare.config import Settings, WorkerSettings, get_settings

log = logging.getLogger("townsquare")

EMBEDDED_DATABASE = "townsquare"


@contextlib.contextmanager
def database_url(settings: Settings, *, start_embedded: bool = True) -> Iterator[str]:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL under the data directory.

    Without `start_embedded`, the embedded server must already be running (started by
    `townsquare run`): a worker then never owns, and never stops, the API's database."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    from townsquare.db import embedded

    if not start_embedded:
        server = embedded.EmbeddedPostgres(settings.data_dir / "postgres")
        if not server.is_running():
            raise RuntimeError(
                "the embedded PostgreSQL is not running: start the API first (`make run`), or set DATABASE_URL"
            )
        yield server.url(EMBEDDED_DATABASE)
        return
    print(f"DATABASE_URL is not set: using the embedded PostgreSQL in {settings.data_dir / 'postgres'}", flush=True)
    with embedded.running(settings.data_dir / "postgres") as server:
        yield server.ensure_database(EMBEDDED_DATABASE)


def run(args: argparse.Namespace) -> None:
    import uvicorn

    from townsquare.db import migrate

    settings = get_settings()
    host, port = args.host or settings.server.host, args.port or settings.server.port
    certfile = args.ssl_certfile or settings.server.tls_certfile
    keyfile = args.ssl_keyfile or settings.server.tls_keyfile
    if (certfile is None) != (keyfile is None):
        raise SystemExit("townsquare run: HTTPS needs both --ssl-certfile and --ssl-keyfile")
    scheme = "https" if certfile else "http"
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: as SystemExit it
    # unwinds the blocks below (an embedded database is stopped too) and exits with status 0.
    signal.signal(signal.SIGTERM, _exit)
    with database_url(settings) as url:
        migrate.upgrade(url)
        # The app reads its database from the environment, also in uvicorn's worker processes.
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        shown_host = f"[{host}]" if ":" in host else host
        docs = f"  (interactive docs: {scheme}://{shown_host}:{port}/docs)" if settings.docs_enabled else ""
        print(f"Townsquare: {scheme}://{shown_host}:{port}{docs}", flush=True)
        uvicorn.run(
            "townsquare.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            loop="uvloop",
            http="httptools",
            proxy_headers=False,
            server_header=False,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            # Open event streams never finish by themselves: stop waiting for them after this.
            timeout_graceful_shutdown=settings.server.shutdown_grace_seconds,
            log_config=uvicorn_logging(),
        )


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def worker(args: argparse.Namespace) -> None:
    """Job workers apart from the API: run any number, on any machine that reaches the database."""
    import asyncio
    import socket

    from townsquare.db.session import Database
    from townsquare.worker.queue import JobQueue

    settings = get_settings()
    if args.concurrency is not None:  # validated like the environment variable
        worker_settings = {**settings.worker.model_dump(), "concurrency": args.concurrency}
        settings.worker = WorkerSettings.model_validate(worker_settings)

    async def work(url: str) -> None:
        database = Database(url, settings.db)
        jobs = JobQueue(url, settings.worker)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            # Restarted after any failure, so it outlives a database restart.
            await jobs.start_worker(database, name=f"worker-{socket.gethostname()}-{os.getpid()}")
            await stop.wait()
            await jobs.stop_worker()  # the jobs in hand finish first
        finally:
            await database.dispose()

    with database_url(settings, start_embedded=False) as url:
        print(f"Townsquare job worker (concurrency {settings.worker.concurrency}); Ctrl-C stops it", flush=True)
        asyncio.run(work(url))


def db_upgrade(args: argparse.Namespace) -> None:
    from townsquare.db import migrate

    with database_url(get_settings()) as url:
        migrate.upgrade(url, args.revision)
    print(f"database upgraded to {args.revision}")


def db_downgrade(args: argparse.Namespace) -> None:
    from townsquare.db import migrate

    with database_url(get_settings()) as url:
        migrate.downgrade(url, args.revision)
    print(f"database downgraded to {args.revision}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="townsquare", description="Townsquare social media backend.")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("run", help="serve the API (starts an embedded PostgreSQL without DATABASE_URL)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1, or TOWNSQUARE_SERVER__HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000, or TOWNSQUARE_SERVER__PORT)")
    serve.add_argument("--workers", type=int, default=1, help="API processes (default 1)")
    serve.add_argument("--ssl-certfile", type=Path, help="serve HTTPS with this PEM certificate (chain)")
    serve.add_argument("--ssl-keyfile", type=Path, help="... and this PEM private key")
    serve.set_defaults(handler=run)

    work = commands.add_parser(
        "worker", help="run a job worker (notifications); set TOWNSQUARE_WORKER__IN_PROCESS=false on the API then"
    )
    work.add_argument("--concurrency", type=int, help="jobs at once (default 4, or TOWNSQUARE_WORKER__CONCURRENCY)")
    work.set_defaults(handler=worker)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=db_upgrade)
    down = db.add_parser("downgrade", help="revert migrations")
    down.add_argument("revision")
    down.set_defaults(handler=db_downgrade)
    return root


class RedactTokens(logging.Filter):
    """Keep `?access_token=` (event streams) out of the access log, however it is encoded."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def redact_query(target: str) -> str:
    path, separator, query = target.partition("?")
    if not separator:
        return target
    # Decoded as the application decodes it, so `access%5Ftoken=` is caught too.
    pairs = parse_qsl(query, keep_blank_values=True)
    if all(key != "access_token" for key, _ in pairs):
        return target
    redacted = [(key, "[redacted]" if key == "access_token" else value) for key, value in pairs]
    return f"{path}?{urlencode(redacted, safe='[]')}"


def uvicorn_logging() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_tokens": {"()": RedactTokens}}
    config["handlers"]["access"]["filters"] = ["redact_tokens"]
    return config


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    try:
        args.handler(args)
    except KeyboardInterrupt:
        pass
    except Exception as error:  # a configuration or start-up problem: say it plainly, no traceback
        from pydantic import ValidationError

        from townsquare.db.embedded import EmbeddedPostgresError

        if isinstance(error, ValidationError | EmbeddedPostgresError | RuntimeError):
            sys.exit(f"townsquare: {error}")
        raise
