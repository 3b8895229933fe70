"""`townsquare run | db upgrade | db downgrade`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from townsquare.config import Settings, get_settings

log = logging.getLogger("townsquare")

EMBEDDED_DATABASE = "townsquare"


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """DATABASE_URL when set; otherwise the embedded PostgreSQL under the data directory."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    from townsquare.db import embedded

    print(f"DATABASE_URL is not set: using the embedded PostgreSQL in {settings.data_dir / 'postgres'}", flush=True)
    with embedded.running(settings.data_dir / "postgres") as server:
        yield server.ensure_database(EMBEDDED_DATABASE)


def run(args: argparse.Namespace) -> None:
    import uvicorn

    from townsquare.db import migrate

    settings = get_settings()
    host, port = args.host or settings.server.host, args.port or settings.server.port
    with database_url(settings) as url:
        migrate.upgrade(url)
        # The app reads its database from the environment, also in uvicorn's worker processes.
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        shown_host = f"[{host}]" if ":" in host else host
        print(
            f"Townsquare: http://{shown_host}:{port}  (interactive docs: http://{shown_host}:{port}/docs)", flush=True
        )
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
        )


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
    serve.set_defaults(handler=run)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=db_upgrade)
    down = db.add_parser("downgrade", help="revert migrations")
    down.add_argument("revision")
    down.set_defaults(handler=db_downgrade)
    return root


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
