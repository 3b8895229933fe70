"""Search relevance on a small hand-made corpus, pagination, hostile input, and privacy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.content import follow, post
from townsquare.search import repository

PROBLEM = "application/problem+json"


async def search(client: AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def usernames(client: AsyncClient, q: str) -> list[str]:
    return [user["username"] for user in (await search(client, q, type="users"))["users"]]


async def contents(client: AsyncClient, q: str) -> list[str]:
    return [item["content"] for item in (await search(client, q, type="posts"))["posts"]]


@pytest.fixture
async def people(client: AsyncClient) -> dict[str, Account]:
    made = {}
    for name, bio in [
        ("robert", "I paint birds"),
        ("roberta", ""),
        ("robertson", "tax advisor"),
        ("bob", "best friend of Robert, runner"),
        ("rob", ""),
        ("charlotte", "I love running in the park"),
        ("zed", "nothing to see"),
    ]:
        made[name] = await make_account(client, name, bio=bio)
    return made


async def test_users_exact_then_prefix_then_bio_then_typos(client: AsyncClient, people: dict[str, Account]) -> None:
    # Exact; prefixes, shorter first; the bio that names Robert. "rob" is three edits away.
    assert await usernames(client, "robert") == ["robert", "roberta", "robertson", "bob"]
    assert await usernames(client, "ROBERT") == ["robert", "roberta", "robertson", "bob"]
    # Exact, prefixes, and "bob", one typo away from "rob".
    assert await usernames(client, "rob") == ["rob", "robert", "roberta", "robertson", "bob"]


@pytest.mark.parametrize(("typo", "meant"), [("robret", "robert"), ("rboert", "robert"), ("chralotte", "charlotte")])
async def test_a_typo_still_finds_the_username(
    client: AsyncClient, people: dict[str, Account], typo: str, meant: str
) -> None:
    found = await usernames(client, typo)
    assert meant in found


async def test_typo_matches_rank_below_prefix_matches(client: AsyncClient, people: dict[str, Account]) -> None:
    await make_account(client, "charl")  # "charl" is a prefix of charlotte... and "charlote" a typo of it
    found = await usernames(client, "charlote")
    assert found[0] == "charlotte"  # the typo match, and no exact or prefix one here
    found = await usernames(client, "charl")
    assert found[:2] == ["charl", "charlotte"]  # exact, then prefix


async def test_bio_words_are_stemmed(client: AsyncClient, people: dict[str, Account]) -> None:
    assert await usernames(client, "runs") == ["charlotte"]  # "running" in her bio
    assert await usernames(client, "painting") == ["robert"]


async def test_users_never_show_private_fields(client: AsyncClient, people: dict[str, Account]) -> None:
    response = await client.get("/search", params={"q": "robert"})
    assert "email" not in response.text
    assert "hashed_password" not in response.text
    assert "example.com" not in response.text
    # Nobody is found by their email address.
    await make_account(client, "quinn", email="hidden.person@elsewhere.org")
    assert await usernames(client, "hidden.person@elsewhere.org") == []
    assert await usernames(client, "elsewhere") == []


@pytest.fixture
async def writings(client: AsyncClient) -> dict[str, Account]:
    author, other = await make_account(client, "writer"), await make_account(client, "other")
    for sentence in [
        "I was running in the rain",
        "run forest run",
        "the cat sat on the mat",
        "Runners run; a running run",
        "rain again, all day rain",
        "cold rain falls",
        "falls rain cold",
    ]:
        await post(client, author, sentence)
    await post(client, other, "a quiet post about nothing")
    return {"author": author, "other": other}


async def test_posts_match_stemmed_words_best_first(client: AsyncClient, writings: dict[str, Account]) -> None:
    found = await contents(client, "running")
    # Four mentions, then two, then one.
    assert found == ["Runners run; a running run", "run forest run", "I was running in the rain"]
    assert await contents(client, "run") == found


async def test_posts_need_every_word(client: AsyncClient, writings: dict[str, Account]) -> None:
    assert await contents(client, "running rain") == ["I was running in the rain"]
    assert await contents(client, "cat dog") == []


async def test_phrases_exclusions_and_or(client: AsyncClient, writings: dict[str, Account]) -> None:
    assert await contents(client, '"cold rain"') == ["cold rain falls"]
    assert await contents(client, '"rain cold"') == ["falls rain cold"]
    assert await contents(client, "run -forest -rain") == ["Runners run; a running run"]
    assert await contents(client, "rain -cold -running") == ["rain again, all day rain"]
    assert sorted(await contents(client, "cat or forest")) == ["run forest run", "the cat sat on the mat"]


async def test_newer_first_among_equal_matches(client: AsyncClient) -> None:
    author = await make_account(client)
    made = [await post(client, author, "same words here") for _ in range(3)]
    found = (await search(client, "words", type="posts"))["posts"]
    assert [item["id"] for item in found] == [item["id"] for item in reversed(made)]


async def test_edits_and_deletions_show_at_once(client: AsyncClient, writings: dict[str, Account]) -> None:
    author = writings["author"]
    made = await post(client, author, "an old sentence about tulips")
    assert await contents(client, "tulips") == ["an old sentence about tulips"]
    edited = await client.put(f"/posts/{made['id']}", headers=author.headers, json={"content": "now about roses"})
    assert edited.status_code == 200
    assert await contents(client, "tulips") == []
    assert await contents(client, "roses") == ["now about roses"]
    assert (await client.delete(f"/posts/{made['id']}", headers=author.headers)).status_code == 204
    assert await contents(client, "roses") == []


async def test_viewer_flags_only_with_a_token(client: AsyncClient, writings: dict[str, Account]) -> None:
    reader = await make_account(client, "reader")
    author = writings["author"]
    await follow(client, reader, author)
    (cat,) = (await search(client, "cat", type="posts"))["posts"]
    assert (await client.post(f"/posts/{cat['id']}/likes", headers=reader.headers)).status_code == 200
    anonymous = await search(client, "writer")
    assert "followed_by_me" not in anonymous["users"][0]
    with_token = (await client.get("/search", params={"q": "writer"}, headers=reader.headers)).json()
    assert with_token["users"][0]["followed_by_me"] is True
    liked = (await client.get("/search", params={"q": "cat"}, headers=reader.headers)).json()["posts"][0]
    assert liked["liked_by_me"] is True
    assert "liked_by_me" not in (await search(client, "cat"))["posts"][0]


async def test_all_gives_both_without_a_cursor(client: AsyncClient, writings: dict[str, Account]) -> None:
    await post(client, writings["author"], "writer's block")
    both = await search(client, "writer")
    assert [u["username"] for u in both["users"]] == ["writer"]
    assert [p["content"] for p in both["posts"]] == ["writer's block"]
    assert both["next_cursor"] is None
    users_only = await search(client, "writer", type="users")
    assert users_only["posts"] == []


async def _walk(client: AsyncClient, q: str, kind: str, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"type": kind, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = await search(client, q, **params)
        ids += [item["id"] for item in page[kind]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_pages_neither_repeat_nor_skip(client: AsyncClient) -> None:
    author = await make_account(client, "pager")
    for n in range(23):
        await post(client, author, "lorem " * (1 + n % 4) + f"number {n}")
    for n in range(17):
        await make_account(client, f"pager{n:02d}", bio="lorem")
    everything = await search(client, "lorem", type="posts", limit=100)
    assert len(everything["posts"]) == 23
    for limit in (1, 4, 10):
        assert await _walk(client, "lorem", "posts", limit) == [p["id"] for p in everything["posts"]]
    all_users = (await search(client, "pager", type="users", limit=100))["users"]
    assert len(all_users) == 18
    assert all_users[0]["username"] == "pager"
    for limit in (1, 5):
        assert await _walk(client, "pager", "users", limit) == [u["id"] for u in all_users]


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "   "},  # blank after trimming: it listed every user
        {"q": " \t\n "},
        {"q": "x" * 101},
        {"q": " " + "x" * 101 + " "},
        {"q": "a\x00b"},
        {},
        {"q": "a", "type": "people"},
        {"q": "a", "limit": 0},
        {"q": "a", "limit": 101},
        {"q": "a", "cursor": "nonsense"},
        {"q": "a", "type": "all", "cursor": "WyJ1IiwxLDEuMCwxXQ"},
        {"q": "a", "type": "posts", "cursor": "WyJ1IiwxLDEuMCwxXQ"},  # a users cursor
        {"q": "a", "type": "users", "cursor": "WyJ1Iiw5LDEuMCwxXQ"},  # tier 9
        {"q": "a", "type": "users", "cursor": "WyJ1IiwxLDEuMCw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"},  # id too big
        {"q": "a", "type": "posts", "cursor": "WyJwIixOYU4sMV0"},  # NaN
    ],
)
async def test_bad_requests_are_422(client: AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get("/search", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_the_length_limit_applies_after_trimming(client: AsyncClient) -> None:
    response = await client.get("/search", params={"q": "   " + "x" * 100 + "   "})
    assert response.status_code == 200, response.text
    blank = await client.get("/search", params={"q": "   "})
    assert blank.json()["errors"][0]["loc"] == ["query", "q"]
    assert "only spaces" in blank.json()["errors"][0]["msg"]


@pytest.mark.parametrize(
    "q",
    [
        "'",
        '"',
        '"""',
        "\\",
        "%",
        "_",
        "a_c",
        "!!",
        "(",
        ")",
        "&|",
        "<->",
        ":*",
        "x' OR 1=1 --",
        "-",
        "- -",
        "💥",
        "ü",
        "ﬁ",
        "a:*b",
        "!a & !b",
        "or",
        "the",
        "-the",
        '"-"',
        "\u200b",
        "é" * 100,
    ],
)
async def test_hostile_queries_answer(client: AsyncClient, q: str) -> None:
    response = await client.get("/search", params={"q": q})
    assert response.status_code == 200, response.text


