"""How the API's captured SQL becomes a pgbench script: the raw-SQL side of the headline ratio."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from load import statements, tools
from load.statements import Captured, CaptureError, pgbench_script

from tests.fixtures.accounts import make_account
from tests.fixtures.content import post
from townsquare.config import Settings

# As SQLAlchemy hands them to psycopg for GET /posts/{id} (bench/results/*.json holds the script).
AUTHENTICATION = Captured(
    "SELECT user_account.id, user_account.username \n"
    "FROM user_account JOIN refresh_session ON refresh_session.user_id = user_account.id \n"
    "WHERE refresh_session.id = %(id_1)s::BIGINT AND user_account.id = %(id_2)s::BIGINT "
    "AND refresh_session.expires_at > now()",
    {"id_1": 1852625984553897, "id_2": 1649778950240200},
)
POST_PAGE = Captured(
    "SELECT post.id, EXISTS (SELECT * \nFROM post_like \n"
    "WHERE post_like.post_id = post.id AND post_like.user_id = %(user_id_1)s::BIGINT) AS liked_by_me \n"
    "FROM post \nWHERE post.id = %(id_1)s::BIGINT",
    {"user_id_1": 1649778950240200, "id_1": 1719784751223673},
)


def test_a_request_becomes_one_transaction_with_its_parameters_bound() -> None:
    script = pgbench_script([AUTHENTICATION, POST_PAGE])

    assert script == (
        "BEGIN;\n"
        "\\set s0_id_1 1852625984553897\n"
        "\\set s0_id_2 1649778950240200\n"
        "SELECT user_account.id, user_account.username \n"
        "FROM user_account JOIN refresh_session ON refresh_session.user_id = user_account.id \n"
        "WHERE refresh_session.id = :s0_id_1::BIGINT AND user_account.id = :s0_id_2::BIGINT "
        "AND refresh_session.expires_at > now();\n"
        "\\set s1_user_id_1 1649778950240200\n"
        "\\set s1_id_1 1719784751223673\n"
        "SELECT post.id, EXISTS (SELECT * \nFROM post_like \n"
        "WHERE post_like.post_id = post.id AND post_like.user_id = :s1_user_id_1::BIGINT) AS liked_by_me \n"
        "FROM post \nWHERE post.id = :s1_id_1::BIGINT;\n"
        "COMMIT;\n"
    )


def test_the_same_parameter_name_in_two_statements_keeps_each_value() -> None:
    # SQLAlchemy numbers parameters per statement: both statements bind an `id_1`.
    script = pgbench_script([AUTHENTICATION, POST_PAGE])

    assert "\\set s0_id_1 1852625984553897" in script
    assert "\\set s1_id_1 1719784751223673" in script
    assert "post.id = :s1_id_1::BIGINT" in script


def test_every_variable_the_statements_read_is_set_before() -> None:
    script = pgbench_script([AUTHENTICATION, POST_PAGE])

    defined: set[str] = set()
    for line in script.splitlines():
        if line.startswith("\\set "):
            defined.add(line.split()[1])
            continue
        # `::BIGINT` is a cast, not a variable.
        used = set(re.findall(r"(?<!:):([A-Za-z_]\w*)", line))
        assert used <= defined, f"{sorted(used - defined)} read before any \\set in {line!r}"
    assert "%(" not in script


def test_a_parameter_used_twice_is_replaced_twice() -> None:
    captured = Captured("SELECT %(limit_1)s + %(limit_1)s", {"limit_1": 20})

    assert pgbench_script([captured]) == "BEGIN;\n\\set s0_limit_1 20\nSELECT :s0_limit_1 + :s0_limit_1;\nCOMMIT;\n"


def test_escaped_percent_signs_and_trailing_semicolons_are_undone() -> None:
    captured = Captured("  SELECT 'a%%' LIKE 'a%%' WHERE %(n)s > 0 ;  \n", {"n": 1})

    assert pgbench_script([captured]) == "BEGIN;\n\\set s0_n 1\nSELECT 'a%' LIKE 'a%' WHERE :s0_n > 0 ;\nCOMMIT;\n"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "true"), (False, "false"), (0, "0"), (-7, "-7"), (9223372036854775807, "9223372036854775807")],
)
def test_numbers_and_booleans_are_written_as_pgbench_constants(value: int, shown: str) -> None:
    # bool is a subclass of int: True must not become 1.
    script = pgbench_script([Captured("SELECT %(v)s", {"v": value})])

    assert f"\\set s0_v {shown}\n" in script


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("it's", "str"),
        (None, "NoneType"),
        (1.5, "float"),
        (datetime(2026, 1, 2, tzinfo=UTC), "datetime"),
        ([1, 2], "list"),
    ],
)
def test_a_parameter_pgbench_cannot_hold_is_refused_not_rendered(value: Any, kind: str) -> None:
    # A \set of text would be parsed by pgbench as an expression: better no script than other SQL.
    with pytest.raises(CaptureError, match=rf"cannot pass a {kind} parameter"):
        pgbench_script([AUTHENTICATION, Captured("SELECT %(v)s", {"v": value})])


def test_pgbench_itself_parses_the_script(tmp_path: Path) -> None:
    try:
        pgbench = tools.pgbench()
    except tools.ToolMissing:
        pytest.skip("no pgbench here")
    script = tmp_path / "000.sql"
    script.write_text(pgbench_script([AUTHENTICATION, POST_PAGE, Captured("SELECT %(b)s", {"b": True})]))

    # pgbench reads its scripts before it connects: a server that is not there means the script parsed.
    result = subprocess.run(
        [pgbench, "--no-vacuum", "--protocol=prepared", f"--file={script}@1", f"host={tmp_path} dbname=none"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode != 0
    assert "connection to server" in result.stderr, result.stderr
    assert "error found here" not in result.stderr


def test_a_read_without_transaction_is_a_script_without_one() -> None:
    script = pgbench_script([replace(AUTHENTICATION, autocommit=True), replace(POST_PAGE, autocommit=True)])

    assert "BEGIN" not in script
    assert "COMMIT" not in script
    assert script.count(";\n") == 2


async def test_captured_reads_run_as_the_api_runs_them(settings: Settings, client: AsyncClient, app: FastAPI) -> None:
    # The raw-SQL side of the ratio makes the round trips the API makes: GET requests run their
    # statements in autocommit mode (no BEGIN and COMMIT), a search its explicit block.
    author = await make_account(client)
    made = await post(client, author, "captured words")
    requests = {
        "feed": [("/feed", author.access_token)],
        "post": [(f"/posts/{made['id']}", author.access_token)],
        "search": [("/search?type=posts&q=words", author.access_token)],
    }
    assert settings.database_url is not None
    captured = await statements.capture_async(settings.database_url, settings.jwt_secret(), requests)

    for name in ("feed", "post"):
        (request,) = captured[name]
        # One hot read that checks the token's session itself (townsquare.db.hot, auth.gate),
        # which pgbench replays as it is.
        assert len(request) == 1, name
        assert request[0].autocommit, name
        assert "refresh_session" in request[0].statement, name
        assert "BEGIN" not in pgbench_script(request)
    (search,) = captured["search"]
    sent = [statement.statement for statement in search]
    assert (sent[1], sent[-1]) == ("BEGIN", "COMMIT")  # after the token's session
