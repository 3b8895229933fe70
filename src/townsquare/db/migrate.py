"""Alembic, configured in code so that `townsquare db upgrade` works from any install."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from townsquare.db.urls import async_url, libpq_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision): str(?: \| None)? = (?:"([^"]+)"|None)$', re.MULTILINE)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config  # Alembic is imported only when it has work

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    # psycopg 3 serves synchronous connections too; Alembic runs plain sync code.
    config.attributes["database_url"] = async_url(database_url)
    return config


def head() -> str:
    """The newest revision, read from the revision files without Alembic: the one no other
    revises (tests/db/test_migrations.py holds it to Alembic's own answer)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for kind, value in _REVISION.findall(path.read_text()):
            (revisions if kind == "revision" else revised).add(value)
    (newest,) = revisions - revised
    return str(newest)


def current(database_url: str) -> str | None:
    """The database's revision, None if it has none yet."""
    with psycopg.connect(libpq_url(database_url), connect_timeout=10) as connection:
        if connection.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,):
            return None
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if found is None else str(found[0])


def upgrade(database_url: str, revision: str = "head") -> None:
    # A database already at the newest revision (every start but the first) costs one query,
    # not Alembic's import and environment: about a second of a warm `make run`.
    if revision == "head" and current(database_url) == head():
        return
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)
