"""Expired login sessions are purged by the worker's hourly task."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import make_account
from townsquare.auth import service
from townsquare.auth.tasks import PURGE_EXPIRED_SESSIONS


async def test_expired_sessions_and_their_tokens_are_purged(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE refresh_session SET expires_at = now() - interval '1 second' WHERE user_id = :u"),
            {"u": int(alice.id)},
        )
    async with app.state.database.sessions() as session:
        assert await service.purge_expired_sessions(session) == 1
        await session.commit()
    async with app.state.database.engine.connect() as connection:
        left = await connection.execute(
            text(
                "SELECT user_id, (SELECT count(*) FROM refresh_token t WHERE t.session_id = s.id)"
                " FROM refresh_session s"
            )
        )
        assert left.all() == [(int(bob.id), 1)]
    assert (await client.get("/users/me", headers=bob.headers)).status_code == 200


def test_the_purge_runs_every_hour(app: FastAPI) -> None:
    periodic = app.state.jobs.app.periodic_registry.periodic_tasks
    (purge,) = [task for (name, _), task in periodic.items() if name == PURGE_EXPIRED_SESSIONS]
    assert purge.cron == "17 * * * *"