@given(q=st.text(min_size=1, max_size=100))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_any_text_is_answered_200_or_422(client: AsyncClient, q: str) -> None:
    response = await client.get("/search", params={"q": q})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        # the only text refused: blank, or NUL, which PostgreSQL cannot hold
        assert "\x00" in q or not q.strip()


async def _quick_users(app: FastAPI, names: list[str]) -> None:
    """Accounts straight into the table (no password hashing): for crowds."""
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO user_account (email, username, hashed_password) VALUES (:e, :u, 'x')"),
            [{"e": f"{name}@example.com", "u": name} for name in names],
        )


async def test_short_names_are_found_with_one_typo(app: FastAPI, client: AsyncClient) -> None:
    await _quick_users(app, ["john", "bob", "runa"])
    assert await usernames(client, "jhon") == ["john"]
    assert await usernames(client, "bpb") == ["bob"]
    assert await usernames(client, "rnua") == ["runa"]


async def test_many_prefix_matches_do_not_crowd_out_a_typo(app: FastAPI, client: AsyncClient) -> None:
    await _quick_users(app, ["michael", *(f"micheal_{n}" for n in range(60))])
    found = (await search(client, "micheal", type="users", limit=100))["users"]
    assert len(found) == 61
    assert found[-1]["username"] == "michael"  # after the 60 prefix matches
    # Typos are looked for only when a page has room for them: pages of 20 still reach it.
    for limit in (20, 30, 61):
        assert await _walk(client, "micheal", "users", limit) == [user["id"] for user in found]


