"""The job side: deferred in the action's transaction, idempotent however often it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.accounts import make_account
from tests.fixtures.content import follow, post
from tests.fixtures.notifications import drain, notifications_of, settled_notifications
from townsquare.app import create_app
from townsquare.config import Settings
from townsquare.interactions import service as interactions
from townsquare.notifications import service as notifications
from townsquare.notifications.schemas import NotificationView
from townsquare.posts import service as posts
from townsquare.users import service as users

DELIVER_JOBS = text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'notifications.deliver'")


async def test_a_job_run_twice_makes_one_notification(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    event = {"type": "like", "actor_id": int(alice.id), "target_id": int(bobs["id"]), "at": datetime.now(UTC)}
    # The same job queued three times (as a retry after a crash would), and run directly twice more.
    async with app.state.database.sessions() as session:
        for _ in range(3):
            await notifications.announce(session, app.state.jobs, **event)  # type: ignore[arg-type]
        await session.commit()
    await drain(app)
    for _ in range(2):
        async with app.state.database.sessions() as session:
            assert await notifications.deliver(session, **event) is None  # type: ignore[arg-type]
            await session.commit()
    assert len(await notifications_of(client, bob)) == 1


async def test_concurrent_runs_of_one_job_make_one_notification(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    event = {"type": "follow", "actor_id": int(alice.id), "target_id": int(bob.id), "at": datetime.now(UTC)}

    async def run() -> bool:
        async with app.state.database.sessions() as session:
            made = await notifications.deliver(session, **event)  # type: ignore[arg-type]
            await session.commit()
            return made is not None

    made = await asyncio.gather(*(run() for _ in range(8)))
    assert made.count(True) == 1
    assert len(await notifications_of(client, bob)) == 1


async def test_a_rolled_back_action_queues_nothing(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    async with app.state.database.engine.connect() as connection:
        jobs_before = (await connection.execute(DELIVER_JOBS)).scalar_one()
    jobs = app.state.jobs
    async with app.state.database.sessions() as session:
        await interactions.like(session, jobs, post_id=int(bobs["id"]), user_id=int(alice.id))
        await interactions.add_comment(session, jobs, post_id=int(bobs["id"]), author_id=int(alice.id), content="x")
        await users.follow(session, jobs, follower_id=int(alice.id), followed_id=int(bob.id))
        # The jobs exist inside the transaction ...
        assert (await session.execute(DELIVER_JOBS)).scalar_one() == jobs_before + 3
        await session.rollback()
    # ... and vanish with it, with the actions.
    async with app.state.database.engine.connect() as connection:
        assert (await connection.execute(DELIVER_JOBS)).scalar_one() == jobs_before
    assert await settled_notifications(app, client, bob) == []
    assert (await client.get(f"/posts/{bobs['id']}")).json()["like_count"] == 0


async def test_a_committed_action_has_its_job_before_the_answer(app: FastAPI, client: AsyncClient) -> None:
    # Deferred in the request's own transaction: committed together, so the job is there (or
    # already done) once the client has its 200. Checked on the rows, with the worker paused.
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    async with app.state.database.engine.begin() as connection:
        # Hold the notification table: the worker cannot finish a job until this ends.
        await connection.execute(text("LOCK TABLE notification IN SHARE MODE"))
        response = await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)
        assert response.status_code == 200
        pending = await connection.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'notifications.deliver'")
        )
        assert pending.scalar_one() == 1
    assert len(await settled_notifications(app, client, bob)) == 1


async def test_lists_follow_the_time_of_the_action_not_of_the_job(app: FastAPI, client: AsyncClient) -> None:
    alice, bob, carol = await make_account(client), await make_account(client), await make_account(client)
    now = datetime.now(UTC)
    # Carol's follow happened first but its job ran last.
    async with app.state.database.sessions() as session:
        for actor, at in ((alice, now), (carol, now - timedelta(minutes=5))):
            await notifications.deliver(session, type="follow", actor_id=int(actor.id), target_id=int(bob.id), at=at)
        await session.commit()
    listed = await notifications_of(client, bob)
    assert [n["actor"]["id"] for n in listed] == [alice.id, carol.id]
    assert listed[1]["created_at"].startswith((now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))


async def test_many_actors_at_once_each_notify_once(app: FastAPI, client: AsyncClient) -> None:
    bob = await make_account(client)
    bobs = await post(client, bob)
    fans = [await make_account(client) for _ in range(10)]

    async def act(fan_headers: dict[str, str]) -> None:
        path = f"/posts/{bobs['id']}/likes"
        # Likes repeated in parallel: one like row, one job, one notification per fan.
        results = await asyncio.gather(*(client.post(path, headers=fan_headers) for _ in range(3)))
        assert all(r.status_code == 200 for r in results)

    await asyncio.gather(*(act(fan.headers) for fan in fans))
    settled = await settled_notifications(app, client, bob)
    assert sorted(n["actor"]["id"] for n in settled) == sorted(fan.id for fan in fans)


async def test_a_failing_job_is_retried_with_backoff(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text("""
            CREATE FUNCTION refuse_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'notifications are refused for this test'; END $$;
            CREATE TRIGGER refuse_notifications BEFORE INSERT ON notification
            FOR EACH ROW EXECUTE FUNCTION refuse_notifications();
            """)
        )
    try:
        await follow(client, alice, bob)
        retry = text(
            "SELECT attempts, scheduled_at - now() FROM procrastinate_jobs"
            " WHERE task_name = 'notifications.deliver' AND status = 'todo' AND attempts > 0"
        )
        for _ in range(500):
            async with app.state.database.engine.connect() as connection:
                row = (await connection.execute(retry)).one_or_none()
            if row is not None:
                break
            await asyncio.sleep(0.01)
        assert row is not None, "the failed job was not scheduled again"
        attempts, wait = row
        assert attempts == 1
        assert timedelta(seconds=0.5) < wait <= timedelta(seconds=2)  # the first backoff step: 2 s
    finally:
        async with app.state.database.engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER refuse_notifications ON notification"))
            await connection.execute(text("DROP FUNCTION refuse_notifications()"))
    assert [n["type"] for n in await settled_notifications(app, client, bob)] == ["follow"]


async def _deliver_beside(app: FastAPI, deletion: Any, **event: Any) -> NotificationView | None:
    """Run `deletion` (a function of a session) part way, deliver `event` meanwhile, then let
    the deletion finish: a deadlock would fail one of the two."""
    async with app.state.database.sessions() as deleting, app.state.database.sessions() as delivering:
        finish = await deletion(deleting)
        job = asyncio.create_task(notifications.deliver(delivering, at=datetime.now(UTC), **event))
        await asyncio.sleep(0.3)  # the job is now waiting on a row the deletion holds
        await finish()
        await deleting.commit()
        made = await asyncio.wait_for(job, 10)
        await delivering.commit()
        return made


async def test_the_job_and_the_recipients_account_deletion_do_not_deadlock(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)
    await drain(app)

    async def delete_bob(session: AsyncSession) -> Callable[[], Awaitable[None]]:
        await users.lock(session, user_id=int(bob.id))  # as account deletion starts

        async def rest() -> None:
            await interactions.uncount_user(session, user_id=int(bob.id))  # locks bob's posts
            await users.delete_user(session, user_id=int(bob.id))

        return rest

    made = await _deliver_beside(app, delete_bob, type="like", actor_id=int(alice.id), target_id=int(bobs["id"]))
    assert made is None  # bob is gone: no one to notify, and no error


async def test_the_job_and_a_post_deletion_do_not_deadlock(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    bobs = await post(client, bob)
    comment = await client.post(f"/posts/{bobs['id']}/comments", headers=alice.headers, json={"content": "x"})
    await drain(app)
    async with app.state.database.engine.begin() as connection:  # as if its job had not run yet
        await connection.execute(text("DELETE FROM notification"))

    async def delete_post(session: AsyncSession) -> Callable[[], Awaitable[None]]:
        await session.execute(text("SELECT FROM post WHERE id = :id FOR UPDATE"), {"id": int(bobs["id"])})

        async def rest() -> None:
            await posts.delete_post(session, post_id=int(bobs["id"]), user_id=int(bob.id))

        return rest

    made = await _deliver_beside(
        app, delete_post, type="comment", actor_id=int(alice.id), target_id=int(comment.json()["id"])
    )
    assert made is None
    assert await notifications_of(client, bob) == []


async def test_a_queue_that_cannot_take_the_job_is_a_503_and_nothing_is_kept(settings: Settings) -> None:
    quick = settings.model_copy(
        update={
            "db": settings.db.model_copy(update={"statement_timeout_ms": 500}),
            "worker": settings.worker.model_copy(update={"in_process": False}),
        }
    )
    app = create_app(quick)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with LifespanManager(app), AsyncClient(transport=transport, base_url="http://t") as client:
        alice, bob = await make_account(client), await make_account(client)
        bobs = await post(client, bob)
        async with app.state.database.engine.begin() as connection:
            # Nothing can be queued while this holds the job table.
            await connection.execute(text("LOCK TABLE procrastinate_jobs IN ACCESS EXCLUSIVE MODE"))
            response = await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        # The like went with the job: nothing half done.
        assert (await client.get(f"/posts/{bobs['id']}")).json()["like_count"] == 0
        async with app.state.database.engine.begin() as connection:
            await connection.execute(text("TRUNCATE user_account CASCADE"))
