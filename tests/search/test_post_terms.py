"""The inverted list of the posts' words: kept exact by the triggers, and read to the same
results as the GIN index would give."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.fixtures.accounts import make_account
from tests.fixtures.content import post
from townsquare.search import repository

# What post_term must hold: every lexeme of every post's search_vector, and nothing else.
DRIFT = text("""
WITH expected AS (SELECT unnest(tsvector_to_array(search_vector)) AS term, id AS post_id FROM post),
     held AS (SELECT term, post_id FROM post_term)
SELECT (SELECT count(*) FROM held),
       (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM held) AS missing),
       (SELECT count(*) FROM (SELECT * FROM held EXCEPT SELECT * FROM expected) AS extra)
""")


async def _drift(app: FastAPI) -> tuple[int, int, int]:
    """(rows held, rows missing, rows extra)."""
    async with app.state.database.engine.connect() as connection:
        held, missing, extra = (await connection.execute(DRIFT)).one()
    return int(held), int(missing), int(extra)


async def test_the_list_follows_every_write(app: FastAPI, client: AsyncClient) -> None:
    alice, bob = await make_account(client), await make_account(client)
    first = await post(client, alice, "Tulips and roses in the garden")
    await post(client, alice, "Running in the rain")
    bobs = await post(client, bob, "Bob writes about tulips too")
    held, missing, extra = await _drift(app)
    assert (missing, extra) == (0, 0)
    assert held == 3 + 2 + 3  # tulip rose garden | run rain | bob write tulip (no stop words)

    edited = await client.put(f"/posts/{first['id']}", headers=alice.headers, json={"content": "only daisies now"})
    assert edited.status_code == 200
    assert await _drift(app) == (1 + 2 + 3, 0, 0)  # daisi
    # A like changes the post's row (its counter), not its words.
    assert (await client.post(f"/posts/{bobs['id']}/likes", headers=alice.headers)).status_code == 200
    assert await _drift(app) == (6, 0, 0)

    assert (await client.delete(f"/posts/{bobs['id']}", headers=bob.headers)).status_code == 204
    assert await _drift(app) == (3, 0, 0)
    # Deleting the account deletes its posts by cascade: their words go with them.
    gone = await client.request("DELETE", "/users/me", headers=alice.headers, json={"password": alice.password})
    assert gone.status_code == 204
    assert await _drift(app) == (0, 0, 0)


async def test_many_posts_in_one_statement_and_truncate(app: FastAPI, client: AsyncClient) -> None:
    author = await make_account(client)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO post (author_id, content)"
                " SELECT :author, 'word' || n || ' common' FROM generate_series(1, 50) n"
            ),
            {"author": int(author.id)},
        )
    assert await _drift(app) == (100, 0, 0)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text("TRUNCATE post CASCADE"))
    assert await _drift(app) == (0, 0, 0)


@pytest.mark.parametrize(
    ("tree", "terms"),
    [
        ("'run' & 'rain'", ["run", "rain"]),
        ("'cold' <-> 'rain'", ["cold", "rain"]),
        ("'end' <2> 'day' & 'end'", ["end", "day"]),
        ("'e-mail' <-> 'e' <-> 'mail'", ["e-mail", "e", "mail"]),
        ("'a' & 'b' & 'c' & 'd' & 'e'", ["a", "b", "c", "d"]),  # LOOKUP_TERMS
        ("'o''neil' & 'c:\\\\temp'", ["o'neil", "c:\\temp"]),  # ' and \ doubled in tsquery text
        ("'x|y' & 'z'", ["x|y", "z"]),  # operators inside a lexeme are not operators
        ("'cat' | 'forest'", None),
        ("'new' <-> 'york' | 'boston' & 'citi'", None),
        ("'pre':*", None),
        ("T", None),
        ("", None),
    ],
)
def test_required_terms(tree: str, terms: list[str] | None) -> None:
    assert repository.required_terms(tree) == terms


WORDS = ["tulip", "rose", "rain", "run", "garden", "cold", "city", "night", "music", "jazz"]


async def _ids(app: FastAPI, q: str, *, inverted: bool, limit: int = 7) -> list[list[int]]:
    """Every page of the search for q, as the service walks it, by one path or the other."""
    pages: list[list[int]] = []
    after: tuple[float, int, int] | None = None
    async with app.state.database.sessions() as session:
        terms = await repository.prepare(session, q)
        while True:
            used: Sequence[str] | None = terms if inverted else None
            rows: Sequence[Any] = await repository.posts(
                session, q, terms=used, viewer_id=None, after=after, limit=limit + 1
            )
            pages.append([int(row.id) for row in rows[:limit]])
            if len(rows) <= limit:
                return pages
            last = rows[limit - 1]
            after = (float(last.rank), int(last.id), int(last.floor))


async def test_the_list_finds_what_the_gin_index_finds(
    app: FastAPI, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "RANKED_CANDIDATES", 25)  # windows smaller than the matches
    rng = random.Random(5)
    author = await make_account(client)
    contents = [" ".join(rng.choices(WORDS, k=rng.randint(1, 6))) for _ in range(120)]
    contents[60] = "music in the rose garden: tulips, rain"
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO post (author_id, content) VALUES (:author, :content)"),
            [{"author": int(author.id), "content": content} for content in contents],
        )
    queries = [
        "tulip",
        "rain run",
        "running rain",
        '"cold night"',
        '"night cold" city',
        "jazz -music",
        "garden rose tulip rain music",  # more words than LOOKUP_TERMS: the rest checked on the row
        "tulip or jazz",
        "-tulip",
        "nothing",
        *(" ".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(12)),
    ]
    found = {}
    for q in queries:
        found[q] = await _ids(app, q, inverted=False)
        assert await _ids(app, q, inverted=True) == found[q], q
    # Not vacuous: most queries match, some over several pages and more than one window.
    assert sum(not pages[0] for pages in found.values()) == 2  # -tulip, nothing
    assert len(found["tulip"]) == 4  # 25 in pages of 7
