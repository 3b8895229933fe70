"""`townsquare run | worker | db upgrade | db downgrade | seed`."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from townsquare.config import Settings, WorkerSettings, get_settings

log = logging.getLogger("townsquare")

EMBEDDED_DATABASE = "townsquare"
PR_SET_PDEATHSIG = 1  # prctl(2)


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
    from granian.constants import HTTPModes, Interfaces, Loops, SSLProtocols
    from granian.log import LogLevels
    from granian.server import Server

    from townsquare.db import migrate
    from townsquare.observability import metrics

    settings = get_settings()
    host, port = args.host or settings.server.host, args.port or settings.server.port
    certfile = args.ssl_certfile or settings.server.tls_certfile
    keyfile = args.ssl_keyfile or settings.server.tls_keyfile
    if (certfile is None) != (keyfile is None):
        raise SystemExit("townsquare run: HTTPS needs both --ssl-certfile and --ssl-keyfile")
    scheme = "https" if certfile else "http"
    # SIGTERM before serving (the embedded database starting, migrations): as SystemExit it
    # unwinds the blocks below. While serving, granian's handlers stop the workers gracefully.
    signal.signal(signal.SIGTERM, _exit)
    # The app is imported here, while the database starts and is checked: granian forks its
    # workers from this process, so they start with it imported (a second or more each).
    importing = threading.Thread(target=importlib.import_module, args=("townsquare.app",), daemon=True)
    importing.start()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database_url(settings))
        if settings.server.migrate_on_start:
            migrate.upgrade(url)
        # The app reads its database from the environment, also in the worker processes.
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        importing.join()
        # Workers are forked from here, with the app imported, on every Python version (3.14
        # would make granian spawn them: fresh interpreters importing it all again).
        multiprocessing.set_start_method("fork", force=True)
        # A worker outlives a parent killed outright (SIGKILL, the OOM killer): it would go on
        # serving, unsupervised. The kernel tells it instead, as a SIGTERM (a graceful stop).
        if sys.platform.startswith("linux"):
            prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the child
            os.register_at_fork(after_in_child=functools.partial(_stop_with_parent, os.getpid(), prctl))
        shown_host = f"[{host}]" if ":" in host else host
        docs = f"  (interactive docs: {scheme}://{shown_host}:{port}/docs)" if settings.docs_enabled else ""
        print(f"Townsquare: {scheme}://{shown_host}:{port}{docs}", flush=True)
        # The app's import made this process's (zero) values of the metrics: not counted once it stops.
        stack.callback(metrics.forget_this_process)
        Server(
            "townsquare.app:create_app",
            factory=True,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=args.workers,
            loop=Loops.uvloop,
            http=HTTPModes.http1,
            websockets=True,
            ssl_cert=certfile,
            ssl_key=keyfile,
            ssl_protocol_min=SSLProtocols.tls12,  # granian's default is 1.3: older clients still speak 1.2
            # Open event streams never finish by themselves: the app ends them at the stop
            # signal (kit/signals.py); a worker still busy after this is killed.
            workers_kill_timeout=settings.server.shutdown_grace_seconds + 5,
            respawn_failed_workers=True,
            # granian's own lines (workers started and stopped) through the app's log handler.
            log_level=LogLevels.info,
            log_dictconfig={"loggers": {"_granian": {"handlers": [], "propagate": True}}},
            log_access=False,  # replaced by the app's own request line, which never shows a query string
        ).serve()


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


_forked_worker = False


def _stop_with_parent(parent: int, prctl: Callable[..., int]) -> None:
    """In a worker forked by `run`: SIGTERM when the process that forked it dies."""
    global _forked_worker  # noqa: PLW0603: once per process, inherited by what a worker forks
    if _forked_worker:
        return  # a process a worker forks (none today) is the worker's business
    _forked_worker = True
    # Until granian sets the worker's own handler, the one inherited from the parent would only
    # set a flag here: a stop now is the default one (nothing is served yet).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above: nobody will signal
        os._exit(0)


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


def seed_demo(args: argparse.Namespace) -> None:
    """Demo data: refused in production, and where there are users already unless --append."""
    import asyncio

    from townsquare import seed
    from townsquare.config import Environment
    from townsquare.db import migrate

    settings = get_settings()
    # Made-up accounts beside real people, and a password printed to a terminal or a CI log.
    if settings.environment is Environment.PRODUCTION and not args.allow_production:
        raise SystemExit(
            "townsquare seed: refused with TOWNSQUARE_ENVIRONMENT=production: demo accounts do not belong "
            "beside real ones (--allow-production for a disposable staging copy)"
        )
    if args.size is not None:
        seed_bulk(args)
        return
    if not 10 <= args.users <= 20_000 or not 1 <= args.days <= 90:
        raise SystemExit("townsquare seed: --users must be 10..20000 and --days 1..90")
    if args.demo_password is not None and not 8 <= len(args.demo_password) <= 128:
        raise SystemExit("townsquare seed: --demo-password must be 8..128 characters, as at registration")
    with database_url(settings) as url:
        migrate.upgrade(url)
        try:
            report = asyncio.run(
                seed.seed(
                    url,
                    settings.auth,
                    users=args.users,
                    seed=args.seed,
                    days=args.days,
                    demo_password=args.demo_password,
                    append=args.append,
                )
            )
        except seed.DatabaseNotEmpty as error:
            raise SystemExit(f"townsquare seed: {error}") from None
    print(report.summary(), flush=True)


def admin(args: argparse.Namespace) -> None:
    """Grant or revoke the moderator role: only an operator with the database can (no API does)."""
    import asyncio

    from townsquare.db import migrate
    from townsquare.db.session import Database

    async def change(url: str) -> str:
        from townsquare.safety import service
        from townsquare.users.errors import UserNotFound

        database = Database(url, get_settings().db)
        try:
            async with database.sessions() as session:
                try:
                    account = await service.set_moderator(session, login=args.user, moderator=args.grant)
                except UserNotFound:
                    raise SystemExit(f"townsquare admin: no account has the username or email {args.user!r}") from None
                await session.commit()
        finally:
            await database.dispose()
        return f"{account.username} (id {account.id}) is now a {account.role}; the audit log says so"

    with database_url(get_settings()) as url:
        migrate.upgrade(url)
        print(asyncio.run(change(url)), flush=True)


def seed_bulk(args: argparse.Namespace) -> None:
    """Benchmark data (`seed --size`): millions of rows, into an empty database only."""
    import asyncio

    from townsquare.db import migrate
    from townsquare.seed import bulk

    if args.append or args.demo_password is not None:
        raise SystemExit("townsquare seed: --size loads an empty database; --append and --demo-password do not apply")
    settings = get_settings()
    with database_url(settings) as url:
        migrate.upgrade(url)
        try:
            asyncio.run(bulk.load(url, settings.auth, size=args.size, seed=args.seed))  # prints its progress
        except bulk.BulkDatabaseNotEmpty as error:
            raise SystemExit(f"townsquare seed: {error}") from None


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

    demo = commands.add_parser("seed", help="fill an empty database with demo users, follows, posts, likes, comments")
    demo.add_argument("--users", type=int, default=200, help="accounts; posts, likes, comments scale (default 200)")
    demo.add_argument("--seed", type=int, default=1, help="random seed: the same seed makes the same world (default 1)")
    demo.add_argument("--days", type=int, default=28, help="the posts span this many past days (default 28)")
    demo.add_argument("--demo-password", help="the demo account's password (default: a random one, printed)")
    demo.add_argument("--append", action="store_true", help="add to a database that has users (changes none of them)")
    demo.add_argument("--allow-production", action="store_true", help="seed even if TOWNSQUARE_ENVIRONMENT=production")
    demo.add_argument(
        "--size",
        choices=("tiny", "small", "large"),  # townsquare.seed.bulk.PRESETS
        help="benchmark data instead of the demo world (--users and --days do not apply): small is 10k users and "
        "100k posts, large 100k users, 1M posts, 5M follows; every account's password is townsquare-bench",
    )
    demo.set_defaults(handler=seed_demo)

    operator = commands.add_parser("admin", help="operator commands: the moderator role").add_subparsers(
        dest="admin_command", required=True
    )
    for name, grant, what in (("grant-moderator", True, "give"), ("revoke-moderator", False, "take")):
        command = operator.add_parser(name, help=f"{what} USER the moderator role (written to the audit log)")
        command.add_argument("user", metavar="USER", help="the account's username or email")
        command.set_defaults(handler=admin, grant=grant)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    from townsquare.observability.logs import configure_logging

    args = parser().parse_args(argv)
    try:
        configure_logging(get_settings())  # in the try: a bad setting is a plain message
        args.handler(args)
    except KeyboardInterrupt:
        pass
    except Exception as error:  # a configuration or start-up problem: say it plainly, no traceback
        from pydantic import ValidationError

        from townsquare.db.embedded import EmbeddedPostgresError

        if isinstance(error, ValidationError | EmbeddedPostgresError | RuntimeError):
            sys.exit(f"townsquare: {error}")
        raise