async def test_spaces_and_an_at_sign_do_not_hide_the_exact_match(
    client: AsyncClient, people: dict[str, Account]
) -> None:
    for q in ("robert ", "  robert", "@robert", "@Robert "):
        assert (await usernames(client, q))[0] == "robert", q


async def test_exclusions_alone_match_nothing(client: AsyncClient, writings: dict[str, Account]) -> None:
    await make_account(client, "someone", bio="words in a bio")
    for q in ("-zzzz", "-cat -rain", "zzz or -zzz"):
        found = await search(client, q)
        assert found["posts"] == []
        assert [u["username"] for u in found["users"] if u["username"] == "someone"] == []


async def test_posts_rank_among_the_newest_matches_and_pages_hold_their_window(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "RANKED_CANDIDATES", 5)
    author = await make_account(client)
    made = [await post(client, author, f"tulip number {n}") for n in range(8)]
    newest_five = [item["id"] for item in reversed(made[3:])]
    assert await _walk(client, "tulip", "posts", 2) == newest_five  # equal ranks: newer first
    # A matching post made between pages does not push an unseen one out of the window.
    first = await search(client, "tulip", type="posts", limit=2)
    await post(client, author, "tulip number 8")
    seen = [item["id"] for item in first["posts"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await search(client, "tulip", type="posts", limit=2, cursor=cursor)
        seen += [item["id"] for item in page["posts"]]
        cursor = page["next_cursor"]
    assert seen == newest_five


async def test_an_empty_cursor_is_no_cursor(client: AsyncClient, people: dict[str, Account]) -> None:
    for kind in ("all", "users", "posts"):
        response = await client.get("/search", params={"q": "robert", "type": kind, "cursor": ""})
        assert response.status_code == 200, kind


async def test_the_post_query_is_parsed_once_not_per_row(app: FastAPI) -> None:
    # The planner folds websearch_to_tsquery('english'::regconfig, $q) into a constant; with
    # the configuration as a parameter it cannot, and every row looked at parses it again.
    statement = repository.posts_statement(0, viewer=False, paging=False)  # through the GIN index
    params = repository.posts_params("running rain", terms=None, viewer_id=None, after=None, limit=21)
    compiled = statement.compile(dialect=app.state.database.engine.dialect)
    async with app.state.database.engine.connect() as connection:
        plan = (
            await connection.exec_driver_sql(f"EXPLAIN (VERBOSE) {compiled.string}", compiled.construct_params(params))
        ).all()
    text_of_plan = "\n".join(str(row[0]) for row in plan)
    assert "'''run'' & ''rain'''::tsquery" in text_of_plan
    assert "websearch_to_tsquery" not in text_of_plan
