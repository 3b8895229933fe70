"""The two ways a feed page is found (see feed/repository.py) give the same pages."""

from __future__ import annotations

import random

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import make_account
from tests.fixtures.content import all_pages, follow
from townsquare.feed import repository


async def test_walking_everyones_newest_posts_finds_the_same_pages(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(8)
    viewer = await make_account(client, "walker")
    others = [await make_account(client) for _ in range(6)]
    for followed in others[:3]:
        await follow(client, viewer, followed)
    # 150 posts, mostly by accounts the viewer does not follow, in a random order of authors:
    # stretches where a walk of 8 posts finds a page and stretches where it does not.
    authors = [rng.choice([viewer, *others, *others[3:] * 4]) for _ in range(150)]
    async with app.state.database.engine.begin() as connection:
        for n, author in enumerate(authors):
            await connection.execute(
                text("INSERT INTO post (author_id, content) VALUES (:author, :content)"),
                {"author": int(author.id), "content": f"post {n}"},
            )
    feed = {"headers": viewer.headers}

    monkeypatch.setattr(repository, "WALK_FROM_FOLLOWING", 10**9)  # never walks
    by_author = {limit: await all_pages(client, "/feed", limit=limit, **feed) for limit in (1, 3, 7)}
    monkeypatch.setattr(repository, "WALK_FROM_FOLLOWING", 1)
    for walk in (8, 40, 5_000):
        monkeypatch.setattr(repository, "WALK", walk)
        for limit, pages in by_author.items():
            assert await all_pages(client, "/feed", limit=limit, **feed) == pages, (walk, limit)
    mine = sum(author.id in {viewer.id, *(o.id for o in others[:3])} for author in authors)
    assert len(by_author[7]) == mine > 30
