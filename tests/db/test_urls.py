"""DATABASE_URL in its usual forms, for SQLAlchemy and for plain psycopg connections."""

from __future__ import annotations

import psycopg
import pytest

from tests.fixtures.database import with_options
from townsquare.db.urls import async_url, libpq_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql://u:p@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql://u@h/db"),
        # A space must reach libpq as a space: `+` would be kept as a `+`.
        ("postgresql://u@h/db?options=-c%20lock_timeout%3D1s", "postgresql://u@h/db?options=-c%20lock_timeout%3D1s"),
        ("postgresql://u@/db?host=%2Frun%2Fpg&sslmode=disable", "postgresql://u@/db?host=%2Frun%2Fpg&sslmode=disable"),
    ],
)
def test_libpq_url(given: str, expected: str) -> None:
    assert libpq_url(given) == expected


def test_the_async_url_picks_psycopg() -> None:
    assert async_url("postgres://u@h/db").startswith("postgresql+psycopg://")
    with pytest.raises(ValueError, match="PostgreSQL"):
        async_url("mysql://u@h/db")


def test_options_in_the_url_reach_the_server(database_url: str) -> None:
    # Embedded or not: an embedded server's URL already has a query (`?host=`).
    with psycopg.connect(libpq_url(with_options(database_url, "-c lock_timeout=1234"))) as connection:
        assert connection.execute("SHOW lock_timeout").fetchone() == ("1234ms",)
