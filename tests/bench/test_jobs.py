"""What the benchmark says about jobs left in the queue after the write scenarios."""

from __future__ import annotations

import psycopg
from fastapi import FastAPI
from load import database

from townsquare.config import Settings
from townsquare.db.urls import libpq_url

JOBS = """
INSERT INTO procrastinate_jobs (queue_name, task_name, status, attempts, scheduled_at) VALUES
    ('bench-probe', 'probe', 'todo', 3, now() + interval '1 hour'),
    ('bench-probe', 'probe', 'todo', 1, now() + interval '1 hour'),
    ('bench-probe', 'probe', 'todo', 0, now() + interval '1 hour'),
    ('bench-probe', 'probe', 'failed', 10, NULL),
    ('bench-probe', 'worker.tend_job_table', 'todo', 0, now() + interval '1 hour')
"""
# The last one is the worker's own housekeeping: never counted as left over.


async def test_leftover_jobs_are_told_apart_by_state(app: FastAPI, settings: Settings) -> None:
    # `app`: a migrated database (its in-process worker leaves jobs scheduled later alone).
    assert settings.database_url is not None
    url = libpq_url(settings.database_url)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(JOBS)
    try:
        assert database.job_states(url) == (
            "1 todo (not due yet), 2 todo after a failed attempt (not due yet), 1 failed after a failed attempt"
        )
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("DELETE FROM procrastinate_jobs WHERE queue_name = 'bench-probe'")


async def test_the_wait_for_jobs_tells_what_is_left_and_how_long_it_waited(app: FastAPI, settings: Settings) -> None:
    assert settings.database_url is not None
    url = libpq_url(settings.database_url)
    left, waited = database.wait_for_jobs(url, timeout=10)
    assert (left, waited < 10) == (0, True)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(JOBS)
    try:
        left, waited = database.wait_for_jobs(url, timeout=0.6)
        assert left == 3  # the failed one is not waiting
        assert waited > 0.6
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("DELETE FROM procrastinate_jobs WHERE queue_name = 'bench-probe'")
