"""DATABASE_URL in its usual forms, for SQLAlchemy and for plain psycopg connections.

Apart from db/session.py so that what only connects (`townsquare run` checking the migrations
before its workers start) does not import FastAPI and the engine.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from sqlalchemy.engine.url import make_url


def async_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` forms and pick the psycopg 3 driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("DATABASE_URL must point to PostgreSQL")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same database as a plain libpq URL, for psycopg connections made outside SQLAlchemy."""
    parsed = make_url(async_url(url)).set(drivername="postgresql")
    base = parsed.set(query={}).render_as_string(hide_password=False)
    if not parsed.query:
        return base
    # Percent-encoded: SQLAlchemy writes a space as `+`, which libpq keeps as a `+`
    # (`options=-c+lock_timeout=1s` is refused by the server).
    return f"{base}?{urlencode(parsed.query, doseq=True, quote_via=quote)}"
