"""Reading py-spy's raw (collapsed) stacks: where the API's Python time goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from load.profile import summarize

# As `py-spy record --subprocesses --format raw` writes them: root first, leaf last, then a count.
# The command line of a process may hold spaces and ';'.
UVICORN = 'process 101:"python -m uvicorn app --workers 2; echo x"'
WORKER = 'process 102:"python -c from multiprocessing.spawn import spawn_main; spawn_main()"'
RAW = "\n".join(
    [
        f"{UVICORN};{WORKER};run (asyncio/runners.py:118);home_feed (townsquare/feed/router.py:20);"
        "home_page (townsquare/feed/service.py:31);feed (townsquare/feed/repository.py:44);"
        "_send_query_prepared (psycopg/_cursor_base.py:333) 50",
        f"{UVICORN};{WORKER};run (asyncio/runners.py:118);home_feed (townsquare/feed/router.py:20);"
        "home_page (townsquare/feed/service.py:31);post_view (townsquare/posts/schemas.py:12);"
        "_format_timestamp (townsquare/kit/schemas.py:8) 20",
        # A recursive app function counts once per sample in its total time.
        f"{UVICORN};run (asyncio/runners.py:118);walk (townsquare/kit/tree.py:5);"
        "walk (townsquare/kit/tree.py:9);walk (townsquare/kit/tree.py:9) 10",
        # Full file names (--full-filenames) are read too, and shortened.
        "run (/usr/lib/python3.11/asyncio/runners.py:118);"
        "execute (/srv/.venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py:1400) 15",
        "wait (threading.py:320) 5",
        "",
        "not a stack line",
        f"{UVICORN} 7",
        "cut off;in the middle (psycopg/x.py:1) ",
    ]
)


def summary(tmp_path: Path, top: int = 15) -> dict[str, Any]:
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text(RAW + "\n")
    return summarize(collapsed, top=top)


def test_samples_are_the_counts_of_stacks_with_a_python_frame(tmp_path: Path) -> None:
    # The process-only line (7) and the lines without a count are not samples.
    assert summary(tmp_path)["samples"] == 50 + 20 + 10 + 15 + 5


def test_self_time_goes_to_the_library_of_the_innermost_frame(tmp_path: Path) -> None:
    assert summary(tmp_path)["self_by_library"] == [
        ("psycopg", 50.0),
        ("townsquare (app code)", 30.0),
        ("SQLAlchemy", 15.0),
        ("other (stdlib, C code)", 5.0),
    ]


def test_top_functions_by_self_time_are_named_without_line_numbers(tmp_path: Path) -> None:
    assert summary(tmp_path)["top_self"] == [
        ("_send_query_prepared (psycopg/_cursor_base.py)", 50.0),
        ("_format_timestamp (kit/schemas.py)", 20.0),
        ("execute (engine/base.py)", 15.0),
        ("walk (kit/tree.py)", 10.0),
        ("wait (threading.py)", 5.0),
    ]


def test_app_functions_by_total_time_include_what_they_call(tmp_path: Path) -> None:
    assert dict(summary(tmp_path)["top_total"]) == {
        "home_feed (feed/router.py)": 70.0,
        "home_page (feed/service.py)": 70.0,
        "feed (feed/repository.py)": 50.0,
        "post_view (posts/schemas.py)": 20.0,
        "_format_timestamp (kit/schemas.py)": 20.0,
        "walk (kit/tree.py)": 10.0,
    }


def test_top_limits_the_function_lists(tmp_path: Path) -> None:
    found = summary(tmp_path, top=2)

    assert found["top_self"] == [
        ("_send_query_prepared (psycopg/_cursor_base.py)", 50.0),
        ("_format_timestamp (kit/schemas.py)", 20.0),
    ]
    assert len(found["top_total"]) == 2


def test_an_empty_profile_has_no_shares(tmp_path: Path) -> None:
    collapsed = tmp_path / "profile.txt"
    collapsed.write_text("")

    assert summarize(collapsed) == {"samples": 0, "self_by_library": [], "top_self": [], "top_total": []}
