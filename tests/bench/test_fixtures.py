"""Who asks for what: search terms and the lines of wrk's data files, from a seed."""

from __future__ import annotations

import json
import random
import urllib.parse
from pathlib import Path

import pytest
from load import fixtures
from load.fixtures import Fixtures, Viewer, line, requests_of, search_path, user_terms

# No letter twice in a row (a swap always makes a typo) and distinct first letters: every term leads
# back to one name.
USERNAMES = ["alice_w", "bruno42", "chloe_k", "dmitri9", "esther_q", "farid_07", "gwen_xy", "hiro_5", "ines_mo"]


def origin(term: str, index: int) -> str:
    """The username a term was made from, by the kind user_terms makes at that position."""
    kind = index % 4
    if kind == 2:
        matches = [name for name in USERNAMES if name == term]
    elif kind == 3:
        matches = [name for name in USERNAMES if sorted(name) == sorted(term)]
    else:
        matches = [name for name in USERNAMES if name.startswith(term)]
    assert len(matches) == 1, f"term {index} {term!r} comes from {matches}"
    return matches[0]


def test_user_terms_are_prefixes_whole_names_and_typos_in_turn() -> None:
    terms = user_terms(random.Random(7), USERNAMES)

    assert len(terms) == len(USERNAMES)
    for index, term in enumerate(terms):
        name = origin(term, index)
        if index % 4 in (0, 1):
            assert 3 <= len(term) <= 6
        elif index % 4 == 3:
            # One transposition: two neighbouring letters swapped, the rest in place.
            differ = [at for at in range(len(name)) if name[at] != term[at]]
            assert len(differ) == 2, (name, term)
            first, second = differ
            assert second == first + 1
            assert (term[first], term[second]) == (name[second], name[first])


def test_user_terms_ask_for_each_name_once() -> None:
    terms = user_terms(random.Random(7), USERNAMES)

    assert sorted(origin(term, index) for index, term in enumerate(terms)) == sorted(USERNAMES)


def test_user_terms_are_the_same_for_a_seed() -> None:
    first = user_terms(random.Random(3), USERNAMES)

    assert user_terms(random.Random(3), USERNAMES) == first
    assert any(user_terms(random.Random(seed), USERNAMES) != first for seed in range(4, 10))


def test_user_terms_are_at_most_500() -> None:
    names = [f"user_{number:04}" for number in range(600)]

    terms = user_terms(random.Random(1), names)

    assert len(terms) == 500
    assert sum(term in names for term in terms[2::4]) == 125


@pytest.mark.parametrize("term", ["salt", "salt pepper", "a&type=users", "50% off #1", "c++ / go?", "café ünïcode"])
@pytest.mark.parametrize("kind", ["posts", "users"])
def test_search_path_carries_the_term_unchanged(kind: str, term: str) -> None:
    path = search_path(kind, term)

    parts = urllib.parse.urlsplit(path)
    assert parts.path == "/search"
    assert urllib.parse.parse_qs(parts.query, strict_parsing=True) == {"type": [kind], "q": [term]}


def test_search_path_of_two_words() -> None:
    assert search_path("posts", "salt pepper") == "/search?type=posts&q=salt%20pepper"


VIEWER = Viewer(user_id=11, session_id=12, token="header.payload.signature", following=3)


def test_a_data_line_is_four_tab_separated_fields() -> None:
    assert line("GET", "/feed", VIEWER) == "GET\t/feed\theader.payload.signature\t"
    assert line("GET", "/posts/5", None) == "GET\t/posts/5\t\t"


def test_a_body_stays_on_its_line_whatever_it_holds() -> None:
    body = {"content": "two\tcolumns\nand two lines"}

    written = line("POST", "/posts", VIEWER, body)

    assert "\n" not in written
    method, path, token, sent = written.split("\t")
    assert (method, path, token) == ("POST", "/posts", "header.payload.signature")
    assert json.loads(sent) == body


def chosen() -> Fixtures:
    people = [Viewer(user_id, user_id + 1000, f"token-{user_id}", 5) for user_id in range(1, 6)]
    return Fixtures(
        typical=people[:2],
        typical_apps=[Viewer(viewer.user_id, viewer.session_id, f"app-{viewer.user_id}", 5) for viewer in people[:2]],
        heavy=people[2:3],
        people=people,
        post_page=[(people[0], 501), (people[1], 502)],
        authors=[1, 2, 3],
        post_ids=[501, 502, 503],
        contents=["first post", "second post"],
        post_terms=["salt", "salt pepper"],
        user_terms=["ali", "bruno42"],
    )


def test_requests_of_every_scenario() -> None:
    requests = requests_of(chosen(), seed=1)

    assert requests["feed-typical"] == ["GET\t/feed\ttoken-1\t", "GET\t/feed\ttoken-2\t"]
    assert requests["mastodon-home"] == [
        "GET\t/api/v1/timelines/home\tapp-1\t",
        "GET\t/api/v1/timelines/home\tapp-2\t",
    ]
    assert requests["web-home"] == ["GET\t/\tcookie=app-1\t", "GET\t/\tcookie=app-2\t"]
    assert requests["feed-heavy"] == ["GET\t/feed\ttoken-3\t"]
    assert requests["post"] == ["GET\t/posts/501\ttoken-1\t", "GET\t/posts/502\ttoken-2\t"]
    assert requests["user-posts"] == [
        "GET\t/users/1/posts\ttoken-1\t",
        "GET\t/users/2/posts\ttoken-2\t",
        "GET\t/users/3/posts\ttoken-3\t",
    ]
    assert requests["search-posts"] == [
        "GET\t/search?type=posts&q=salt\ttoken-1\t",
        "GET\t/search?type=posts&q=salt%20pepper\ttoken-2\t",
    ]
    assert requests["search-users"][1] == "GET\t/search?type=users&q=bruno42\ttoken-2\t"
    assert requests["create-post"][1] == 'POST\t/posts\ttoken-2\t{"content": "second post"}'
    assert len(requests["like"]) == 30_000
    assert {entry.split("\t")[1] for entry in requests["like"]} == {f"/posts/{post}/likes" for post in (501, 502, 503)}


def test_requests_of_a_seed_are_the_same() -> None:
    assert requests_of(chosen(), seed=1) == requests_of(chosen(), seed=1)
    assert requests_of(chosen(), seed=1)["like"] != requests_of(chosen(), seed=2)["like"]


def test_a_data_file_has_one_request_per_line(tmp_path: Path) -> None:
    lines = requests_of(chosen(), seed=1)["search-posts"]

    path = fixtures.write(tmp_path, "search-posts", lines)

    assert path == tmp_path / "search-posts.tsv"
    assert path.read_text() == (
        "GET\t/search?type=posts&q=salt\ttoken-1\t\nGET\t/search?type=posts&q=salt%20pepper\ttoken-2\t\n"
    )
