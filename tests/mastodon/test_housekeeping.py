"""Expired authorization codes and hour-old Idempotency-Keys are removed by hourly jobs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import make_account
from tests.fixtures.mastodon import OOB, create_app, token_for
from townsquare.mastodon.tasks import FORGET_OLD_IDEMPOTENCY_KEYS
from townsquare.oauth.tasks import PURGE_EXPIRED_CODES


class _Context:
    def __init__(self, app: FastAPI) -> None:
        self.additional_context = {"database": app.state.database}


async def _count(app: FastAPI, table: str) -> int:
    async with app.state.database.engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


async def _age(app: FastAPI, statement: str) -> None:
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text(statement))


async def test_old_codes_and_keys_go_and_fresh_ones_stay(app: FastAPI, client: AsyncClient) -> None:
    alice = await make_account(client)
    registered = await create_app(client)
    query = {"response_type": "code", "client_id": registered.client_id, "redirect_uri": OOB}
    for _ in range(2):
        page = await client.post(
            "/oauth/authorize", data={**query, "login": alice.username, "password": alice.password}
        )
        assert page.status_code == 200
    token = await token_for(client, alice)
    for key in ("first", "second"):
        headers = {**token.headers, "Idempotency-Key": key}
        assert (await client.post("/api/v1/statuses", headers=headers, data={"status": key})).status_code == 200
    await _age(
        app,
        "UPDATE oauth_code SET expires_at = now() - interval '1 second'"
        " WHERE ctid = (SELECT min(ctid) FROM oauth_code)",
    )
    await _age(app, "UPDATE status_idempotency SET created_at = now() - interval '2 hours' WHERE key = 'first'")
    context: Any = _Context(app)
    for name in (PURGE_EXPIRED_CODES, FORGET_OLD_IDEMPOTENCY_KEYS):  # as the worker runs them
        await app.state.jobs.app.tasks[name].func(context, timestamp=0)
    assert await _count(app, "oauth_code") == 1
    assert await _count(app, "status_idempotency") == 1


def test_both_run_every_hour(app: FastAPI) -> None:
    periodic = app.state.jobs.app.periodic_registry.periodic_tasks
    crons = {name: task.cron for (name, _), task in periodic.items()}
    assert crons[PURGE_EXPIRED_CODES] == "23 * * * *"
    assert crons[FORGET_OLD_IDEMPOTENCY_KEYS] == "29 * * * *"
