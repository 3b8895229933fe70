"""Load a benchmark preset into a database, creating and migrating it first if needed.

    .venv/bin/python bench/generate.py postgresql://postgres@127.0.0.1:5432/ts_bench --size large [--seed 1]

The same as `DATABASE_URL=... townsquare seed --size large`, plus creating the database. The
database must be new or empty: a preset is never loaded beside existing users. See
`townsquare/seed/bulk.py` for what is made, and how a load driver gets access tokens.
"""

from __future__ import annotations

import argparse
import asyncio

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from townsquare.config import AuthSettings
from townsquare.db.migrate import upgrade
from townsquare.db.urls import libpq_url
from townsquare.seed import bulk


def ensure_database(url: str) -> None:
    name = str(make_url(url).database)
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(libpq_url(server), autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("url", help="the database (created if missing)")
    arguments.add_argument("--size", choices=sorted(bulk.PRESETS), default="small")
    arguments.add_argument("--seed", type=int, default=1)
    args = arguments.parse_args()
    ensure_database(args.url)
    upgrade(args.url)
    # The default argon2id cost, as the app's: the password hash is made once.
    asyncio.run(bulk.load(args.url, AuthSettings(), size=args.size, seed=args.seed))


if __name__ == "__main__":
    main()
